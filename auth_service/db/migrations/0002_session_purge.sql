-- Lets the session janitor find ended login sessions without a full scan:
-- past their absolute lifetime, or revoked (logout, reuse detection).
-- Deleting a family deletes its tokens (ON DELETE CASCADE).
-- Migrations run in one transaction, so these are plain CREATE INDEX, not
-- CONCURRENTLY: logins and logouts (writes to refresh_families) wait while
-- they build, which takes longer the more sessions are stored.
CREATE INDEX refresh_families_expires_at ON refresh_families(expires_at);
CREATE INDEX refresh_families_revoked_at ON refresh_families(revoked_at)
  WHERE revoked_at IS NOT NULL;
