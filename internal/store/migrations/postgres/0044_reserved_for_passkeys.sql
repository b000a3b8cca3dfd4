-- Placeholder: number 0044 is helper "passkeys"' migration (0044_passkeys.sql).
-- This branch (settings, 0046) needs an unbroken sequence to run alone;
-- delete this file when merging the passkeys branch.
SELECT 1;
