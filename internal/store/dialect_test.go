package store

import "testing"

func TestToPostgres(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT a FROM t WHERE x = ? AND y = ?`, `SELECT a FROM t WHERE x = $1 AND y = $2`},
		{`SELECT '?', "a?b", x FROM t WHERE y = ? -- why?` + "\n" + `AND z = ?`, `SELECT '?', "a?b", x FROM t WHERE y = $1 -- why?` + "\n" + `AND z = $2`},
		{`SELECT 'it''s ?' WHERE x = ?`, `SELECT 'it''s ?' WHERE x = $1`},
		{`DELETE FROM f WHERE a = ?1 OR b = ?1`, `DELETE FROM f WHERE a = $1 OR b = $1`},
		{`SELECT ?2, ?1, ?`, `SELECT $2, $1, $3`},
		{`SELECT id FROM jobs INDEXED BY jobs_due WHERE run_at <= ?`, `SELECT id FROM jobs WHERE run_at <= $1`},
		{`SELECT v.value FROM json_each(?) v WHERE instr(d, ?) > 0`,
			`SELECT v.value FROM (SELECT CAST(value AS BIGINT) AS value FROM json_array_elements_text(CAST($1 AS json))) v WHERE strpos(d, $2) > 0`},
		{`SELECT 1`, `SELECT 1`},
	} {
		if got := toPostgres(c.in); got != c.want {
			t.Errorf("toPostgres(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestPgArgsTurnsBoolsToNumbers(t *testing.T) {
	in := []any{true, int64(5), false, "x"}
	got := pgArgs(in)
	if got[0] != 1 || got[1] != int64(5) || got[2] != 0 || got[3] != "x" {
		t.Errorf("pgArgs = %#v", got)
	}
	if in[0] != true {
		t.Error("pgArgs changed its caller's slice")
	}
}
