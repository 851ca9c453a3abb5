/**
 * BigQuery SQL checked and evaluated offline with ZetaSQL. Typical use:
 *
 *   const zeta = await ZetaSql.start();
 *   try {
 *     const analysis = await zeta.analyze(sql);             // default catalog: schema/ tables
 *     const { rows } = await zeta.evaluateQuery(sql, { events: [{ event_name: "x", ts: "…" }] });
 *   } finally {
 *     await zeta.stop();
 *   }
 *
 * Tables are named `project.dataset.table` (default `synter-dev.synter_analytics.<table>`);
 * build other catalogs with `analyticsTableCatalog(target)` or plain `{ tables: [...] }`.
 */
export * from "./analyzer";
export * from "./catalog";
export * from "./check";
export * from "./project-sql";
export * from "./views";
export {
  runServer,
  startZetaSqlServer,
  findFreePort,
  ZetaSqlServiceError,
  type ZetaSqlServer,
} from "./server";
export type { TypeProto, ValueProto } from "./proto-types";
export {
  toValueProto,
  fromValueProto,
  encodeNumeric,
  decodeNumeric,
  toTypeProto,
  type SqlType,
  type SqlScalarType,
  type SqlRow,
  type SqlValue,
} from "./values";
