// Package push sends an account's notifications to its Web Push
// subscriptions, as Mastodon does: the payload encrypted for the
// subscriber (RFC 8291 aes128gcm, or the legacy aesgcm draft Mastodon
// still uses by default), the request signed with the instance's VAPID
// key (RFC 8292), sent through the outbound guard like every request to
// another server.
package push

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"
)

// b64 is the encoding of keys and secrets on the wire: base64url
// without padding. Subscribers send either alphabet, padded or not.
var b64 = base64.RawURLEncoding

// decodeKey reads a base64 value in any of its four spellings.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// Subscriber is the receiving side's keys, as a subscription gives them.
type Subscriber struct {
	Public *ecdh.PublicKey // P-256, the p256dh key
	Auth   []byte          // the 16-byte auth secret
}

// ParseSubscriber checks and decodes a subscription's keys.
func ParseSubscriber(p256dh, auth string) (Subscriber, error) {
	pub, err := decodeKey(p256dh)
	if err != nil {
		return Subscriber{}, errors.New("p256dh is not base64")
	}
	key, err := ecdh.P256().NewPublicKey(pub)
	if err != nil {
		return Subscriber{}, errors.New("p256dh is not an uncompressed P-256 point")
	}
	secret, err := decodeKey(auth)
	if err != nil {
		return Subscriber{}, errors.New("auth is not base64")
	}
	if len(secret) != 16 {
		return Subscriber{}, errors.New("auth is not 16 bytes")
	}
	return Subscriber{Public: key, Auth: secret}, nil
}

// recordSize is the one record's size (RFC 8188 rs) written in an
// aes128gcm header; a push payload is a single record below 4096 bytes.
const recordSize = 4096

// maxPlaintext keeps a payload within one record and within what push
// services accept (4096 bytes of body, RFC 8291 section 4).
const maxPlaintext = 3000

// Encrypt128GCM encrypts plaintext for sub as RFC 8291 says (aes128gcm,
// one record): the body is the header (salt, rs, the sender's ephemeral
// public key) followed by the ciphertext. as is the sender's ephemeral
// key and salt its 16 random bytes; both are fresh for every message.
func Encrypt128GCM(plaintext []byte, sub Subscriber, as *ecdh.PrivateKey, salt []byte) ([]byte, error) {
	if len(salt) != 16 {
		return nil, errors.New("salt must be 16 bytes")
	}
	secret, err := as.ECDH(sub.Public)
	if err != nil {
		return nil, fmt.Errorf("ecdh: %w", err)
	}
	asPub := as.PublicKey().Bytes()
	gcm, nonce, err := aes128gcmRecord(secret, sub.Auth, sub.Public.Bytes(), asPub, salt)
	if err != nil {
		return nil, err
	}
	header := make([]byte, 0, 16+4+1+len(asPub))
	header = append(header, salt...)
	header = binary.BigEndian.AppendUint32(header, recordSize)
	header = append(header, byte(len(asPub)))
	header = append(header, asPub...)
	// The last (and only) record ends with the delimiter 0x02, no padding.
	record := append(append([]byte{}, plaintext...), 2)
	return gcm.Seal(header, nonce, record, nil), nil
}

// EncryptAESGCM encrypts plaintext for sub as the legacy "aesgcm" draft
// (draft-ietf-webpush-encryption-04) does, which Mastodon uses unless the
// subscription is standard: the salt and the sender's key travel in the
// Encryption and Crypto-Key headers; the body is the ciphertext of a
// two-byte padding length (0) and the plaintext.
func EncryptAESGCM(plaintext []byte, sub Subscriber, as *ecdh.PrivateKey, salt []byte) ([]byte, error) {
	if len(salt) != 16 {
		return nil, errors.New("salt must be 16 bytes")
	}
	secret, err := as.ECDH(sub.Public)
	if err != nil {
		return nil, fmt.Errorf("ecdh: %w", err)
	}
	ikm, err := hkdf.Key(sha256.New, secret, sub.Auth, "Content-Encoding: auth\x00", 32)
	if err != nil {
		return nil, err
	}
	ctx := aesgcmContext(sub.Public.Bytes(), as.PublicKey().Bytes())
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aesgcm\x00"+ctx, 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00"+ctx, 12)
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(cek)
	if err != nil {
		return nil, err
	}
	record := append([]byte{0, 0}, plaintext...)
	return gcm.Seal(nil, nonce, record, nil), nil
}

// aesgcmContext is the draft's context: the curve's label and both
// public keys, each with its two-byte length.
func aesgcmContext(receiver, sender []byte) string {
	b := []byte("P-256\x00")
	b = binary.BigEndian.AppendUint16(b, uint16(len(receiver)))
	b = append(b, receiver...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(sender)))
	b = append(b, sender...)
	return string(b)
}

