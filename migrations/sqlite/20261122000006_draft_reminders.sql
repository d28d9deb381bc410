-- Drafts remember when their owner was reminded of the coming deletion.
ALTER TABLE drafts ADD COLUMN reminded_at INTEGER;
