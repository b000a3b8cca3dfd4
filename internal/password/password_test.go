package password

import (
	"context"
	"errors"
	"strings"
	"testing"
)

var fast = Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fast, 2)
	enc, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=8192,t=1,p=1$") {
		t.Errorf("PHC string %q", enc)
	}
	if rehash, err := h.Verify(ctx, enc, "correct horse battery"); err != nil || rehash {
		t.Errorf("Verify right password: rehash=%v err=%v", rehash, err)
	}
	if _, err := h.Verify(ctx, enc, "correct horse batterY"); !errors.Is(err, ErrMismatch) {
		t.Errorf("Verify wrong password: %v", err)
	}
	enc2, _ := h.Hash(ctx, "correct horse battery")
	if enc == enc2 {
		t.Error("two hashes of one password are equal: salt missing")
	}
}

func TestRehashOnParameterChange(t *testing.T) {
	ctx := context.Background()
	old, _ := NewHasher(fast, 1).Hash(ctx, "pw-1234567890")
	rehash, err := NewHasher(Params{MemoryKiB: 9 * 1024, Time: 1, Threads: 1}, 1).Verify(ctx, old, "pw-1234567890")
	if err != nil || !rehash {
		t.Errorf("changed params: rehash=%v err=%v", rehash, err)
	}
}

func TestMalformedHashes(t *testing.T) {
	h := NewHasher(fast, 1)
	for _, enc := range []string{"", "plain", "$2a$10$abcdefghijklmnopqrstuv", "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5"} {
		if _, err := h.Verify(context.Background(), enc, "x"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("%q: err = %v, want a malformed-hash error", enc, err)
		}
	}
}

func TestConcurrencyBoundHonoursContext(t *testing.T) {
	h := NewHasher(fast, 1)
	h.slots <- struct{}{} // occupy the only slot
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "x"); err == nil {
		t.Error("Hash ran without a free slot")
	}
}

func BenchmarkVerifyDefault(b *testing.B) {
	ctx := context.Background()
	h := NewHasher(Default, 1)
	enc, _ := h.Hash(ctx, "benchmark password")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Verify(ctx, enc, "benchmark password")
	}
}
