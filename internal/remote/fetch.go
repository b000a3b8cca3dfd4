// Package remote reads what other servers publish: ActivityPub documents
// fetched through the outbound guard, signed by the instance actor and held
// to the origin rules, and what is built from them (signers' keys, remote
// accounts). It is a service: no HTTP handlers; api and federation call it.
package remote

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/httpsig"
	"github.com/rampart-social/rampart/internal/outbound"
)

// acceptActivityPub is the Accept header of every document fetch.
const acceptActivityPub = activitypub.ContentType + `, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

// Fetcher gets ActivityPub documents from other servers.
type Fetcher struct {
	client *outbound.Client
	sign   outbound.Signer
	self   []*url.URL // this instance's origins: its own and its media host
}

// NewFetcher fetches through client, signing with sign (nil: unsigned),
// and never from the origins in self.
func NewFetcher(client *outbound.Client, sign outbound.Signer, self ...*url.URL) *Fetcher {
	return &Fetcher{client: client, sign: sign, self: self}
}

func (f *Fetcher) own(u *url.URL) bool {
	for _, o := range f.self {
		if activitypub.SameOrigin(u, o) {
			return true
		}
	}
	return false
}

// Document fetches one ActivityPub document and returns it with the URL it
// came from after redirects. It refuses a URL on this instance's own
// origins (never fetch what is ours: Akkoma 2024.03), a document that is
// not ActivityPub by its Content-Type, and a redirect to another origin.
func (f *Fetcher) Document(ctx context.Context, u *url.URL) ([]byte, *url.URL, error) {
	if f.own(u) {
		return nil, nil, &activitypub.OriginError{Reason: "a document on this instance's own origin is never fetched"}
	}
	// Each redirect is checked before it is followed (and signed): one to
	// another origin, or to ours, is never sent.
	sign := func(r *http.Request) error {
		if !activitypub.SameOrigin(r.URL, u) || f.own(r.URL) {
			return &activitypub.OriginError{Reason: "redirected to another origin"}
		}
		if f.sign == nil {
			return nil
		}
		return f.sign(r)
	}
	resp, err := f.client.Get(ctx, u.String(), acceptActivityPub, sign)
	if err != nil {
		var oe *activitypub.OriginError
		if errors.As(err, &oe) {
			return nil, nil, oe
		}
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("fetch %s: status %d", u, resp.StatusCode)
	}
	if !activitypub.IsContentType(resp.Header.Get("Content-Type")) {
		return nil, nil, &activitypub.OriginError{Reason: fmt.Sprintf("%s is %q, not an ActivityPub document", u, resp.Header.Get("Content-Type"))}
	}
	final := resp.Request.URL
	if f.own(final) {
		return nil, nil, &activitypub.OriginError{Reason: "redirected to this instance's own origin"}
	}
	if !activitypub.SameOrigin(final, u) {
		return nil, nil, &activitypub.OriginError{Reason: "redirected to another origin"}
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	return body, final, nil
}

// InstanceKeys gives the instance actor's key.
type InstanceKeys interface {
	InstanceKey(ctx context.Context) (*rsa.PrivateKey, string, error)
}

// InstanceSigner signs a fetch as the instance actor (keyID, its key's id),
// draft-cavage: what every peer accepts.
func InstanceSigner(keys InstanceKeys, keyID string) outbound.Signer {
	return func(r *http.Request) error {
		key, _, err := keys.InstanceKey(r.Context())
		if err != nil {
			return err
		}
		return httpsig.SignCavage(r, nil, httpsig.Key{ID: keyID, Private: key}, time.Now())
	}
}
