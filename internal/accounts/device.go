package accounts

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/store"
)

// A device token says that a browser has signed in to an account before
// (OWASP's "device cookie"). Every successful sign-in gets a fresh one. It
// holds the time it was issued, a random id and keyed digests of the
// account's username and e-mail address, and is signed with a key derived
// from secret_key: it survives a restart, cannot be forged, and counts only
// for the account it names. Authenticate limits a browser with a valid token
// by that token's own failures (signInLimits.perDevice); too many failures
// revoke it for the rest of its lifetime.

// DeviceLifetime is how long a device token is honoured after its sign-in.
const DeviceLifetime = 365 * 24 * time.Hour

const (
	deviceVersion  = 1
	deviceIDLen    = 16
	loginDigestLen = 16
	// version, issued (Unix seconds), id, username digest, e-mail digest
	devicePayloadLen = 1 + 8 + deviceIDLen + 2*loginDigestLen
	deviceRawLen     = devicePayloadLen + sha256.Size // then the HMAC tag
)

var deviceEncoding = base64.RawURLEncoding.Strict()

// DeviceTokenLen is the length of every device token as text.
var DeviceTokenLen = deviceEncoding.EncodedLen(deviceRawLen)

// deviceKey derives the key of device tokens from secret_key.
func deviceKey(cfg *config.Config) []byte {
	secret, err := cfg.SecretKey.Bytes()
	if err != nil || len(secret) == 0 {
		// Config validation refuses such a secret_key. A random key only
		// means that device tokens do not outlive this process.
		secret = make([]byte, 32)
		rand.Read(secret)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("rampart device token v1"))
	return mac.Sum(nil)
}

// deviceMAC is HMAC-SHA256 under the device key, of a kind byte (so a digest
// of one kind can never stand for another) and data.
func (s *Service) deviceMAC(kind byte, data []byte) []byte {
	m := hmac.New(sha256.New, s.deviceKey)
	m.Write([]byte{kind})
	m.Write(data)
	return m.Sum(nil)
}

func (s *Service) loginDigest(login string) []byte {
	return s.deviceMAC('l', []byte(strings.ToLower(strings.TrimSpace(login))))[:loginDigestLen]
}

// issueDevice makes a fresh device token for an account that just signed in.
func (s *Service) issueDevice(a *store.Account, u *store.User) string {
	b := make([]byte, 0, deviceRawLen)
	b = append(b, deviceVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(s.now().Unix()))
	id := make([]byte, deviceIDLen)
	rand.Read(id)
	b = append(b, id...)
	b = append(b, s.loginDigest(a.Username)...)
	b = append(b, s.loginDigest(u.Email)...)
	b = append(b, s.deviceMAC('t', b)...)
	return deviceEncoding.EncodeToString(b)
}

// readDevice returns the id of token when it is a device token this server
// signed, issued less than DeviceLifetime ago, for an account whose username
// or e-mail is login (already lower-cased). Anything else is no token.
func (s *Service) readDevice(token, login string) (string, bool) {
	if len(token) != DeviceTokenLen {
		return "", false
	}
	b, err := deviceEncoding.DecodeString(token)
	if err != nil || len(b) != deviceRawLen || b[0] != deviceVersion {
		return "", false
	}
	payload, tag := b[:devicePayloadLen], b[devicePayloadLen:]
	if !hmac.Equal(tag, s.deviceMAC('t', payload)) {
		return "", false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(payload[1:9])), 0)
	if age := s.now().Sub(issued); age >= DeviceLifetime || age < -time.Minute {
		return "", false
	}
	id, names := payload[9:9+deviceIDLen], payload[9+deviceIDLen:]
	want := s.loginDigest(login)
	if !hmac.Equal(names[:loginDigestLen], want) && !hmac.Equal(names[loginDigestLen:], want) {
		return "", false
	}
	return string(id), true
}
