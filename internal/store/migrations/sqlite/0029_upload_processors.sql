-- Which process is processing an upload (its id worker lease's holder): an
-- upload whose process is gone — its lease ended — is failed within
-- seconds by another, where SQLite's one serving process fails them all
-- at its restart. The index keeps that sweep to the uploads in processing.
ALTER TABLE media_attachments ADD COLUMN processed_by TEXT NOT NULL DEFAULT '';
CREATE INDEX media_attachments_processing ON media_attachments (created_at) WHERE state = 'processing';
