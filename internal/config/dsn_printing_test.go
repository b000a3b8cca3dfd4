package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// dsnPassword is the database password of the tests below.
const dsnPassword = "Sekr1t-DB-pw"

// TestDSNNeverPrints: database.dsn holds the database password, so no way
// fmt, log/slog, encoding/json or Redacted print a config shows it.
func TestDSNNeverPrints(t *testing.T) {
	dsn := "postgres://rampart:" + dsnPassword + "@db.example.net/rampart?sslmode=verify-full"
	cfg, err := Parse([]byte(valid("[database]", `driver = "postgres"`, `dsn = "`+dsn+`"`)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := cfg.DatabaseDSN(); err != nil || got != dsn {
		t.Fatalf("DatabaseDSN() = %q, %v", got, err)
	}
	var out strings.Builder
	for _, v := range []any{cfg, *cfg, cfg.Database, cfg.Database.DSN} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cfg", cfg, "db", cfg.Database, "dsn", cfg.Database.DSN)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg, "db", cfg.Database, "dsn", cfg.Database.DSN)
	out.WriteString(logged.String())
	out.WriteString(cfg.Redacted())
	for _, form := range []string{dsnPassword, fmt.Sprintf("%x", dsnPassword), "db.example.net/rampart"} {
		if strings.Contains(out.String(), form) {
			t.Errorf("the DSN prints (%q):\n%s", form, out.String())
		}
	}
	if !strings.Contains(cfg.Redacted(), `dsn = "[redacted]"`) {
		t.Errorf("Redacted does not show dsn as [redacted]:\n%s", cfg.Redacted())
	}
}

// A dsn line that is not valid TOML: the parser would quote part of it, so
// the error names the key and shows no value.
func TestSyntaxErrorDoesNotEchoDSN(t *testing.T) {
	for _, line := range []string{
		"dsn = " + dsnPassword,
		"dsn = password=" + dsnPassword,
		`dsn = "host=db password=` + dsnPassword,
		`dsn = "a" ` + dsnPassword,
		"database.dsn = " + dsnPassword,
	} {
		_, err := Parse([]byte(valid("[database]", `driver = "postgres"`, line)), nil)
		if err == nil || strings.Contains(err.Error(), dsnPassword) || strings.Contains(err.Error(), "Sekr") ||
			!strings.Contains(err.Error(), "the database.dsn value is not valid TOML") {
			t.Errorf("%s: err = %v", line, err)
		}
	}
	// dsn_file is a path, not a secret: its syntax errors are shown as they are.
	_, err := Parse([]byte(valid("[database]", `driver = "postgres"`, "dsn_file = /etc/rampart/x")), nil)
	if err == nil || strings.Contains(err.Error(), "database.dsn value") || !strings.Contains(err.Error(), "expected value") {
		t.Errorf("dsn_file: err = %v", err)
	}
}
