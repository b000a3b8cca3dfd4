package sealed

import (
	"bytes"
	"errors"
	"testing"
)

// A sealed value opens with its key and aad only, and two seals of one
// value differ (a fresh nonce each).
func TestSealOpensOnlyWithItsKeyAndAAD(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	box, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	s1, s2 := box.Seal([]byte("secret"), []byte("row 1")), box.Seal([]byte("secret"), []byte("row 1"))
	if s1 == s2 {
		t.Error("two seals are equal")
	}
	if got, err := box.Open(s1, []byte("row 1")); err != nil || string(got) != "secret" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := box.Open(s1, []byte("row 2")); !errors.Is(err, ErrDoesNotOpen) {
		t.Errorf("other aad: %v", err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(s1, []byte("row 1")); !errors.Is(err, ErrDoesNotOpen) {
		t.Errorf("other key: %v", err)
	}
	for _, bad := range []string{"", "!!", "AAAA", s1[:len(s1)-2] + "A"} {
		if _, err := box.Open(bad, []byte("row 1")); err == nil {
			t.Errorf("%q opened", bad)
		}
	}
}

// FuzzOpen: whatever is stored, Open neither panics nor opens it without
// the key.
func FuzzOpen(f *testing.F) {
	box, _ := New(bytes.Repeat([]byte{7}, 16))
	f.Add(box.Seal([]byte("x"), nil))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = box.Open(s, nil)
	})
}
