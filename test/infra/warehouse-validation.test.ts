/** The Warehouse's and the other components' argument checks, called directly. */
import { validateWarehouseArgs, type WarehouseArgs } from "../../infra/bigquery";
import { roleSlug, serviceAccountId, validateServiceAccountsArgs } from "../../infra/identity";
import { validateGcpProjectArgs } from "../../infra/project";
import { analyticsTableList } from "../../schema/analytics";
import { warehouseViews } from "../../infra/platform";

const base: WarehouseArgs = {
  projectId: "synter-dev",
  datasetId: "synter_analytics",
  location: "US",
  description: "d",
  labels: {},
  tables: analyticsTableList,
  views: warehouseViews("synter-dev", "synter_analytics"),
  protect: false,
  apiDependencies: [],
};

test("the real tables and views are valid", () => {
  expect(validateWarehouseArgs(base)).toEqual([]);
});

test("every problem at once", () => {
  const [first, second] = base.views;
  expect(
    validateWarehouseArgs({
      ...base,
      datasetId: "bad-id",
      requirePartitionFilter: ["touchpoints", "nope"],
      views: [
        { ...second, name: "events" },
        { name: "reader", description: "", query: "  ", dependsOn: ["later", "missing"] },
        { ...first, name: "later" },
      ],
    }),
  ).toEqual([
    'dataset id "bad-id" must be letters, digits and underscores',
    '"events" is defined twice (tables and views share one namespace)',
    "requirePartitionFilter names unknown table nope",
    "view events reads touchpoints, which requires a partition filter the view does not apply",
    "view reader has no SQL",
    "view reader reads view later, which comes later",
    "view reader reads missing, which is neither a table nor a view",
    "view later reads touchpoints, which requires a partition filter the view does not apply",
  ]);
});

test("a partition filter on a table no view reads is fine", () => {
  expect(validateWarehouseArgs({ ...base, requirePartitionFilter: ["events"] })).toEqual([]);
});

test("service account ids and role slugs", () => {
  expect(serviceAccountId("workers", "-pr-1234567")).toBe("synter-workers-pr-1234567");
  expect(roleSlug("roles/bigquery.dataViewer")).toBe("bigquery-dataviewer");
  const resource = {} as never;
  expect(
    validateServiceAccountsArgs({
      projectId: "p",
      datasetId: "d",
      accountIdSuffix: "-pull-request-123456789",
      iamApi: resource,
      projectIamApi: resource,
      bigqueryApi: resource,
    }),
  ).toEqual([
    'service account id "synter-api-pull-request-123456789" must be 6–30 of a-z, 0-9 and -',
    'service account id "synter-workers-pull-request-123456789" must be 6–30 of a-z, 0-9 and -',
  ]);
});

test("project arguments", () => {
  expect(
    validateGcpProjectArgs({
      projectId: "Bad",
      create: { name: "n", billingAccount: "b", folderId: "1", orgId: "2" },
      extraApis: { bigquery: "bigquery.googleapis.com", sql: "sqladmin" },
      labels: {},
      protect: false,
    }),
  ).toEqual([
    'projectId "Bad" is not a GCP project id',
    "a new project needs exactly one of folderId and orgId",
    "extra API bigquery is already a core API",
    'extra API sql: "sqladmin" is not a *.googleapis.com service',
  ]);
});
