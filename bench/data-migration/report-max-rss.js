// Preloaded into the migration process by the benchmark (node --require): writes the process's peak
// resident set size (process.resourceUsage().maxRSS, in KiB) to SYNTER_MAXRSS_FILE on exit.
const { writeFileSync } = require("node:fs");
process.on("exit", () => {
  if (process.env.SYNTER_MAXRSS_FILE) {
    writeFileSync(process.env.SYNTER_MAXRSS_FILE, String(process.resourceUsage().maxRSS));
  }
});
