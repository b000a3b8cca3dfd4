package oauth

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/store/storetest"
)

// testLimiterKey stands for accounts.LimiterKey(cfg) in these tests.
var testLimiterKey = []byte("oauth tests' rate-limit key, 32 bytes")

// App registrations from one address count together through two processes
// on one database, and a registration whose limit cannot be counted fails.
func TestAppRegistrationsCountThroughBothProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	var services []*Service
	for range 2 {
		st := storetest.Open(t, path, nil)
		t.Cleanup(func() { st.Close() })
		services = append(services, New(st, id.NewGenerator(), testLimiterKey))
	}
	p := AppParams{Name: "App", RedirectURIs: []string{OOB}, Scopes: "read"}
	for i := range AppsPerWindow {
		if _, _, err := services[i%2].RegisterAppFrom(ctx, "2001:db8:1:2::"+string(rune('a'+i%6)), p); err != nil {
			t.Fatalf("registration %d: %v", i+1, err)
		}
	}
	for _, s := range services {
		_, _, err := s.RegisterAppFrom(ctx, "2001:db8:1:2::ff", p)
		var wait *ratelimit.WaitError
		if !errors.As(err, &wait) {
			t.Errorf("a registration over the limit of the /64: %v, want refused", err)
		}
	}
	if _, _, err := services[1].RegisterAppFrom(ctx, "2001:db8:1:3::1", p); err != nil {
		t.Errorf("another /64: %v", err)
	}
	services[0].store.Close()
	if _, _, err := services[0].RegisterAppFrom(ctx, "192.0.2.1", p); !errors.Is(err, ratelimit.ErrUnavailable) {
		t.Errorf("with the database gone: %v, want the limit's error", err)
	}
}
