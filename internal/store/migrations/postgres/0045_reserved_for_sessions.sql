-- Placeholder: number 0045 is helper "sessions"' migration (0045_sessions_security_events.sql).
-- This branch (settings, 0046) needs an unbroken sequence to run alone;
-- delete this file when merging the sessions branch.
SELECT 1;
