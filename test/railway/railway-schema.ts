export * from "../../src/rehearse/railway-schema";