// aes128gcmRecord derives, as RFC 8291 section 3.4 says, the cipher and
// nonce of an aes128gcm record from the ECDH secret, the subscriber's auth
// secret, both public keys (the user agent's, then the sender's) and the
// salt: the sender's side and the receiver's alike.
func aes128gcmRecord(secret, auth, uaPub, asPub, salt []byte) (cipher.AEAD, []byte, error) {
	info := append(append([]byte("WebPush: info\x00"), uaPub...), asPub...)
	ikm, err := hkdf.Key(sha256.New, secret, auth, string(info), 32)
	if err != nil {
		return nil, nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, nil, err
	}
	gcm, err := newGCM(cek)
	if err != nil {
		return nil, nil, err
	}
	return gcm, nonce, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// newSalt is 16 fresh random bytes.
func newSalt() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}

// vapidLifetime is how long a VAPID token is good for: RFC 8292 allows
// at most 24 hours; 12 leaves room for clocks that disagree.
const vapidLifetime = 12 * time.Hour

// VAPIDToken is the RFC 8292 JWT (ES256) for a push to endpoint: aud is
// the endpoint's origin, sub the contact (the instance's URL or a
// mailto:), exp within 24 hours of now.
func VAPIDToken(key *ecdsa.PrivateKey, endpoint, subject string, now time.Time) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("endpoint %q is not an absolute URL", endpoint)
	}
	header := b64.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`))
	claims, err := json.Marshal(map[string]any{
		"aud": u.Scheme + "://" + u.Host,
		"exp": now.Add(vapidLifetime).Unix(),
		"sub": subject,
	})
	if err != nil {
		return "", err
	}
	signing := header + "." + b64.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	der, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return "", fmt.Errorf("vapid: %w", err)
	}
	// JWS wants r and s as two 32-byte big-endian numbers, not ASN.1.
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		return "", fmt.Errorf("vapid: %w", err)
	}
	raw := make([]byte, 64)
	sig.R.FillBytes(raw[:32])
	sig.S.FillBytes(raw[32:])
	return signing + "." + b64.EncodeToString(raw), nil
}

// VerifyVAPIDToken checks a token's ES256 signature with the public key
// (uncompressed point) and returns its claims. Push services do this; the
// tests do it to hold VAPIDToken to the RFC.
func VerifyVAPIDToken(token string, public []byte) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), public)
	if err != nil {
		return nil, err
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, errors.New("bad signature encoding")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, errors.New("signature does not verify")
	}
	var head map[string]any
	if b, err := b64.DecodeString(parts[0]); err != nil || json.Unmarshal(b, &head) != nil || head["alg"] != "ES256" {
		return nil, errors.New("bad header")
	}
	body, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// Decrypt128GCM is the receiver's side of RFC 8291 (one record): what a
// browser does with a push. Rampart only sends; tests receive with it.
func Decrypt128GCM(body []byte, ua *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("short body")
	}
	salt, idlen := body[:16], int(body[20])
	if binary.BigEndian.Uint32(body[16:20]) < 18 || len(body) < 21+idlen {
		return nil, errors.New("bad header")
	}
	asPub, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, err
	}
	secret, err := ua.ECDH(asPub)
	if err != nil {
		return nil, err
	}
	gcm, nonce, err := aes128gcmRecord(secret, auth, ua.PublicKey().Bytes(), asPub.Bytes(), salt)
	if err != nil {
		return nil, err
	}
	rec, err := gcm.Open(nil, nonce, body[21+idlen:], nil)
	if err != nil {
		return nil, err
	}
	rec = bytes.TrimRight(rec, "\x00")
	if len(rec) == 0 || rec[len(rec)-1] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return rec[:len(rec)-1], nil
}

// DecryptAESGCM is the receiver's side of the legacy aesgcm encoding
// (for tests, as Decrypt128GCM).
func DecryptAESGCM(body []byte, ua *ecdh.PrivateKey, auth, senderPub, salt []byte) ([]byte, error) {
	asPub, err := ecdh.P256().NewPublicKey(senderPub)
	if err != nil {
		return nil, err
	}
	secret, err := ua.ECDH(asPub)
	if err != nil {
		return nil, err
	}
	ikm, err := hkdf.Key(sha256.New, secret, auth, "Content-Encoding: auth\x00", 32)
	if err != nil {
		return nil, err
	}
	ctx := aesgcmContext(ua.PublicKey().Bytes(), senderPub)
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aesgcm\x00"+ctx, 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00"+ctx, 12)
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(cek)
	if err != nil {
		return nil, err
	}
	rec, err := gcm.Open(nil, nonce, body, nil)
	if err != nil {
		return nil, err
	}
	if len(rec) < 2 {
		return nil, errors.New("short record")
	}
	pad := int(binary.BigEndian.Uint16(rec))
	if len(rec) < 2+pad {
		return nil, errors.New("bad padding")
	}
	return rec[2+pad:], nil
}
