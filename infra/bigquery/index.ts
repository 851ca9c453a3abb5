export * from "./warehouse";
