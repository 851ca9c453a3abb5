export * from "./service-accounts";
