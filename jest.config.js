/** Jest runs TypeScript through SWC: type checking is `npm run typecheck`'s job. */
module.exports = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["@swc/jest"] },
  testMatch: ["**/?(*.)test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/\\.local/"],
  // Suites that start servers (Postgres, ZetaSQL, MariaDB) need more than the default 5 s.
  testTimeout: 120000,
  // Most suites wait on servers they start, not on a core: two workers even on two cores (Jest's
  // default, cores - 1, runs them one by one there) take the whole suite from 13 to 4.5 minutes.
  maxWorkers: Math.max(2, require("node:os").availableParallelism() - 1),
};
