-- A name search within one inbox tab read every case of that name and dropped those in other
-- states (at a million cases, about ten rows read per row shown on the "new" tab). The state
-- is kept beside each search word, so the tabs that are one state ("new", "waiting for the
-- citizen") read exactly the rows they show. The trigger keeps it exact whichever statement
-- changes a case's state.
ALTER TABLE case_search ADD COLUMN state TEXT NOT NULL DEFAULT 'received';
UPDATE case_search s SET state = c.state FROM cases c WHERE c.id = s.case_id AND c.state <> 'received';
CREATE INDEX case_search_state ON case_search (postbox_id, term, state, submitted_at, case_id);
CREATE FUNCTION case_search_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE case_search SET state = NEW.state WHERE case_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER case_search_state AFTER UPDATE OF state ON cases
FOR EACH ROW WHEN (NEW.state IS DISTINCT FROM OLD.state)
EXECUTE FUNCTION case_search_state();
