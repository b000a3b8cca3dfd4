-- A deferred post's search words wait with it and are written by the
-- fan-out job with other posts' (a JSON array): written together, posts
-- share the pages of common words, where each post wrote a page per word
-- (a third of a post's cost).
ALTER TABLE fanout_pending ADD COLUMN words TEXT COLLATE "C" NOT NULL DEFAULT '[]';

-- The fan-out job reads these words (store.pendingBatchPostgres,
-- pendingWordsFromPostgres) where SQLite's text uses json_valid and
-- json_each with type 'text': the strings of a JSON array, and nothing for
-- any other text. A row that is not valid JSON (only pendingWords writes
-- them, but a database edited by hand may hold anything) yields nothing
-- rather than an error that would stop every author's fan-out: PostgreSQL 15
-- has no test of JSON validity that does not raise, so the cast is caught.
CREATE FUNCTION rampart_json_strings(words TEXT) RETURNS SETOF TEXT
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    doc jsonb;
BEGIN
    BEGIN
        doc := CAST(words AS jsonb);
    EXCEPTION WHEN data_exception THEN
        RETURN;
    END;
    IF jsonb_typeof(doc) = 'array' THEN
        RETURN QUERY SELECT e #>> '{}' FROM jsonb_array_elements(doc) WITH ORDINALITY AS a(e, n)
            WHERE jsonb_typeof(e) = 'string' ORDER BY n;
    END IF;
END;
$$;
