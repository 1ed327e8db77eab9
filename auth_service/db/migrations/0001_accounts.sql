-- Accounts and login sessions (issue 3). Times are unix seconds from the
-- service's clock, never the database's now(), so lifetimes are testable.

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL,                      -- trimmed, as entered
  email_normalized text NOT NULL UNIQUE,    -- lower-cased, used for lookups
  first_name text NOT NULL,
  last_name text NOT NULL,
  password_hash text NOT NULL,              -- Argon2id PHC string
  roles text[] NOT NULL DEFAULT ARRAY['user'],
  is_active boolean NOT NULL DEFAULT true,
  is_verified boolean NOT NULL DEFAULT false,
  failed_logins integer NOT NULL DEFAULT 0,
  locked_until bigint NOT NULL DEFAULT 0,   -- unix seconds (the app's clock)
  created_at bigint NOT NULL,               -- unix seconds (the app's clock)
  updated_at bigint NOT NULL
);

CREATE TABLE refresh_families (               -- one per login session
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,               -- absolute lifetime
  revoked_at bigint                         -- null while live
);
CREATE INDEX refresh_families_user_id ON refresh_families(user_id);

CREATE TABLE refresh_tokens (
  token_hash bytea PRIMARY KEY,             -- SHA-256 of the opaque token
  family_id uuid NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,               -- idle lifetime
  used_at bigint                            -- set once, when rotated
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens(family_id);

CREATE TABLE server_secrets (               -- shared by all replicas
  name text PRIMARY KEY,
  value bytea NOT NULL
);
