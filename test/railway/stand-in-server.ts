export * from "../../src/rehearse/railway-stand-in";
