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
	"sync"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/httpsig"
	"github.com/rampart-social/rampart/internal/outbound"
)

// acceptActivityPub is the Accept header of every document fetch.
const acceptActivityPub = activitypub.ContentType + `, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

// Signing is how fetches are signed: draft-cavage, which every peer
// accepts today, and RFC 9421 for a host that refuses it (Mastodon's order
// too). A zero Signing fetches unsigned.
type Signing struct {
	Cavage, RFC9421 outbound.Signer
}

// maxRememberedHosts bounds the memory of which hosts wanted RFC 9421.
const maxRememberedHosts = 10_000

// Fetcher gets ActivityPub documents from other servers.
type Fetcher struct {
	client  *outbound.Client
	signing Signing
	self    []*url.URL // this instance's origins: its own and its media host

	// blocked reports a host on a blocked domain (nil: none is); see
	// WithBlocked.
	blocked func(ctx context.Context, host string) (bool, error)
	// mediaHost reports a host another server serves uploads from
	// (WithMediaHosts).
	mediaHost func(ctx context.Context, host string) (bool, error)

	mu      sync.Mutex
	rfc9421 map[string]bool // hosts that refused draft-cavage and took RFC 9421
}

// ErrBlocked: the host is on a domain the admin blocked; nothing is sent
// to it.
var ErrBlocked = errors.New("the host's domain is blocked")

// NewFetcher fetches through client, signing as signing says, and never
// from the origins in self.
func NewFetcher(client *outbound.Client, signing Signing, self ...*url.URL) *Fetcher {
	return &Fetcher{client: client, signing: signing, self: self, rfc9421: map[string]bool{}}
}

// WithBlocked makes f refuse every host blocked reports (store.DomainBlocked),
// before any request: documents (and so keys and actors) and WebFinger
// lookups alike. It is called once, when the instance is wired, before f
// is used; it returns f.
func (f *Fetcher) WithBlocked(blocked func(ctx context.Context, host string) (bool, error)) *Fetcher {
	f.blocked = blocked
	return f
}

// WithMediaHosts makes f refuse documents on every host mediaHost reports
// (store.RemoteMediaHost): other servers' upload hosts. Called once, when
// the instance is wired; it returns f.
func (f *Fetcher) WithMediaHosts(mediaHost func(ctx context.Context, host string) (bool, error)) *Fetcher {
	f.mediaHost = mediaHost
	return f
}

// refuse is ErrBlocked for a host on a blocked domain: the one check every
// way out of this package passes before the network. A failed lookup
// refuses too: a block that cannot be read is not lifted.
func (f *Fetcher) refuse(ctx context.Context, host string) error {
	if f.blocked == nil {
		return nil
	}
	blocked, err := f.blocked(ctx, host)
	if err != nil {
		return fmt.Errorf("domain block of %s: %w", host, err)
	}
	if blocked {
		return fmt.Errorf("%s: %w", host, ErrBlocked)
	}
	return nil
}

// attempt is one way to sign a fetch.
type attempt struct {
	sign    outbound.Signer // nil: unsigned
	rfc9421 bool
}

// attempts are the ways to sign a fetch from host, in order.
func (f *Fetcher) attempts(host string) []attempt {
	if f.signing.Cavage == nil || f.signing.RFC9421 == nil {
		return []attempt{{sign: f.signing.Cavage}} // one (or none): nothing to choose
	}
	cavage, rfc := attempt{sign: f.signing.Cavage}, attempt{sign: f.signing.RFC9421, rfc9421: true}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rfc9421[host] {
		return []attempt{rfc, cavage}
	}
	return []attempt{cavage, rfc}
}

// remember notes which generation host took.
func (f *Fetcher) remember(host string, rfc bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rfc && len(f.rfc9421) >= maxRememberedHosts {
		clear(f.rfc9421)
	}
	if rfc {
		f.rfc9421[host] = true
	} else {
		delete(f.rfc9421, host)
	}
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
// origins (never fetch what is ours: Akkoma 2024.03), one on a blocked
// domain (ErrBlocked, before any request), one on another server's upload
// host (WithMediaHosts, also before any request), a document that is not
// ActivityPub by its Content-Type, and a redirect to another origin.
func (f *Fetcher) Document(ctx context.Context, u *url.URL) ([]byte, *url.URL, error) {
	if f.own(u) {
		return nil, nil, &activitypub.OriginError{Reason: "a document on this instance's own origin is never fetched"}
	}
	if err := f.refuse(ctx, u.Host); err != nil {
		return nil, nil, err
	}
	if f.mediaHost != nil {
		// A redirect stays on this origin (below), so the host is checked
		// once. A lookup that fails refuses, as a block does.
		media, err := f.mediaHost(ctx, u.Host)
		if err != nil {
			return nil, nil, fmt.Errorf("media host %s: %w", u.Host, err)
		}
		if media {
			return nil, nil, &activitypub.OriginError{Reason: u.Host + " serves another server's uploads: no document is accepted from it"}
		}
	}
	// A 401 to a signed fetch is knocked on once more with the other
	// generation, and what worked is remembered for the host.
	var resp *http.Response
	tries := f.attempts(u.Host)
	for i, try := range tries {
		var err error
		if resp, err = f.get(ctx, u, try.sign); err != nil {
			return nil, nil, err
		}
		if resp.StatusCode != http.StatusUnauthorized {
			if len(tries) > 1 {
				f.remember(u.Host, try.rfc9421)
			}
			break
		}
		if i < len(tries)-1 {
			resp.Body.Close()
		}
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
	if err := activitypub.CheckDepth(body); err != nil {
		return nil, nil, err
	}
	return body, final, nil
}

// get is one fetch of u, signed by signer (nil: unsigned). Each redirect is
// checked before it is followed (and signed): one to another origin, or to
// ours, is never sent.
func (f *Fetcher) get(ctx context.Context, u *url.URL, signer outbound.Signer) (*http.Response, error) {
	sign := func(r *http.Request) error {
		if !activitypub.SameOrigin(r.URL, u) || f.own(r.URL) {
			return &activitypub.OriginError{Reason: "redirected to another origin"}
		}
		if signer == nil {
			return nil
		}
		return signer(r)
	}
	resp, err := f.client.Get(ctx, u.String(), acceptActivityPub, sign)
	if err != nil {
		var oe *activitypub.OriginError
		if errors.As(err, &oe) {
			return nil, oe
		}
		return nil, err
	}
	return resp, nil
}

// InstanceKeys gives the instance actor's key.
type InstanceKeys interface {
	InstanceKey(ctx context.Context) (*rsa.PrivateKey, string, error)
}

// InstanceSigning signs fetches as the instance actor (keyID, its key's
// id), in both generations.
func InstanceSigning(keys InstanceKeys, keyID string) Signing {
	with := func(sign func(*http.Request, []byte, httpsig.Key, time.Time) error) outbound.Signer {
		return func(r *http.Request) error {
			key, _, err := keys.InstanceKey(r.Context())
			if err != nil {
				return err
			}
			return sign(r, nil, httpsig.Key{ID: keyID, Private: key}, time.Now())
		}
	}
	return Signing{Cavage: with(httpsig.SignCavage), RFC9421: with(httpsig.SignRFC9421)}
}
