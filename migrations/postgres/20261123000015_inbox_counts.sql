-- The inbox shows the count of every tab (up to 100) on every view. "New", "waiting" and "all"
-- were counted from an index alone; "mine" and "overdue" looked up each case row for its
-- state and deadlines (at a million cases, about 0.9 ms of each view on SQLite). These two
-- indexes hold every column those counts read.
CREATE INDEX cases_tab_mine ON cases (assignee_id, postbox_id, state);
CREATE INDEX cases_tab_due ON cases (postbox_id, state, due_at, reply_due_at);
