-- The transactional mail outbox: a flow writes its mail in the same
-- transaction as the code the mail carries; the dispatcher claims due rows
-- (FOR UPDATE SKIP LOCKED, a lease in claimed_until), sends them after that
-- transaction committed, and marks them. Times are unix seconds from the
-- service's clock.
CREATE TABLE mail_outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  recipient text NOT NULL,
  subject text NOT NULL,
  body text,                                -- NULL once sent or abandoned (one-time codes)
  created_at bigint NOT NULL,
  next_attempt_at bigint NOT NULL,          -- due from then on
  attempts integer NOT NULL DEFAULT 0,      -- claims so far
  claimed_until bigint NOT NULL DEFAULT 0,  -- lease: a sender holds the row until then
  last_attempt_at bigint,
  sent_at bigint,                           -- the server accepted it
  abandoned_at bigint,                      -- refused for good (5xx) or out of attempts
  last_error text                           -- short, never the body
);
-- The claim: pending rows by due time.
CREATE INDEX mail_outbox_pending ON mail_outbox(next_attempt_at)
  WHERE sent_at IS NULL AND abandoned_at IS NULL;
-- The purge: finished rows by when they finished.
CREATE INDEX mail_outbox_finished ON mail_outbox((COALESCE(sent_at, abandoned_at)))
  WHERE sent_at IS NOT NULL OR abandoned_at IS NOT NULL;
