package password

import (
	"context"
	"strings"
	"testing"
)

// documented are the argon2id parameters docs/hardening.md promises (OWASP's
// recommendation); Default may be stronger, never weaker.
var documented = struct {
	memoryKiB, time uint32
	threads         uint8
	salt, key       int
}{memoryKiB: 19 * 1024, time: 2, threads: 1, salt: 16, key: 32}

// TestDefaultParamsAreNotWeakerThanDocumented checks Default and what a hash
// made with it stores: memory, iterations, parallelism, salt and key length.
func TestDefaultParamsAreNotWeakerThanDocumented(t *testing.T) {
	if Default.MemoryKiB < documented.memoryKiB || Default.Time < documented.time || Default.Threads < documented.threads {
		t.Errorf("Default = %+v, weaker than the documented m=%d KiB, t=%d, p=%d", Default, documented.memoryKiB, documented.time, documented.threads)
	}
	enc, err := NewHasher(Default, 1).Hash(context.Background(), "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	p, salt, key, err := parse(enc)
	if err != nil {
		t.Fatalf("parse(%q): %v", enc, err)
	}
	if p != Default {
		t.Errorf("the hash records %+v, not Default %+v", p, Default)
	}
	if len(salt) < documented.salt || len(key) < documented.key {
		t.Errorf("salt %d bytes, key %d bytes; want at least %d and %d", len(salt), len(key), documented.salt, documented.key)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$") {
		t.Errorf("not an argon2id v19 PHC string: %q", enc)
	}
}

// TestWeakerStoredHashNeedsRehash: a stored hash made with any parameter
// below the hasher's verifies but asks to be rehashed.
func TestWeakerStoredHashNeedsRehash(t *testing.T) {
	ctx := context.Background()
	strong := Params{MemoryKiB: 9 * 1024, Time: 2, Threads: 2}
	for name, weak := range map[string]Params{
		"less memory":       {MemoryKiB: 8 * 1024, Time: 2, Threads: 2},
		"fewer iterations":  {MemoryKiB: 9 * 1024, Time: 1, Threads: 2},
		"less parallelism":  {MemoryKiB: 9 * 1024, Time: 2, Threads: 1},
		"everything weaker": {MemoryKiB: 8 * 1024, Time: 1, Threads: 1},
	} {
		old, err := NewHasher(weak, 1).Hash(ctx, "pw-1234567890")
		if err != nil {
			t.Fatal(err)
		}
		rehash, err := NewHasher(strong, 1).Verify(ctx, old, "pw-1234567890")
		if err != nil || !rehash {
			t.Errorf("%s: rehash=%v err=%v, want a rehash", name, rehash, err)
		}
	}
}
