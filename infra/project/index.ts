export * from "./gcp-project";
