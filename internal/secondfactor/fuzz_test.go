package secondfactor

import (
	"strings"
	"testing"
)

// FuzzNormalizeRecoveryCode: whatever is typed as a recovery code, the
// reading neither panics nor yields anything but recoveryLen characters of
// the alphabet.
func FuzzNormalizeRecoveryCode(f *testing.F) {
	for _, s := range []string{"abcd-efgh-jkmn", "ABCD EFGH JKMN", "", "0000-0000-0000", "İabc-defg-hjkm", strings.Repeat("a", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		norm, ok := normalizeRecoveryCode(code)
		if !ok {
			return
		}
		if len(norm) != recoveryLen {
			t.Fatalf("%q read as %q", code, norm)
		}
		for i := range len(norm) {
			if !strings.ContainsRune(recoveryAlphabet, rune(norm[i])) {
				t.Fatalf("%q read as %q", code, norm)
			}
		}
	})
}
