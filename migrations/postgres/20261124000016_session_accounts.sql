-- The account of a logged-in session, so that the session store reads session and account in
-- one statement (server/src/accounts/pg_session.rs). NULL for anonymous sessions and, until
-- their next write, for sessions from before this migration (those read the account
-- separately). No foreign key: a session outliving its account is simply not logged in.
-- No index: nothing looks sessions up by account. PostgreSQL only: on SQLite, sessions and
-- accounts are read from memory.

ALTER TABLE tower_sessions.session ADD COLUMN user_id TEXT;
