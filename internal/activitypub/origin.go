package activitypub

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// OriginError is a document refused by the origin rules: what Mastodon
// (CVE-2024-23832), Akkoma (2024.03) and GoToSocial learned from forged
// objects.
type OriginError struct{ Reason string }

func (e *OriginError) Error() string { return "refused document: " + e.Reason }

func refuse(format string, args ...any) error {
	return &OriginError{Reason: fmt.Sprintf(format, args...)}
}

// SameOrigin reports whether two absolute URLs share scheme, host and port
// (FEP-fe34's origin).
func SameOrigin(a, b *url.URL) bool {
	return a != nil && b != nil && strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// WithoutFragment is u with its fragment removed.
func WithoutFragment(u *url.URL) *url.URL {
	c := *u
	c.Fragment, c.RawFragment = "", ""
	return &c
}

// remoteKeyDoc is what a key lookup reads of a fetched document: an actor,
// or the key stub some servers serve at the key's own URL.
type remoteKeyDoc struct {
	ID                string          `json:"id"`
	Type              json.RawMessage `json:"type"`
	PreferredUsername string          `json:"preferredUsername"`
	PublicKey         json.RawMessage `json:"publicKey"`
	AssertionMethod   json.RawMessage `json:"assertionMethod"`
	Owner             string          `json:"owner"`
	PublicKeyPEM      string          `json:"publicKeyPem"`
}

type keyEntry struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Owner              string `json:"owner"`
	Controller         string `json:"controller"`
	PublicKeyPEM       string `json:"publicKeyPem"`
	PublicKeyMultibase string `json:"publicKeyMultibase"`
}

// oneOrMany decodes a JSON value that is an object or an array of them.
func oneOrMany(raw json.RawMessage) []keyEntry {
	if len(raw) == 0 {
		return nil
	}
	var many []keyEntry
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	var one keyEntry
	if json.Unmarshal(raw, &one) == nil {
		return []keyEntry{one}
	}
	return nil
}

// MainKeyID is the id of an actor's publicKey, an object or the first of a
// list ("" when none).
func MainKeyID(publicKey json.RawMessage) string {
	if keys := oneOrMany(publicKey); len(keys) > 0 {
		return keys[0].ID
	}
	return ""
}

// FoundKey is a signer's key, with the actor it belongs to.
type FoundKey struct {
	KeyID string
	Owner string // the actor id
	Key   crypto.PublicKey
}

// KeyFromDocument finds keyID in a document fetched from finalURL (the URL
// after redirects), and applies the rules that make the key the owner's:
//
//   - the document's id is the URL it came from (no fragment), so a
//     server cannot pass off another's document;
//   - keyID, the document and the owner share one origin: a key on one host
//     never speaks for an actor on another;
//   - the key names its owner (publicKey.owner, or controller for a
//     Multikey), and the owner is the document itself, or, for a key stub
//     served at the key's own URL, an actor on the same origin.
//
// The RSA key (publicKeyPem) or the Ed25519 Multikey (assertionMethod,
// FEP-521a) whose id is keyID is returned.
func KeyFromDocument(body []byte, finalURL *url.URL, keyID string) (*FoundKey, error) {
	kid, err := url.Parse(keyID)
	if err != nil || !kid.IsAbs() || kid.Host == "" {
		return nil, refuse("keyId %q is not an absolute URL", keyID)
	}
	var doc remoteKeyDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, refuse("not a JSON object: %v", err)
	}
	id, err := url.Parse(doc.ID)
	if err != nil || !id.IsAbs() {
		return nil, refuse("the document has no absolute id")
	}
	if id.String() != WithoutFragment(finalURL).String() {
		return nil, refuse("the document's id %q is not the URL it was fetched from (%s)", doc.ID, finalURL)
	}
	if !SameOrigin(id, finalURL) || !SameOrigin(kid, id) {
		return nil, refuse("the key %s and the document %s are not on one origin", keyID, doc.ID)
	}

	entries := oneOrMany(doc.PublicKey)
	entries = append(entries, oneOrMany(doc.AssertionMethod)...)
	if doc.PublicKeyPEM != "" { // the document is the key itself
		entries = append(entries, keyEntry{ID: doc.ID, Owner: doc.Owner, PublicKeyPEM: doc.PublicKeyPEM})
	}
	for _, e := range entries {
		if e.ID != keyID {
			continue
		}
		owner := e.Owner
		if owner == "" {
			owner = e.Controller
		}
		ou, err := url.Parse(owner)
		if err != nil || !ou.IsAbs() || !SameOrigin(ou, kid) {
			return nil, refuse("the key's owner %q is not on the key's origin", owner)
		}
		// An actor document's key must be its own; a key stub may name
		// the actor it belongs to.
		if doc.PublicKeyPEM == "" && owner != doc.ID {
			return nil, refuse("the key's owner %q is not the actor %q", owner, doc.ID)
		}
		key, err := parseKey(e)
		if err != nil {
			return nil, err
		}
		return &FoundKey{KeyID: keyID, Owner: owner, Key: key}, nil
	}
	return nil, refuse("the document does not publish the key %s", keyID)
}

// DocumentID reads a document's id, for a caller that fetched one URL and
// may need to fetch the document's own id instead (a key URL that serves
// its actor, as GoToSocial's does).
func DocumentID(body []byte) (string, error) {
	var doc struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.ID == "" {
		return "", refuse("no id")
	}
	return doc.ID, nil
}

// PublicKeyPEM encodes a public key as PKIX PEM, as actors publish RSA keys
// and as Rampart stores a remote actor's.
func PublicKeyPEM(k crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return "", fmt.Errorf("public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

func parseKey(e keyEntry) (crypto.PublicKey, error) {
	if e.PublicKeyMultibase != "" {
		k, err := DecodeMultikey(e.PublicKeyMultibase)
		if err != nil {
			return nil, refuse("%v", err)
		}
		return k, nil
	}
	block, _ := pem.Decode([]byte(e.PublicKeyPEM))
	if block == nil {
		return nil, refuse("publicKeyPem is not PEM")
	}
	if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
		return k, nil
	}
	// Some servers publish PKCS #1 ("RSA PUBLIC KEY").
	if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, errors.New("publicKeyPem: not a public key")
}

// ParsePublicKeyPEM reads a stored publicKeyPem (PKIX or PKCS #1).
func ParsePublicKeyPEM(text string) (crypto.PublicKey, error) {
	return parseKey(keyEntry{PublicKeyPEM: text})
}
