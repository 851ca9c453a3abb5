/**
 * The app's side of a deployment: what the Synter API and workers do with the environment a stack
 * hands them (DESIGN §4, §5), done the same way — `new pg.Pool({ connectionString: POSTGRES_URL })`
 * with node-pg's own URL parser, ioredis and a BullMQ queue and worker on `REDIS_URL`.
 *
 * Railway's private network (`<service>.railway.internal`) is routed to the local servers by the
 * caller (`route`); nothing else about the URLs is changed.
 */
import { randomUUID } from "node:crypto";
import { Pool } from "pg";

export interface ContractCheck {
  readonly name: string;
  readonly ms: number;
}

/** Maps a host:port of the app's network to where it answers on this machine. */
export type Route = (host: string, port: number) => { host: string; port: number };

function routed(url: string, route: Route, defaultPort: number): string {
  const parsed = new URL(url);
  const target = route(parsed.hostname, Number(parsed.port || defaultPort));
  parsed.hostname = target.host;
  parsed.port = String(target.port);
  return parsed.toString();
}

async function timed(
  checks: ContractCheck[],
  name: string,
  body: () => Promise<void>,
): Promise<void> {
  const started = Date.now();
  try {
    await body();
  } catch (error) {
    throw new Error(
      `app contract, ${name}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  checks.push({ name, ms: Date.now() - started });
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** The API's statements through the app role (DESIGN §4), leaving no rows behind. */
export async function checkPostgresContract(
  postgresUrl: string,
  route: Route,
  checks: ContractCheck[],
): Promise<void> {
  const pool = new Pool({ connectionString: routed(postgresUrl, route, 5432), max: 2 });
  pool.on("error", () => undefined);
  try {
    await timed(checks, "POSTGRES_URL: node-pg Pool connects over TLS", async () => {
      const { rows } = await pool.query<{ ssl: boolean }>(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
      );
      expectEqual(rows, [{ ssl: true }], "pg_stat_ssl");
    });
    await timed(checks, "POSTGRES_URL: the API's statements", async () => {
      const email = `Rehearsal.${randomUUID()}@Example.com`;
      const user = await pool.query<{ id: string; email: string; role: string }>(
        "INSERT INTO users (email, password_hash, name, role) VALUES ($1, $2, $3, $4) RETURNING *",
        [email, null, "Rehearsal", "viewer"],
      );
      const id = user.rows[0].id;
      try {
        const found = await pool.query(
          "SELECT * FROM users WHERE email = $1 AND is_active = true",
          [email.toLowerCase()],
        );
        expectEqual(found.rows.length, 1, "sign-in with the email in another case");
        const token = randomUUID().replaceAll("-", "").padEnd(64, "0");
        await pool.query(
          "INSERT INTO sessions (user_id, session_token, expires_at, user_agent, ip) VALUES ($1, $2, NOW() + interval '1 hour', $3, $4) RETURNING *",
          [id, token, "synter-rehearsal", "127.0.0.1"],
        );
        const session = await pool.query(
          "SELECT u.email FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.session_token = $1 AND s.expires_at > NOW()",
          [token],
        );
        expectEqual(session.rows, [{ email }], "session lookup");
        const deleted = await pool.query("DELETE FROM sessions WHERE session_token = $1", [token]);
        expectEqual(deleted.rowCount, 1, "sign-out");
      } finally {
        await pool.query("DELETE FROM users WHERE id = $1", [id]);
      }
    });
  } finally {
    await pool.end();
  }
}

/** ioredis and a BullMQ job on the queue Redis; BullMQ needs `noeviction`. */
export async function checkRedisContract(
  redisUrl: string,
  route: Route,
  checks: ContractCheck[],
): Promise<void> {
  const url = routed(redisUrl, route, 6379);
  /* eslint-disable @typescript-eslint/no-require-imports -- dev dependencies, loaded on use */
  const { default: Redis } = require("ioredis") as typeof import("ioredis");
  const bullmq = require("bullmq") as typeof import("bullmq");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", () => undefined);
  try {
    await timed(checks, "REDIS_URL: ioredis, maxmemory-policy noeviction", async () => {
      await redis.connect();
      expectEqual(
        await redis.config("GET", "maxmemory-policy"),
        ["maxmemory-policy", "noeviction"],
        "CONFIG GET maxmemory-policy",
      );
      expectEqual(
        await redis.config("GET", "appendonly"),
        ["appendonly", "yes"],
        "CONFIG GET appendonly",
      );
    });
    await timed(checks, "REDIS_URL: a BullMQ job added and processed", async () => {
      const queueName = `rehearsal-${randomUUID()}`;
      // Options, not a client: BullMQ closes the connections it made itself.
      const parsed = new URL(url);
      const connection = () => ({
        host: parsed.hostname,
        port: Number(parsed.port),
        username: decodeURIComponent(parsed.username) || undefined,
        password: decodeURIComponent(parsed.password) || undefined,
        maxRetriesPerRequest: null,
      });
      const queue = new bullmq.Queue(queueName, { connection: connection() });
      const events = new bullmq.QueueEvents(queueName, { connection: connection() });
      const worker = new bullmq.Worker(
        queueName,
        async (job) => ({ doubled: Number(job.data.n) * 2 }),
        {
          connection: connection(),
        },
      );
      try {
        await events.waitUntilReady();
        const job = await queue.add("double", { n: 21 });
        const result = await job.waitUntilFinished(events, 30_000);
        expectEqual(result, { doubled: 42 }, "job result");
      } finally {
        await worker.close();
        await events.close();
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
      }
    });
  } finally {
    redis.disconnect();
  }
}

/** What the app reads from Redis: for the rehearsal's check of a changed setting. */
export async function redisConfigValue(
  redisUrl: string,
  route: Route,
  key: string,
): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { default: Redis } = require("ioredis") as typeof import("ioredis");
  const redis = new Redis(routed(redisUrl, route, 6379), { maxRetriesPerRequest: 1 });
  redis.on("error", () => undefined);
  try {
    const answer = (await redis.config("GET", key)) as string[];
    return answer[1] ?? "";
  } finally {
    redis.disconnect();
  }
}
