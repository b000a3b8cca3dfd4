package testutil

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"os"
	"strings"
	"testing"
)

var writeRSAKeys = flag.Int("rsa-keys", 0, "rewrite testdata/rsa2048.txt with this many fresh RSA-2048 keys")

// TestRSAKeys checks every key made ahead of time: 2048 bits, valid, each
// different, and handed out in NewKeyPair's encoding, which signs and
// verifies. With -rsa-keys=N it makes the file anew first.
func TestRSAKeys(t *testing.T) {
	if *writeRSAKeys > 0 {
		keys := make([]*rsa.PrivateKey, *writeRSAKeys)
		for i := range keys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			keys[i] = k
		}
		if err := os.WriteFile("testdata/rsa2048.txt", rsaKeyLines(keys), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Skip("wrote testdata/rsa2048.txt; run again without -rsa-keys to check the embedded copy")
	}
	lines := strings.Split(strings.TrimSpace(string(rsaKeys)), "\n")
	if len(lines) < 500 {
		t.Fatalf("testdata/rsa2048.txt holds %d keys; the API tests alone take about 500", len(lines))
	}
	seen := map[string]bool{}
	for i, line := range lines {
		k, err := rsaFromPrimes(line)
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		n := k.N.String()
		if seen[n] {
			t.Fatalf("key %d appears twice", i)
		}
		seen[n] = true
	}
	// What RSAKeyPair hands out parses as the accounts' keys do, signs, and
	// is never the same twice (past the file too).
	pubs := map[string]bool{}
	for i := range 4 {
		if i == 2 { // the file used up: generated keys from here on
			RSAKeyPair()
			rsaPool.mu.Lock()
			rsaPool.next = len(rsaPool.lines)
			rsaPool.mu.Unlock()
		}
		pub, priv, err := RSAKeyPair()
		if err != nil {
			t.Fatal(err)
		}
		if pubs[pub] {
			t.Fatal("RSAKeyPair handed out a key twice")
		}
		pubs[pub] = true
		block, _ := pem.Decode([]byte(priv))
		if block == nil || block.Type != "PRIVATE KEY" {
			t.Fatalf("private key: not PKCS#8 PEM: %q", priv)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		pblock, _ := pem.Decode([]byte(pub))
		if pblock == nil || pblock.Type != "PUBLIC KEY" {
			t.Fatalf("public key: not PKIX PEM: %q", pub)
		}
		pk, err := x509.ParsePKIXPublicKey(pblock.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte("signed"))
		sig, err := rsa.SignPKCS1v15(nil, k.(*rsa.PrivateKey), crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(pk.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
			t.Fatalf("the public key does not verify its private key's signature: %v", err)
		}
	}
}
