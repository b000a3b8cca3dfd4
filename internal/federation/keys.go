package federation

import (
	"context"
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

// Bounds of the remote key cache.
const (
	maxCachedKeys = 10_000
	// keyRefetchInterval is the least time between two fetches of one key:
	// a signature that fails against a cached key refetches it (the signer
	// may have rotated it), but never on every request, which would let
	// anyone make Rampart fetch at will.
	keyRefetchInterval = 5 * time.Minute
	// keyMaxAge is how long a fetched key is trusted without a refetch.
	keyMaxAge = 24 * time.Hour
	// maxKeyFetches is how many key fetches may run at once; a request
	// that would start one more is refused (the signer retries later).
	maxKeyFetches = 8
)

// errBusy: too many key fetches already in flight.
var errBusy = errors.New("too many key fetches in flight")

// remoteKeys finds the public keys of remote signers: fetched through the
// outbound guard, signed by the instance actor, held to the origin rules
// (activitypub.KeyFromDocument), and cached in memory.
type remoteKeys struct {
	client *outbound.Client
	sign   outbound.Signer
	self   []*url.URL // this instance's origins: its own and its media host
	now    func() time.Time

	// fetching bounds the key fetches in flight: each signed request with
	// an unknown keyId costs a fetch, so a flood of them must not become a
	// flood of outbound requests.
	fetching chan struct{}

	mu      sync.Mutex
	cache   map[string]cachedKey
	order   []string // keyIds, oldest first, for the bound
	fetched map[string]time.Time
}

type cachedKey struct {
	key *activitypub.FoundKey
	at  time.Time
}

func newRemoteKeys(client *outbound.Client, sign outbound.Signer, self ...*url.URL) *remoteKeys {
	return &remoteKeys{client: client, sign: sign, self: self, now: time.Now, fetching: make(chan struct{}, maxKeyFetches),
		cache: map[string]cachedKey{}, fetched: map[string]time.Time{}}
}

// errRecentlyFetched: the key was fetched too recently to fetch again.
var errRecentlyFetched = errors.New("key fetched recently")

// Key returns keyID's key: cached, or fetched. refresh asks for a fresh
// copy, which is granted at most once per keyRefetchInterval.
func (k *remoteKeys) Key(ctx context.Context, keyID string, refresh bool) (*activitypub.FoundKey, error) {
	now := k.now()
	k.mu.Lock()
	c, ok := k.cache[keyID]
	last := k.fetched[keyID]
	k.mu.Unlock()
	if ok && !refresh && now.Sub(c.at) < keyMaxAge {
		return c.key, nil
	}
	if !last.IsZero() && now.Sub(last) < keyRefetchInterval {
		if ok {
			return c.key, errRecentlyFetched
		}
		return nil, errRecentlyFetched
	}
	select {
	case k.fetching <- struct{}{}:
		defer func() { <-k.fetching }()
	default:
		return nil, errBusy
	}
	k.mu.Lock()
	k.fetched[keyID] = now
	k.mu.Unlock()

	found, err := k.fetch(ctx, keyID)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, had := k.cache[keyID]; !had {
		k.order = append(k.order, keyID)
	}
	k.cache[keyID] = cachedKey{key: found, at: now}
	for len(k.cache) > maxCachedKeys {
		delete(k.cache, k.order[0])
		delete(k.fetched, k.order[0])
		k.order = k.order[1:]
	}
	return found, nil
}

// fetch gets keyID's document and the key in it. A key URL whose document
// is its actor under another id (GoToSocial's) is fetched once more at
// that id, on the same origin only.
func (k *remoteKeys) fetch(ctx context.Context, keyID string) (*activitypub.FoundKey, error) {
	kid, err := url.Parse(keyID)
	if err != nil || !kid.IsAbs() {
		return nil, &activitypub.OriginError{Reason: "keyId is not an absolute URL"}
	}
	target := activitypub.WithoutFragment(kid)
	for attempt := 0; ; attempt++ {
		body, final, err := k.get(ctx, target)
		if err != nil {
			return nil, err
		}
		id, err := activitypub.DocumentID(body)
		if err != nil {
			return nil, err
		}
		if idURL, perr := url.Parse(id); perr == nil && attempt == 0 && id != activitypub.WithoutFragment(final).String() &&
			activitypub.SameOrigin(idURL, kid) {
			target = idURL
			continue
		}
		return activitypub.KeyFromDocument(body, final, keyID)
	}
}

// get fetches one ActivityPub document, refusing what is not one and what
// lives on this instance's own origins.
func (k *remoteKeys) get(ctx context.Context, u *url.URL) ([]byte, *url.URL, error) {
	for _, own := range k.self {
		if activitypub.SameOrigin(u, own) {
			return nil, nil, &activitypub.OriginError{Reason: "a document on this instance's own origin is never fetched"}
		}
	}
	resp, err := k.client.Get(ctx, u.String(), activitypub.ContentType+`, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, k.sign)
	if err != nil {
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
	for _, own := range k.self {
		if activitypub.SameOrigin(final, own) {
			return nil, nil, &activitypub.OriginError{Reason: "redirected to this instance's own origin"}
		}
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

// verifySigner checks r's signature, if it has one, and returns the key
// that signed it: nil for an unsigned request. A key that fails is fetched
// again (rate limited) before the request is refused.
func (f *Federation) verifySigner(r *http.Request) (*activitypub.FoundKey, error) {
	if !httpsig.Signed(r) {
		return nil, nil
	}
	sig, err := httpsig.Parse(r, f.cfg.InstanceURL().Scheme)
	if err != nil {
		return nil, err
	}
	if err := sig.Check(time.Now()); err != nil {
		return nil, err
	}
	key, err := f.remote.Key(r.Context(), sig.KeyID, false)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", sig.KeyID, err)
	}
	if err := sig.Verify(key.Key); err != nil {
		fresh, ferr := f.remote.Key(r.Context(), sig.KeyID, true)
		if ferr != nil || sig.Verify(fresh.Key) != nil {
			return nil, err
		}
		key = fresh
	}
	return key, nil
}
