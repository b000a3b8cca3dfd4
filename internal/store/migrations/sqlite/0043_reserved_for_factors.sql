-- Placeholder: number 0043 is helper "factors"' migration (0043_second_factors.sql).
-- This branch (passkeys, 0044) needs an unbroken sequence to run alone;
-- delete this file when merging the factors branch.
SELECT 1;
