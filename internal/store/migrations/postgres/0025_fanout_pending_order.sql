-- The fan-out job takes pending statuses oldest first, of every author:
-- without this index each batch read and sorted the whole backlog while
-- holding the writer (20,000 pending took 1.3 s to drain).
CREATE INDEX fanout_pending_status ON fanout_pending (status_id);
