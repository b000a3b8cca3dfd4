// Package testutil holds helpers shared by Rampart's tests: configs for the
// test domains, parsing of security headers, self-signed certificates, nginx
// and a test image. Only _test.go files import it; beyond the config package
// it needs only the standard library and internal/testdb.
package testutil

import (
	"bytes"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/testdb"
)

// Secret is a syntactically valid secret_key for test configs.
const Secret = "dGVzdC1vbmx5LXNlY3JldC10ZXN0LW9ubHktc2VjcmV0LTAx"

// ProdConfigText is a prod config for example.test / media.example.test,
// storing data in dataDir, with extra TOML lines appended at the top level
// (they may open sections).
func ProdConfigText(dataDir string, extra ...string) string {
	lines := []string{
		`env = "prod"`,
		`url = "https://example.test"`,
		`media_url = "https://media.example.test"`,
		`data_dir = "` + dataDir + `"`,
		`secret_key = "` + Secret + `"`,
	}
	return strings.Join(append(lines, extra...), "\n") + "\n"
}

// ProdConfig parses ProdConfigText, failing the test on error. The
// database is the run's engine's (UseTestDatabase).
func ProdConfig(t testing.TB, dataDir string, extra ...string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(ProdConfigText(dataDir, extra...)), nil)
	if err != nil {
		t.Fatalf("test config: %v", err)
	}
	UseTestDatabase(t, cfg)
	return cfg
}

// UseTestDatabase points cfg at the run's engine: in a PostgreSQL run
// (internal/testdb), at a database of the test's own for cfg's SQLite path,
// the same one each time the same path is asked for; otherwise it leaves
// cfg alone.
func UseTestDatabase(t testing.TB, cfg *config.Config) {
	t.Helper()
	if !testdb.Postgres() || cfg.Database.Driver == config.DriverPostgres {
		return
	}
	cfg.Database.Driver = config.DriverPostgres
	cfg.Database.DSN = config.NewSecret(testdb.For(t, cfg.DatabasePath()))
	cfg.Database.MaxConnections = 8
}

// TestDatabaseEnv is the environment that points the binary, run on the
// data directory dataDir, at the run's engine: nothing in a SQLite run.
func TestDatabaseEnv(t testing.TB, dataDir string) []string {
	t.Helper()
	if !testdb.Postgres() {
		return nil
	}
	return []string{
		config.EnvVarPrefix + "DATABASE_DRIVER=" + config.DriverPostgres,
		// The socket: the binary may run in a network namespace of its own.
		config.EnvVarPrefix + "DATABASE_DSN=" + testdb.ViaSocket(testdb.For(t, filepath.Join(dataDir, "rampart.db"))),
		config.EnvVarPrefix + "DATABASE_MAX_CONNECTIONS=8",
	}
}

// ParseCSP splits a Content-Security-Policy into directive → sources.
func ParseCSP(csp string) map[string][]string {
	out := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		out[f[0]] = f[1:]
	}
	return out
}

// WantAppCSP is the instance-host policy the seed and issue require for the
// test domains over https, directive by directive.
var WantAppCSP = map[string][]string{
	"default-src":               {"'none'"},
	"base-uri":                  {"'none'"},
	"frame-ancestors":           {"'none'"},
	"form-action":               {"'self'"},
	"img-src":                   {"'self'", "data:", "blob:", "https://media.example.test"},
	"media-src":                 {"'self'", "https://media.example.test"},
	"style-src":                 {"'self'"},
	"font-src":                  {"'self'"},
	"script-src":                {"'self'"},
	"connect-src":               {"'self'", "wss://example.test"},
	"manifest-src":              {"'self'"},
	"upgrade-insecure-requests": {},
}

// SyncBuffer is a bytes.Buffer safe for a writer goroutine (a logger, a
// child process) and a reading test at once.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
