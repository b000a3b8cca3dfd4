package config

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// printedSecret is a key whose every printed form is easy to spot.
const printedSecret = "dGVzdC1vbmx5LXNlY3JldC10ZXN0LW9ubHktc2VjcmV0LTAx" // "test-only-secret-test-only-secret-01"

// leaksSecret reports whether out holds the secret in any form fmt could print it:
// as written in the config, in hex (%x, %X), or decoded.
func leaksSecret(out string) bool {
	for _, form := range []string{printedSecret, hex.EncodeToString([]byte(printedSecret)),
		strings.ToUpper(hex.EncodeToString([]byte(printedSecret))), "test-only-secret"} {
		if strings.Contains(out, form) {
			return true
		}
	}
	return false
}

// TestSecretNeverPrints prints the secret and a Config holding it every way
// fmt, log/slog and encoding/json can, and finds it nowhere.
func TestSecretNeverPrints(t *testing.T) {
	cfg, err := Parse([]byte(strings.Replace(valid(), testSecret, printedSecret, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := cfg.SecretKey.Bytes(); err != nil || string(b) != "test-only-secret-test-only-secret-01" {
		t.Fatalf("the test secret did not load: %q %v", b, err)
	}
	values := map[string]any{"Secret": cfg.SecretKey, "*Secret": &cfg.SecretKey, "Config": *cfg, "*Config": cfg}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
			if out := fmt.Sprintf(verb, v); leaksSecret(out) {
				t.Errorf("fmt %s of %s prints the secret: %s", verb, name, out)
			}
		}
		if out := fmt.Sprint(v) + fmt.Sprintln(v) + fmt.Errorf("wrapped: %v", v).Error(); leaksSecret(out) {
			t.Errorf("Sprint/Sprintln/Errorf of %s print the secret: %s", name, out)
		}
	}
	if s := cfg.SecretKey.String(); s != "[redacted]" {
		t.Errorf("String() = %q", s)
	}
	if s := fmt.Sprintf("%v|%#v", cfg.SecretKey, cfg.SecretKey); s != "[redacted]|[redacted]" {
		t.Errorf("the secret prints as %q, want [redacted]", s)
	}

	// The logger, in both formats Rampart uses, given the secret and whole configs.
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		var h slog.Handler = slog.NewJSONHandler(&buf, nil)
		if format == "text" {
			h = slog.NewTextHandler(&buf, nil)
		}
		log := slog.New(h)
		log.Info("config", "secret", cfg.SecretKey, "cfg", cfg, "value", *cfg, "security", cfg.Security)
		log.Info("as any", slog.Any("secret", cfg.SecretKey), slog.Any("secret ptr", &cfg.SecretKey))
		log.Info("grouped", slog.Group("g", "secret", cfg.SecretKey, "cfg", cfg))
		if leaksSecret(buf.String()) {
			t.Errorf("the %s logger prints the secret:\n%s", format, buf.String())
		}
		if !strings.Contains(buf.String(), "[redacted]") {
			t.Errorf("the %s logger did not log the redacted secret at all:\n%s", format, buf.String())
		}
	}

	// JSON (MarshalText) and the config's own rendering.
	for name, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json %s: %v", name, err)
		}
		if leaksSecret(string(b)) || !strings.Contains(string(b), `"[redacted]"`) {
			t.Errorf("json of %s: %s", name, b)
		}
	}
	if out := cfg.Redacted(); leaksSecret(out) {
		t.Errorf("Redacted prints the secret:\n%s", out)
	}
}
