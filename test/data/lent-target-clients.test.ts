/**
 * The main thread's target connections (`LentTargetClients`): a job takes an idle connection or
 * opens one, gives it back when done, and a failed job's connection is ended, never lent again.
 * Held against a real Postgres by backend pids.
 */
import { LentTargetClients } from "../../src/data/postgres-sink";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../support/embedded-postgres";

describe("connections the main thread lends to its short jobs", () => {
  let pg: EmbeddedPostgres;
  let url: string;

  beforeAll(async () => {
    pg = await startEmbeddedPostgres();
    url = await pg.createDatabase("lent");
  });

  afterAll(async () => {
    await pg?.stop();
  });

  /** `test` with a fresh set of lent connections, closed after it. */
  async function withClients<T>(test: (clients: LentTargetClients) => Promise<T>): Promise<T> {
    const clients = new LentTargetClients(url);
    try {
      return await test(clients);
    } finally {
      await clients.close();
    }
  }

  const pidOf = (clients: LentTargetClients) =>
    clients.use(
      async (client) =>
        (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid,
    );

  /**
   * The database's sessions (this query's own among them) once they number `expected`, or after
   * 5 s, whatever they number then: a backend leaves pg_stat_activity a moment after its client
   * has closed the socket.
   */
  function sessionsSettleAt(expected: number): Promise<number> {
    return withClients(async (clients) => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const n = await clients.use(
          async (client) =>
            (
              await client.query<{ n: number }>(
                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database()",
              )
            ).rows[0].n,
        );
        if (n === expected || Date.now() > deadline) return n;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
  }

  test("jobs one after another share one connection; jobs at once get one each", () =>
    withClients(async (clients) => {
      const first = await pidOf(clients);
      expect(await pidOf(clients)).toBe(first);
      const [a, b] = await Promise.all([pidOf(clients), pidOf(clients)]);
      expect(new Set([a, b, first]).size).toBe(2);
      expect([a, b]).toContain(first);
      // Both are idle again: the next two jobs at once reuse them.
      const [c, d] = await Promise.all([pidOf(clients), pidOf(clients)]);
      expect(new Set([c, d])).toEqual(new Set([a, b]));
    }));

  test("a failed job's connection is ended and the next job gets a new one", () =>
    withClients(async (clients) => {
      const first = await pidOf(clients);
      await expect(
        clients.use((client) => client.query("SELECT * FROM no_such_table")),
      ).rejects.toThrow('relation "no_such_table" does not exist');
      expect(await pidOf(clients)).not.toBe(first);
    }));

  test("close ends the idle connections, and a job lent out ends its own when done", async () => {
    const clients = new LentTargetClients(url);
    let release!: () => void;
    const held = clients.use(() => new Promise<void>((resolve) => (release = resolve)));
    await pidOf(clients); // a second connection, idle once this returns
    expect(await sessionsSettleAt(3)).toBe(3); // the two lent ones and the counting one
    await clients.close();
    expect(await sessionsSettleAt(2)).toBe(2); // the held one and the counting one
    release();
    await held;
    expect(await sessionsSettleAt(1)).toBe(1);
    await expect(pidOf(clients)).rejects.toThrow("LentTargetClients used after close");
  });
});
