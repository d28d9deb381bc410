-- A name search within one inbox tab read every case of that name and dropped those in other
-- states (at a million cases, about ten rows read per row shown on the "new" tab). The state
-- is kept beside each search word, so the tabs that are one state ("new", "waiting for the
-- citizen") read exactly the rows they show. The trigger keeps it exact whichever statement
-- changes a case's state.
ALTER TABLE case_search ADD COLUMN state TEXT NOT NULL DEFAULT 'received';
UPDATE case_search SET state = (SELECT c.state FROM cases c WHERE c.id = case_search.case_id);
CREATE INDEX case_search_state ON case_search (postbox_id, term, state, submitted_at, case_id);
CREATE TRIGGER case_search_state AFTER UPDATE OF state ON cases
WHEN NEW.state IS NOT OLD.state
BEGIN
    UPDATE case_search SET state = NEW.state WHERE case_id = NEW.id;
END;

-- A citizen's postbox reads cases by account. Cases without an account (seeded data, imports)
-- all share NULL, and ANALYZE then records one value for every row of `cases_user`, so the
-- planner scanned the whole table instead. PostgreSQL's statistics know the NULL fraction; SQLite
-- gets an index that holds only cases with an account.
CREATE INDEX cases_citizen ON cases (user_id, updated_at) WHERE user_id IS NOT NULL;
