/**
 * The data migration's BigQuery SQL (the verification checksum of each analytics table), offered
 * to the project's SQL registry so `schema check` analyzes it with ZetaSQL like every view.
 */
import type { ViewTarget } from "../../schema/views";
import type { ProjectSqlSource } from "../zetasql/project-sql";
import { bigQueryChecksumSql } from "./checksum";
import { migrationTables } from "./table-plan";

export function dataMigrationChecksumSources(target: ViewTarget): ProjectSqlSource[] {
  return migrationTables()
    .filter((table) => table.target === "bigquery")
    .map((table) => ({
      name: `data-migration checksum of ${table.name}`,
      file: "src/data/checksum.ts",
      sql: bigQueryChecksumSql(table, `\`${target.project}.${target.dataset}.${table.name}\``, {
        after: 0n,
        upTo: 1000n,
      }),
      dependsOn: [table.name],
    }));
}
