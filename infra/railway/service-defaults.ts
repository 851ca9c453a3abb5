/**
 * What the platform's Railway services look like by default. These values are the *program's*
 * defaults, filled into each resource's inputs (infra/railway/resources.ts): a preview shows
 * them, a reviewer can check them, and changing one updates the running service. The providers
 * hold no settings of their own.
 */

/** Railway's Postgres template image: stock Postgres 15 plus a self-signed certificate (SSL on). */
export const RAILWAY_POSTGRES_SSL_IMAGE = "ghcr.io/railwayapp-templates/postgres-ssl:15";
export const REDIS_IMAGE = "redis:7";
export const POSTGRES_MOUNT_PATH = "/var/lib/postgresql/data";
// initdb refuses a non-empty directory and a fresh volume root holds `lost+found`.
export const POSTGRES_PGDATA = `${POSTGRES_MOUNT_PATH}/pgdata`;
export const REDIS_MOUNT_PATH = "/data";
export const POSTGRES_PORT = 5432;
export const REDIS_PORT = 6379;
// Railway stops the old deployment this long after the new one is up: time for a clean shutdown
// (checkpoint, AOF fsync) instead of a kill.
export const DRAINING_SECONDS = 60;
/** A first deployment pulls the image and runs initdb; ten minutes covers a slow region. */
export const READY_TIMEOUT_SECONDS = 600;

/**
 * Redis reads its password from the service variable at start, so the password is never part of
 * the start command (which Railway shows in plain text). BullMQ needs `noeviction`; AOF makes the
 * queue survive restarts (DESIGN §7).
 */
export const REDIS_START_COMMAND =
  '/bin/sh -c \'exec redis-server --requirepass "$REDIS_PASSWORD" --appendonly yes ' +
  `--appendfsync everysec --maxmemory-policy noeviction --dir ${REDIS_MOUNT_PATH}'`;
