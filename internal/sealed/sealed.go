// Package sealed keeps a secret in the database unreadable without the
// instance's secret_key: AES-GCM under a key derived from secret_key for
// one purpose (config.Secret.Derive), a fresh random nonce per value, and
// the result as base64url text (nonce then ciphertext and tag). A value can
// be bound to its row with additional data, so that a sealed value copied
// into another row does not open there. Web Push's sealed access tokens and
// the TOTP secrets of second factors are sealed here.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// Box seals and opens values under one key.
type Box struct{ aead cipher.AEAD }

// New is a box for key: 16 bytes (AES-128) or 32 (AES-256).
func New(key []byte) (*Box, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return &Box{aead: aead}, nil
}

var b64 = base64.RawURLEncoding

// Seal encrypts plain, bound to aad (nil: bound to nothing).
func (b *Box) Seal(plain, aad []byte) string {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	return b64.EncodeToString(b.aead.Seal(nonce, nonce, plain, aad))
}

// ErrMalformed and ErrDoesNotOpen refuse a sealed value: not one at all, or
// sealed under another key (secret_key changed) or for other aad.
var (
	ErrMalformed   = errors.New("sealed value is malformed")
	ErrDoesNotOpen = errors.New("sealed value does not open (secret_key changed?)")
)

// Open decrypts what Seal made with the same aad.
func (b *Box) Open(sealed string, aad []byte) ([]byte, error) {
	raw, err := b64.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return nil, ErrMalformed
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], aad)
	if err != nil {
		return nil, ErrDoesNotOpen
	}
	return plain, nil
}
