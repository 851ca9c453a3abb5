-- The ad-platform OAuth tables, already Postgres-native in the app (uuid ids, text[] scopes,
-- encrypted tokens as bytea, cascade deletes), exactly as schema/auth.ts declares them.
-- Plain SQL for the reason given in the first migration: the checksummed bytes are what runs.
-- gen_random_uuid() is built into Postgres 13+, so no pgcrypto.

-- Up Migration

CREATE TABLE oauth_connections (
  id uuid DEFAULT gen_random_uuid(),
  user_id bigint NOT NULL,
  provider text NOT NULL,
  scopes text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT oauth_connections_pkey PRIMARY KEY (id),
  -- Its leading column also serves the foreign key's look-ups, so user_id needs no own index.
  CONSTRAINT oauth_connections_user_id_provider_key UNIQUE (user_id, provider),
  CONSTRAINT oauth_connections_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT oauth_connections_provider_check CHECK (provider IN ('google', 'reddit', 'x'))
);
CREATE TRIGGER oauth_connections_touch_updated_at BEFORE UPDATE ON oauth_connections
  FOR EACH ROW EXECUTE FUNCTION synter_touch_updated_at();

CREATE TABLE oauth_tokens (
  id uuid DEFAULT gen_random_uuid(),
  connection_id uuid NOT NULL,
  access_token_encrypted bytea NOT NULL,
  refresh_token_encrypted bytea,
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT oauth_tokens_pkey PRIMARY KEY (id),
  CONSTRAINT oauth_tokens_connection_id_key UNIQUE (connection_id),
  CONSTRAINT oauth_tokens_connection_id_fkey FOREIGN KEY (connection_id)
    REFERENCES oauth_connections (id) ON DELETE CASCADE
);
CREATE TRIGGER oauth_tokens_touch_updated_at BEFORE UPDATE ON oauth_tokens
  FOR EACH ROW EXECUTE FUNCTION synter_touch_updated_at();

CREATE TABLE ad_accounts (
  id uuid DEFAULT gen_random_uuid(),
  connection_id uuid NOT NULL,
  platform text NOT NULL,
  external_account_id text NOT NULL,
  name text,
  currency char(3),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ad_accounts_pkey PRIMARY KEY (id),
  CONSTRAINT ad_accounts_connection_id_external_account_id_key
    UNIQUE (connection_id, external_account_id),
  CONSTRAINT ad_accounts_connection_id_fkey FOREIGN KEY (connection_id)
    REFERENCES oauth_connections (id) ON DELETE CASCADE,
  CONSTRAINT ad_accounts_platform_check CHECK (platform IN ('google', 'reddit', 'x'))
);
CREATE TRIGGER ad_accounts_touch_updated_at BEFORE UPDATE ON ad_accounts
  FOR EACH ROW EXECUTE FUNCTION synter_touch_updated_at();

-- Down Migration

DROP TABLE ad_accounts;
DROP TABLE oauth_tokens;
DROP TABLE oauth_connections;
