export { AuthDatabase, AUTH_PASSWORD_LENGTH, type AuthDatabaseArgs } from "./auth-database";
export { postgresConnectionUrl, type PostgresConnection } from "./connection-url";
