export {
  APP_SERVICES,
  AppCredentials,
  CREDENTIALS_JSON_VARIABLE,
  KEY_SLOTS,
  decodeKeyFile,
  keyRotationPlan,
  type AppCredentialsArgs,
  type AppService,
  type KeyRotationPlan,
  type KeySlot,
} from "./app-credentials";
