-- Account flows (issue 8): one-time codes for password reset and email
-- verification, login throttling keyed by account and client address, and
-- the index ListUsers pages through. Times are unix seconds from the
-- service's clock.

-- A code is deleted when it is spent, so "used" and "unknown" are one case;
-- a newer code of the same kind deletes the older ones. Only the SHA-256 of
-- the code is stored: a copy of this table resets no password.
CREATE TABLE one_time_codes (
  code_hash bytea PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('password_reset', 'email_verification')),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  email text NOT NULL,                      -- the address it was mailed to
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX one_time_codes_user_kind ON one_time_codes(user_id, kind);
CREATE INDEX one_time_codes_expires_at ON one_time_codes(expires_at);

-- Failed logins, keyed by the SHA-256 of the email key (so guessed emails
-- that have no account are throttled the same way, without being stored in
-- clear) and the client address; client '' is the per-account ceiling
-- across all addresses. The janitor deletes rows idle for a day.
CREATE TABLE login_failures (
  account_key bytea NOT NULL,
  client text NOT NULL,
  failures integer NOT NULL,
  locked_until bigint NOT NULL,
  last_failure_at bigint NOT NULL,
  PRIMARY KEY (account_key, client)
);
CREATE INDEX login_failures_last_failure_at ON login_failures(last_failure_at);

-- The old per-user counters are replaced by login_failures.
ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN locked_until;

-- ListUsers pages by (created_at, id).
CREATE INDEX users_created_at_id ON users(created_at, id);

-- One-off data maintenance done in C++ after the SQL migrations (such as
-- re-keying emails when the key rule changes), recorded so it runs once.
CREATE TABLE maintenance_done (
  name text PRIMARY KEY,
  done_at bigint NOT NULL
);
