package config

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// TestSecretKeyLengthBoundary pins secret_key's minimum at exactly 32 bytes of
// key material, in every base64 form Bytes accepts: 31 bytes are refused with
// a message naming the count, 32 and 33 load.
func TestSecretKeyLengthBoundary(t *testing.T) {
	encodings := map[string]*base64.Encoding{
		"base64url": base64.RawURLEncoding, "base64url padded": base64.URLEncoding,
		"base64": base64.RawStdEncoding, "base64 padded": base64.StdEncoding,
	}
	for name, enc := range encodings {
		for _, n := range []int{31, 32, 33} {
			// 0xfb 0xff encode to characters that differ between the alphabets ("+/" or "-_").
			key := enc.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff, 0x01}, 12)[:n])
			_, err := Parse([]byte(strings.Replace(valid(), testSecret, key, 1)), nil)
			switch {
			case n < 32 && err == nil:
				t.Errorf("%s, %d bytes: accepted; the minimum is 32", name, n)
			case n < 32 && !strings.Contains(err.Error(), "secret_key: is 31 bytes; at least 32"):
				t.Errorf("%s, %d bytes: error %q does not name the length and the minimum", name, n, err)
			case n >= 32 && err != nil:
				t.Errorf("%s, %d bytes: refused: %v", name, n, err)
			}
		}
	}
}
