package push

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := decodeKey(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 8291 Appendix A.
const (
	rfcPlaintext = "When I grow up, I want to be a watermelon"
	rfcASPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
	rfcASPublic  = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
	rfcUAPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
	rfcUAPublic  = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	rfcAuth      = "BTBZMqHH6r4Tts7J_aSIgg"
	rfcSalt      = "DGv6ra1nlYgDCS1FRnbzlw"
	rfcBody      = `DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml
	mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT
	pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN`
)

// TestEncrypt128GCMRFC8291 holds the encryption to the RFC's example:
// the same keys and salt make the same body, byte for byte.
func TestEncrypt128GCMRFC8291(t *testing.T) {
	as, err := ecdh.P256().NewPrivateKey(mustB64(t, rfcASPrivate))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(as.PublicKey().Bytes(), mustB64(t, rfcASPublic)) {
		t.Fatal("as_public differs from the RFC's")
	}
	sub, err := ParseSubscriber(rfcUAPublic, rfcAuth)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Encrypt128GCM([]byte(rfcPlaintext), sub, as, mustB64(t, rfcSalt))
	if err != nil {
		t.Fatal(err)
	}
	if want := mustB64(t, rfcBody); !bytes.Equal(got, want) {
		t.Fatalf("aes128gcm body:\n got %x\nwant %x", got, want)
	}
	// And the receiver's side opens it.
	ua, err := ecdh.P256().NewPrivateKey(mustB64(t, rfcUAPrivate))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Decrypt128GCM(mustB64(t, rfcBody), ua, mustB64(t, rfcAuth))
	if err != nil || string(plain) != rfcPlaintext {
		t.Fatalf("decrypt: %q, %v", plain, err)
	}
}

// TestAESGCMRoundTrip: a receiver holding the subscriber's private key
// opens the legacy aesgcm body with the salt and key of the headers; a
// wrong auth secret does not.
func TestAESGCMRoundTrip(t *testing.T) {
	ua, auth := newReceiver(t)
	sub := Subscriber{Public: ua.PublicKey(), Auth: auth}
	as, _ := ecdh.P256().GenerateKey(rand.Reader)
	salt := newSalt()
	msg := []byte(`{"title":"hello"}`)
	body, err := EncryptAESGCM(msg, sub, as, salt)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := DecryptAESGCM(body, ua, auth, as.PublicKey().Bytes(), salt)
	if err != nil || !bytes.Equal(plain, msg) {
		t.Fatalf("decrypt: %q, %v", plain, err)
	}
	if _, err := DecryptAESGCM(body, ua, make([]byte, 16), as.PublicKey().Bytes(), salt); err == nil {
		t.Error("a wrong auth secret opened the body")
	}
	// Two messages never share a key: fresh salt and ephemeral key each.
	as2, _ := ecdh.P256().GenerateKey(rand.Reader)
	body2, _ := EncryptAESGCM(msg, sub, as2, newSalt())
	if bytes.Equal(body, body2) {
		t.Error("two encryptions of one message are equal")
	}
}

func newReceiver(t *testing.T) (*ecdh.PrivateKey, []byte) {
	t.Helper()
	ua, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	return ua, auth
}

// TestVAPIDToken: the JWT verifies with the public key and names the
// endpoint's origin, the subject and an expiry within 24 hours; another
// key does not verify it.
func TestVAPIDToken(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := key.PublicKey.Bytes()
	now := time.Now()
	tok, err := VAPIDToken(key, "https://push.example:8443/wpush/v2/abc?x=1", "https://rampart.example/", now)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := VerifyVAPIDToken(tok, pub)
	if err != nil {
		t.Fatal(err)
	}
	if claims["aud"] != "https://push.example:8443" || claims["sub"] != "https://rampart.example/" {
		t.Errorf("claims %v", claims)
	}
	exp, _ := claims["exp"].(float64)
	if d := time.Unix(int64(exp), 0).Sub(now); d <= 0 || d > 24*time.Hour {
		t.Errorf("exp is %v from now, want within 24h", d)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherPub, _ := other.PublicKey.Bytes()
	if _, err := VerifyVAPIDToken(tok, otherPub); err == nil {
		t.Error("another key verified the token")
	}
	if _, err := VAPIDToken(key, "not a url", "x", now); err == nil {
		t.Error("a relative endpoint got a token")
	}
}

// TestParseSubscriber refuses keys that are not a P-256 point or a
// 16-byte secret.
func TestParseSubscriber(t *testing.T) {
	for _, c := range [][2]string{{"", rfcAuth}, {"BCVx", rfcAuth}, {rfcUAPublic, ""}, {rfcUAPublic, "AAAA"}, {"!!!", rfcAuth}} {
		if _, err := ParseSubscriber(c[0], c[1]); err == nil {
			t.Errorf("ParseSubscriber(%q, %q) accepted", c[0], c[1])
		}
	}
	// Standard base64 with padding is accepted too (apps send both).
	if _, err := ParseSubscriber(strings.NewReplacer("-", "+", "_", "/").Replace(rfcUAPublic)+"=", rfcAuth+"=="); err != nil {
		t.Error(err)
	}
}
