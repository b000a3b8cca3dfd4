package push

import (
	"bytes"
	"crypto/ecdh"
	"encoding/base64"
	"testing"
)

// FuzzParseSubscriber: whatever keys a client sends, a subscriber has a
// P-256 public key and a 16-byte auth secret, or the keys are refused.
func FuzzParseSubscriber(f *testing.F) {
	key, _ := ecdh.P256().GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	f.Add(base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(make([]byte, 16)))
	f.Add("BAAA", "AAAA")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, p256dh, auth string) {
		sub, err := ParseSubscriber(p256dh, auth)
		if err != nil {
			return
		}
		if sub.Public == nil || len(sub.Public.Bytes()) != 65 || len(sub.Auth) != 16 {
			t.Fatalf("accepted %q %q as %+v", p256dh, auth, sub)
		}
	})
}

// FuzzRoundTrip128GCM: any plaintext a push can carry, encrypted for a
// subscriber, is what the subscriber decrypts; any body decrypts to
// something or an error, never a panic.
func FuzzRoundTrip128GCM(f *testing.F) {
	f.Add([]byte(`{"notification_id":1}`), []byte{})
	f.Add([]byte{}, make([]byte, 21))
	ua, _ := ecdh.P256().GenerateKey(bytes.NewReader(bytes.Repeat([]byte{1}, 64)))
	as, _ := ecdh.P256().GenerateKey(bytes.NewReader(bytes.Repeat([]byte{2}, 64)))
	auth := bytes.Repeat([]byte{3}, 16)
	sub := Subscriber{Public: ua.PublicKey(), Auth: auth}
	f.Fuzz(func(t *testing.T, plaintext, body []byte) {
		_, _ = Decrypt128GCM(body, ua, auth)
		if len(plaintext) > maxPlaintext {
			return
		}
		sealed, err := Encrypt128GCM(plaintext, sub, as, bytes.Repeat([]byte{4}, 16))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decrypt128GCM(sealed, ua, auth)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("round trip of %q: %q %v", plaintext, got, err)
		}
	})
}
