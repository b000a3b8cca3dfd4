package testutil

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"sync"
)

// rsaKeys holds RSA-2048 keys made ahead of time by
// `go test ./internal/testutil -run TestRSAKeys -rsa-keys=N`, one a line:
// its two primes, base64. Every local account has an RSA key pair, and
// generating one under the race detector costs about 0.2 s of CPU (178 ms
// measured; 2.5 ms to rebuild one from its primes): the API tests alone
// make hundreds of accounts.
//
//go:embed testdata/rsa2048.txt
var rsaKeys []byte

var rsaPool struct {
	mu    sync.Mutex
	lines [][]byte
	next  int
}

// RSAKeyPair is accounts.NewKeyPair for tests (accounts.(*Service).WithKeyPairs,
// instance.Options.KeyPairs): an RSA-2048 pair, PKIX public and PKCS#8
// private PEM, never the same twice in a test process. It hands out the
// keys made ahead of time, each once, then generates fresh ones like
// NewKeyPair.
func RSAKeyPair() (pub, priv string, err error) {
	p := &rsaPool
	p.mu.Lock()
	if p.lines == nil {
		p.lines = bytes.Split(bytes.TrimSpace(rsaKeys), []byte("\n"))
	}
	var line []byte
	if p.next < len(p.lines) {
		line = p.lines[p.next]
		p.next++
	}
	p.mu.Unlock()
	var key *rsa.PrivateKey
	if line == nil {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = rsaFromPrimes(string(line))
	}
	if err != nil {
		return "", "", fmt.Errorf("test key pair: %w", err)
	}
	return encodeRSA(key)
}

// rsaFromPrimes rebuilds the key whose primes, base64, are on line.
func rsaFromPrimes(line string) (*rsa.PrivateKey, error) {
	f := strings.Fields(line)
	if len(f) != 2 {
		return nil, fmt.Errorf("a line of testdata/rsa2048.txt has %d fields, not 2", len(f))
	}
	var primes []*big.Int
	for _, s := range f {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, err
		}
		primes = append(primes, new(big.Int).SetBytes(b))
	}
	p, q := primes[0], primes[1]
	one := big.NewInt(1)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
	e := big.NewInt(65537)
	d := new(big.Int).ModInverse(e, phi)
	if d == nil {
		return nil, fmt.Errorf("65537 has no inverse for a test key's primes")
	}
	key := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: 65537},
		D:         d,
		Primes:    []*big.Int{p, q},
	}
	key.Precompute()
	if err := key.Validate(); err != nil {
		return nil, err
	}
	if key.N.BitLen() != 2048 {
		return nil, fmt.Errorf("a test key has %d bits, not 2048", key.N.BitLen())
	}
	return key, nil
}

// encodeRSA is accounts.NewKeyPair's encoding.
func encodeRSA(key *rsa.PrivateKey) (pub, priv string, err error) {
	privDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})), nil
}

// rsaKeyLines formats keys as testdata/rsa2048.txt holds them.
func rsaKeyLines(keys []*rsa.PrivateKey) []byte {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	for _, k := range keys {
		fmt.Fprintf(w, "%s %s\n", base64.StdEncoding.EncodeToString(k.Primes[0].Bytes()),
			base64.StdEncoding.EncodeToString(k.Primes[1].Bytes()))
	}
	w.Flush()
	return b.Bytes()
}
