-- The pending jobs of one host and kind: how many received activities a
-- server has waiting, read on each of its deliveries (inbox.Queue).
CREATE INDEX jobs_host ON jobs (host, kind) WHERE state = 'pending';
