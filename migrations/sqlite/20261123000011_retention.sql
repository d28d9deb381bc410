-- Retention: closed cases are deleted a configurable number of days after they were closed
-- (deployment-wide default, overridable per service).

-- When the case left processing (approved, rejected or closed); NULL while it is open. A
-- reopened case gets NULL again, and the clock starts anew when it is closed again.
ALTER TABLE cases ADD COLUMN closed_at INTEGER;
-- Cases closed before this migration: the time of the last state event that closed them,
-- else their last change.
UPDATE cases SET closed_at = COALESCE(
    (SELECT MAX(e.at) FROM case_events e
     WHERE e.case_id = cases.id AND e.kind IN ('state:approved', 'state:rejected', 'state:closed')),
    updated_at)
WHERE state IN ('approved', 'rejected', 'closed');
CREATE INDEX cases_closed ON cases (service_key, closed_at);

-- Days after closing a case of this service is deleted; NULL: the deployment's default.
ALTER TABLE services ADD COLUMN case_retention_days INTEGER CHECK (case_retention_days IS NULL OR case_retention_days > 0);

-- Payments outlive the case and its notice (they are the authority's bookkeeping): the payment
-- reference of the deleted notice is kept with the payment, the payer's details are not.
ALTER TABLE payments ADD COLUMN notice_reference TEXT;

-- Which documents are still referenced, looked up when a case's files are deleted.
CREATE INDEX case_documents_document ON case_documents (document_id);
CREATE INDEX fee_notices_document ON fee_notices (document_id);
CREATE INDEX payments_suggested ON payments (suggested_notice_id);
