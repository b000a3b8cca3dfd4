package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/store"
)

// A device token says that a browser has signed in to an account before
// (OWASP's "device cookie"). Every successful sign-in gets a fresh one. It
// holds the time it was issued, a random id and the id of the account that
// signed in, and is signed with a key derived from secret_key: it survives a
// restart, cannot be forged, and counts only for the account it names.
// Authenticate limits a browser with a valid token by that token's own
// failures (signInLimits.perDevice) when the login typed is that account's;
// too many failures revoke it for the rest of its lifetime.
//
// The token names the account by id, never by a digest of its username or
// e-mail address: two accounts' addresses can differ for the store and yet be
// one text once lower-cased (U+0130 "İ" and the Kelvin sign "K" lower-case to
// ASCII in Go, not in SQLite), and a token naming a text would then make its
// holder a known browser for another account's login.

// DeviceLifetime is how long a device token is honoured after its sign-in.
const DeviceLifetime = 365 * 24 * time.Hour

const (
	// Version 1 named the account by digests of its lower-cased username and
	// e-mail; such tokens are no longer valid.
	deviceVersion = 2
	deviceIDLen   = 16
	// version, issued (Unix seconds), id, account id
	devicePayloadLen = 1 + 8 + deviceIDLen + 8
	deviceRawLen     = devicePayloadLen + sha256.Size // then the HMAC tag
)

var deviceEncoding = base64.RawURLEncoding.Strict()

// DeviceTokenLen is the length of every device token as text.
var DeviceTokenLen = deviceEncoding.EncodedLen(deviceRawLen)

// deviceKey derives the key of device tokens from secret_key.
func deviceKey(cfg *config.Config) []byte {
	key, err := cfg.SecretKey.Derive("rampart device token v1")
	if err != nil || !cfg.SecretKey.IsSet() {
		// Config validation refuses such a secret_key. A random key only
		// means that device tokens do not outlive this process.
		key = make([]byte, 32)
		rand.Read(key)
	}
	return key
}

// deviceMAC is HMAC-SHA256 under the device key, of a kind byte (so a digest
// of one kind can never stand for another) and data.
func (s *Service) deviceMAC(kind byte, data []byte) []byte {
	m := hmac.New(sha256.New, s.deviceKey)
	m.Write([]byte{kind})
	m.Write(data)
	return m.Sum(nil)
}

// issueDevice makes a fresh device token for an account that just signed in.
func (s *Service) issueDevice(a *store.Account) string {
	b := make([]byte, 0, deviceRawLen)
	b = append(b, deviceVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(s.now().Unix()))
	id := make([]byte, deviceIDLen)
	rand.Read(id)
	b = append(b, id...)
	b = binary.BigEndian.AppendUint64(b, uint64(a.ID))
	b = append(b, s.deviceMAC('t', b)...)
	return deviceEncoding.EncodeToString(b)
}

// readDevice returns the id of token and the account it names when it is a
// device token this server signed, issued less than DeviceLifetime ago.
// Anything else is no token.
func (s *Service) readDevice(token string) (id string, account int64, ok bool) {
	if len(token) != DeviceTokenLen {
		return "", 0, false
	}
	b, err := deviceEncoding.DecodeString(token)
	if err != nil || len(b) != deviceRawLen || b[0] != deviceVersion {
		return "", 0, false
	}
	payload, tag := b[:devicePayloadLen], b[devicePayloadLen:]
	if !hmac.Equal(tag, s.deviceMAC('t', payload)) {
		return "", 0, false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(payload[1:9])), 0)
	if age := s.now().Sub(issued); age >= DeviceLifetime || age < -time.Minute {
		return "", 0, false
	}
	return string(payload[9 : 9+deviceIDLen]), int64(binary.BigEndian.Uint64(payload[9+deviceIDLen:])), true
}

// knownBrowser returns the id of token when it is a valid device token of
// the account that login (already lower-cased) names in the store. Only a
// browser that holds a valid token costs this lookup.
func (s *Service) knownBrowser(ctx context.Context, token, login string) (string, bool, error) {
	id, account, ok := s.readDevice(token)
	if !ok {
		return "", false, nil
	}
	u, err := s.store.UserByLogin(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return id, u.AccountID == account, nil
}
