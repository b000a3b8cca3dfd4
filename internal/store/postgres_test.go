package store

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testdb"
)

// sslmode is honoured: verify-full against the cluster's test CA connects
// over TLS; against another CA it refuses; and the password is in no
// error.
func TestPostgresTLSIsVerified(t *testing.T) {
	postgresOnly(t, "TLS to the server")
	ctx := context.Background()
	ca := os.Getenv(testdb.EnvPostgresCA)
	if ca == "" {
		t.Fatalf("%s is not set: scripts/postgres sets it beside %s", testdb.EnvPostgresCA, testdb.EnvPostgres)
	}
	u, err := url.Parse(testdb.NewPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	withTLS := func(host, mode, root string) string {
		v := *u
		_, port, _ := strings.Cut(u.Host, ":")
		v.Host = host + ":" + port
		q := v.Query()
		q.Set("sslmode", mode)
		q.Set("sslrootcert", root)
		v.RawQuery = q.Encode()
		return v.String()
	}
	s, err := OpenPostgres(ctx, withTLS("localhost", "verify-full", ca), testPostgresOptions, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("verify-full with the cluster's CA: %v", err)
	}
	var ssl bool
	if err := s.read.QueryRowContext(ctx, `SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&ssl); err != nil || !ssl {
		t.Errorf("the connection is not TLS: %v, %v", ssl, err)
	}
	s.Close()

	for _, c := range []struct{ what, dsn string }{
		{"a CA that did not sign the server's certificate", withTLS("localhost", "verify-full", filepath.Join("testdata", "unrelated-ca.crt"))},
	} {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		_, err := OpenPostgres(ctx, c.dsn, testPostgresOptions, slog.New(slog.DiscardHandler))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: %v; want the certificate refused", c.what, err)
			continue
		}
		if password != "" && strings.Contains(err.Error(), password) {
			t.Errorf("%s: the error shows the password: %v", c.what, err)
		}
	}
}

// Processes starting together on a new database take turns migrating:
// exactly one applies each migration, and every one opens.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	postgresOnly(t, "the migration lock")
	dsn := testdb.NewPostgres(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	stores := make([]*Store, 4)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = OpenPostgres(context.Background(), dsn, testPostgresOptions, slog.New(slog.DiscardHandler))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	all, _ := migrations(dialectPostgres)
	var n, distinct int
	if err := stores[0].read.QueryRowContext(context.Background(), `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != len(all) || distinct != len(all) {
		t.Errorf("schema_migrations holds %d rows, %d versions; want each of %d once", n, distinct, len(all))
	}
}

// A connection string that does not parse is refused without a word of it:
// it may hold the password where no parser can tell.
func TestABadDSNIsNotShown(t *testing.T) {
	for _, dsn := range []string{
		"host=db.example.net Sekr1t-PW_x9",
		"postgres://rampart:Sekr1t-PW_x9@db.example.net:notaport/rampart",
		"postgres://rampart:Sekr1t-PW_x9@[::1/rampart",
	} {
		_, err := OpenPostgres(context.Background(), dsn, testPostgresOptions, slog.New(slog.DiscardHandler))
		if err == nil || strings.Contains(err.Error(), "Sekr1t") || !strings.Contains(err.Error(), "database.dsn") {
			t.Errorf("%q: %v; want an error naming database.dsn and nothing of the string", dsn, err)
		}
	}
}
