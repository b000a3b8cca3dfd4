package config

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as "10s", "2m" in the config file.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%q is not a duration (examples: \"10s\", \"2m\")", string(b))
	}
	*d = Duration(v)
	return nil
}

// ByteSize is a size in bytes, written as a plain integer or with a unit: "16KiB", "1MiB".
type ByteSize int64

func (s ByteSize) MarshalText() ([]byte, error) {
	for _, u := range byteUnits {
		if s != 0 && int64(s)%u.n == 0 {
			return []byte(strconv.FormatInt(int64(s)/u.n, 10) + u.suffix), nil
		}
	}
	return []byte(strconv.FormatInt(int64(s), 10)), nil
}

var byteUnits = []struct {
	suffix string
	n      int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}

func (s *ByteSize) UnmarshalText(b []byte) error {
	text := strings.TrimSpace(string(b))
	mult := int64(1)
	num := text
	for _, u := range byteUnits {
		if strings.HasSuffix(text, u.suffix) {
			mult, num = u.n, strings.TrimSpace(strings.TrimSuffix(text, u.suffix))
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<40)/mult {
		return fmt.Errorf("%q is not a size (examples: 1048576, \"512KiB\", \"8MiB\")", text)
	}
	*s = ByteSize(n * mult)
	return nil
}

// UnmarshalTOML accepts both integers and strings with units.
func (s *ByteSize) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case int64:
		return s.UnmarshalText([]byte(strconv.FormatInt(v, 10)))
	case string:
		return s.UnmarshalText([]byte(v))
	default:
		return fmt.Errorf("%v is not a size (examples: 1048576, \"512KiB\", \"8MiB\")", v)
	}
}

// Secret holds key material. It never prints itself: logs, `config check` and
// error messages see "[redacted]", and only Bytes gives the value to the code that needs it.
type Secret struct{ raw string }

// NewSecret wraps an encoded secret value.
func NewSecret(encoded string) Secret { return Secret{raw: encoded} }

const redacted = "[redacted]"

func (s Secret) String() string                { return redacted }
func (s Secret) LogValue() slog.Value          { return slog.StringValue(redacted) }
func (s Secret) MarshalText() ([]byte, error)  { return []byte(redacted), nil }
func (s *Secret) UnmarshalText(b []byte) error { s.raw = strings.TrimSpace(string(b)); return nil }

// Format prints "[redacted]" for every verb. String alone is not enough: for
// %#v, %d and the other verbs it does not serve, fmt prints the struct's
// fields, the value included.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// IsSet reports whether any value was given.
func (s Secret) IsSet() bool { return s.raw != "" }

// Bytes decodes the secret (base64, standard or URL alphabet, padded or not).
func (s Secret) Bytes() ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s.raw); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not valid base64")
}

// Derive is a key for one purpose, HMAC-SHA256(secret, label): each use of
// secret_key (CSRF tokens, device tokens) gets its own, and none reveals
// another or the secret.
func (s Secret) Derive(label string) ([]byte, error) {
	secret, err := s.Bytes()
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(label))
	return mac.Sum(nil), nil
}
