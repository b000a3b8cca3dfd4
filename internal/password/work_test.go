package password

import (
	"context"
	"testing"
)

// Work counts every argon2id derivation at its own cost, so a check that a
// Burn costs what a Verify costs can be made without timing anything.
func TestWorkCountsEveryDerivation(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fast, 1)
	unit := uint64(fast.MemoryKiB) * uint64(fast.Time)
	enc, _ := h.Hash(ctx, "correct horse battery")
	if h.Work() != unit {
		t.Fatalf("after Hash: %d, want %d", h.Work(), unit)
	}
	h.Verify(ctx, enc, "wrong")
	if h.Work() != 2*unit {
		t.Fatalf("after Verify: %d, want %d", h.Work(), 2*unit)
	}
	h.Burn(ctx, "anything")
	if h.Work() != 3*unit {
		t.Fatalf("after Burn: %d, want %d (a Burn must cost a Verify)", h.Work(), 3*unit)
	}
	// Verify runs at the stored hash's cost, which may differ from the hasher's.
	old, _ := NewHasher(Params{MemoryKiB: 9 * 1024, Time: 2, Threads: 1}, 1).Hash(ctx, "pw")
	h.Verify(ctx, old, "pw")
	if h.Work() != 3*unit+9*1024*2 {
		t.Errorf("Verify of an older hash: %d", h.Work()-3*unit)
	}
}
