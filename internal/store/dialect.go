package store

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The store's SQL is one text per statement, written in the SQL both engines
// share. SQLite runs it as written; for PostgreSQL, toPostgres rewrites the
// few forms that differ, each a form with one meaning the store uses in one
// way only:
//
//   - "?" placeholders become "$1", "$2", … and "?NNN" becomes "$NNN"
//     (outside quotes and comments);
//   - "INDEXED BY name", a planner hint for SQLite, is dropped (PostgreSQL
//     plans from its statistics);
//   - "json_each(?)" is always a JSON array of ids in this store: it becomes
//     a subquery yielding those ids as BIGINT in a column named value;
//   - "instr(" becomes "strpos(" (same arguments, same result).
//
// Everything else that differs (DDL, triggers, a JSON document's validity)
// is written per engine where it occurs, on Store.postgres.

// dialects name the two engines, as database.driver does.
const (
	dialectSQLite   = "sqlite"
	dialectPostgres = "postgres"
)

var (
	indexedBy = regexp.MustCompile(`(?i)\s+INDEXED\s+BY\s+[A-Za-z_][A-Za-z0-9_]*`)
	jsonIDs   = regexp.MustCompile(`json_each\(\?\)`)
	instr     = regexp.MustCompile(`\binstr\(`)
)

// pgIDList is what json_each(?) becomes: its one parameter is the JSON text
// of an id array, as SQLite's form takes.
const pgIDList = `(SELECT CAST(value AS BIGINT) AS value FROM json_array_elements_text(CAST(? AS json)))`

// translations caches toPostgres: the store's texts are a fixed set.
type translations struct {
	mu   sync.RWMutex
	done map[string]string
}

// maxTranslations bounds the cache as maxPreparedStatements bounds the
// statement cache; a text past it is translated on every call.
const maxTranslations = 4096

func (c *translations) get(q string) string {
	c.mu.RLock()
	pg, ok := c.done[q]
	c.mu.RUnlock()
	if ok {
		return pg
	}
	pg = toPostgres(q)
	c.mu.Lock()
	if c.done == nil {
		c.done = map[string]string{}
	}
	if len(c.done) < maxTranslations {
		c.done[q] = pg
	}
	c.mu.Unlock()
	return pg
}

// toPostgres rewrites one statement for PostgreSQL (see above).
func toPostgres(q string) string {
	q = indexedBy.ReplaceAllString(q, "")
	q = jsonIDs.ReplaceAllLiteralString(q, pgIDList)
	q = instr.ReplaceAllLiteralString(q, "strpos(")
	return numberPlaceholders(q)
}

// numberPlaceholders turns each ? outside string literals, quoted names and
// comments into $1, $2, … in order, and ?NNN into $NNN.
func numberPlaceholders(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			// A quoted run ends at the next unpaired quote ('' escapes one).
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(q))
			b.WriteString(q[i:end])
			i = end - 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j - 1
		case c == '?':
			// ?NNN names its parameter; a bare ? takes the next number
			// after the largest so far, as SQLite numbers them.
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if j > i+1 {
				k, _ := strconv.Atoi(q[i+1 : j])
				n = max(n, k)
				b.WriteByte('$')
				b.WriteString(q[i+1 : j])
				i = j - 1
				continue
			}
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pgArgs adapts arguments for pgx: a Go bool goes to PostgreSQL as 0 or 1,
// since the schema keeps flags in BIGINT columns as SQLite does.
func pgArgs(args []any) []any {
	var out []any
	for i, a := range args {
		if v, ok := a.(bool); ok {
			if out == nil {
				out = slices.Clone(args)
			}
			out[i] = boolInt(v)
		}
	}
	if out == nil {
		return args
	}
	return out
}
