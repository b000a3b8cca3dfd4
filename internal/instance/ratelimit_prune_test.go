package instance

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testutil"
)

// The janitor's round deletes the rate-limit windows that have ended and
// keeps the live ones.
func TestJanitorPrunesEndedRateLimitWindows(t *testing.T) {
	cfg := testutil.ProdConfig(t, t.TempDir())
	ctx := context.Background()
	inst, err := Open(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	now := time.Now()
	for key, window := range map[string]time.Duration{"ended": -time.Minute, "live": time.Hour} {
		if _, _, _, err := inst.store.TakeRateLimit(ctx, "test", []byte(key+"           "), 5, window, now); err != nil {
			t.Fatal(err)
		}
	}
	inst.janitorRound(ctx)
	// Counted as of the epoch, every row is in a window that has not ended.
	if n, err := inst.store.RateLimitKeys(ctx, "test", time.UnixMilli(0)); err != nil || n != 1 {
		t.Errorf("after the janitor: %d rows (%v), want the live one", n, err)
	}
}
