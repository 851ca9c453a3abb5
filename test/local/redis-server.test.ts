/**
 * The local Redis on the real `redis-server`: the queue settings BullMQ needs, a password that
 * never appears on the command line, and a clean stop.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import {
  findRedisServer,
  localRedisUrl,
  renderRedisConfig,
  startLocalRedis,
  type LocalRedis,
} from "../../src/local/redis-server";
import { findExecutable } from "../../src/local/executables";
import { freePort } from "../support/embedded-postgres";
import { describeWithBinaries } from "../support/servers";

describe("redis.conf", () => {
  it("sets noeviction and AOF, binds to loopback, holds the password, names its pid file", () => {
    expect(renderRedisConfig({ dataDir: "/d", port: 6390, password: "s3cret" })).toBe(
      [
        "bind 127.0.0.1",
        "port 6390",
        "dir /d",
        "daemonize no",
        "pidfile /d/redis.pid",
        "logfile /d/redis.log",
        "maxmemory-policy noeviction",
        "appendonly yes",
        "appendfsync everysec",
        "requirepass s3cret",
        "",
      ].join("\n"),
    );
  });
});

describeWithBinaries(["redis-server"])("local redis-server", () => {
  let dir: string;
  let redis: LocalRedis | undefined;
  const password = "f00dfeed".repeat(6);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "synter-redis-test-"));
    redis = await startLocalRedis(findRedisServer()!, {
      dataDir: join(dir, "redis"),
      port: await freePort(),
      password,
    });
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs with maxmemory-policy noeviction and appendonly yes", () => {
    expect(redis!.settings).toEqual({ maxmemoryPolicy: "noeviction", appendonly: "yes" });
  });

  it("keeps the password off the command line and in an owner-only config file", () => {
    const cmdline = readFileSync(`/proc/${redis!.pid}/cmdline`, "utf8");
    expect(cmdline).not.toContain(password);
    expect(cmdline).toContain("redis-server");
    expect(statSync(join(dir, "redis", "redis.conf")).mode & 0o777).toBe(0o600);
  });

  it("refuses clients without the password and serves those with it", async () => {
    // A raw socket: what any client without the password gets.
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(redis!.port, "127.0.0.1", () => socket.write("SET k v\r\n"));
      socket.once("data", (data) => {
        socket.destroy();
        resolve(data.toString("utf8"));
      });
      socket.once("error", reject);
    });
    expect(reply).toBe("-NOAUTH Authentication required.\r\n");
    const client = new Redis({ port: redis!.port, password, lazyConnect: true });
    await client.connect();
    expect(await client.set("k", "v")).toBe("OK");
    await client.quit();
  });

  it("gives a URL both redis-cli and ioredis accept", async () => {
    const url = localRedisUrl(password, redis!.port);
    expect(url).toBe(`redis://default:${password}@127.0.0.1:${redis!.port}`);
    const client = new Redis(url, { lazyConnect: true });
    await client.connect();
    expect(await client.ping()).toBe("PONG");
    await client.quit();
  });

  (findExecutable("redis-cli") ? it : it.skip)(
    "redis-cli authenticates with the URL (7.0 rejects the empty-user form)",
    () => {
      const ping = spawnSync(
        findExecutable("redis-cli")!,
        ["--no-auth-warning", "-u", localRedisUrl(password, redis!.port), "PING"],
        { encoding: "utf8", timeout: 10_000 },
      );
      expect([ping.status, ping.stdout, ping.stderr]).toEqual([0, "PONG\n", ""]);
    },
  );

  it("stops cleanly, leaving the append-only file behind and removing its pid file", async () => {
    const pid = redis!.pid;
    const pidFile = join(dir, "redis", "redis.pid");
    expect(readFileSync(pidFile, "utf8").trim()).toBe(String(pid));
    await redis!.stop();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(join(dir, "redis", "appendonlydir"))).toBe(true);
    expect(existsSync(pidFile)).toBe(false);
    redis = undefined;
  });
});
