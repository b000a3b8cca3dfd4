package totp

import (
	"testing"
	"time"
)

// FuzzVerify: whatever a person types as a code, Verify neither panics nor
// accepts anything but the exact digits of a step in the window.
func FuzzVerify(f *testing.F) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1_700_000_000, 0)
	good, _ := Default.Now(secret, now)
	for _, s := range []string{good, "", "000000", " 12 34 56 ", "12-34-56", "１２３４５６", "\x00", "99999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		step, err := Default.Verify(secret, code, now, -1)
		if err != nil {
			return
		}
		norm, ok := Default.Normalize(code)
		want, _ := Default.At(secret, step)
		if !ok || norm != want || step < Default.Step(now)-Skew || step > Default.Step(now)+Skew {
			t.Fatalf("accepted %q as step %d", code, step)
		}
	})
}
