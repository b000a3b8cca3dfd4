-- Statuses whose followers' home timelines are still to be written, by
-- author: one fan-out job of an author writes all that are pending, each
-- follower's rows together (one B-tree page each, however many statuses),
-- in chunks of followers so that posts interleave with it.
CREATE TABLE fanout_pending (
    author_id BIGINT NOT NULL,
    status_id BIGINT NOT NULL,
    PRIMARY KEY (author_id, status_id)
);
