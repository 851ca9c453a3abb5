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
export {
  KEY_ROTATION_PROVIDER_MODULE,
  KeyRotation,
  keyRotationProvider,
  type KeyRotationArgs,
} from "./key-rotation";
export {
  advanceKeyRotation,
  createKeyRotationProvider,
  type KeyRotationInputs,
  type KeyRotationState,
} from "./key-rotation-provider";
