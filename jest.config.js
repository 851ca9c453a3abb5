/** Jest runs TypeScript through SWC: type checking is `npm run typecheck`'s job. */
module.exports = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["@swc/jest"] },
  testMatch: ["**/?(*.)test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/\\.local/"],
  // Suites that start servers (Postgres, ZetaSQL, MariaDB) need more than the default 5 s.
  testTimeout: 120000,
};
