/**
 * Creates the auth database, its roles and grants on a local server from the same declaration
 * the cloud path uses (`schema/roles.ts`), rendered as SQL. Idempotent: a re-run resets the
 * passwords and grants to the declared state and leaves the data alone.
 */
import { Client, type ClientConfig } from "pg";
import { renderAuthRolesSql, type AuthRolesSqlInput } from "../../schema/generate/roles-sql";

/**
 * `superuser(database)` gives the settings of a superuser (or CREATEROLE + CREATEDB login) for a
 * database: the maintenance one for roles and the database, the auth one for grants.
 */
export async function provisionAuthDatabase(
  superuser: (database: string) => ClientConfig,
  input: AuthRolesSqlInput,
): Promise<{ createdDatabase: boolean }> {
  const sql = renderAuthRolesSql(input);
  let createdDatabase = false;
  await withClient(superuser("postgres"), async (client) => {
    for (const statement of sql.roles) await client.query(statement);
    const exists = await client.query(sql.databaseExists.text, [...sql.databaseExists.values]);
    if (exists.rowCount === 0) {
      await client.query(sql.createDatabase);
      createdDatabase = true;
    }
    await client.query(sql.alterDatabaseOwner);
  });
  await withClient(superuser(input.database), async (client) => {
    await client.query("BEGIN");
    try {
      for (const statement of sql.grants) await client.query(statement);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    }
  });
  return { createdDatabase };
}

export async function withClient<T>(
  config: ClientConfig,
  use: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client(config);
  // A server that goes away while the client idles must not crash the process (an unhandled
  // 'error' event): the query in flight, if any, still rejects.
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
