package remote

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
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
	// maxKeyIDLength bounds a keyId: real ones are URLs of a few dozen bytes.
	maxKeyIDLength = 2048
	// One host's share (found in review: one server could otherwise spend
	// the whole budget and leave every other signer unverified): at most
	// maxKeyFetchesPerHost of the fetches in flight, and at most
	// maxKeysPerHost distinct keys fetched per keyRefetchInterval. A
	// server has one key per actor, and signs with few actors at once.
	maxKeyFetchesPerHost = 2
	maxKeysPerHost       = 100
	// maxBudgetHosts bounds the per-host counts; when full of hosts still
	// within their window, a new host waits (fail closed).
	maxBudgetHosts = 10_000
)

// errBusy: too many key fetches already in flight.
var errBusy = errors.New("too many key fetches in flight")

// Keys finds the public keys of remote signers: fetched through the
// outbound guard, signed by the instance actor, held to the origin rules
// (activitypub.KeyFromDocument), and cached in memory.
type Keys struct {
	fetcher *Fetcher
	now     func() time.Time

	// fetching bounds the key fetches in flight: each signed request with
	// an unknown keyId costs a fetch, so a flood of them must not become a
	// flood of outbound requests.
	fetching chan struct{}

	mu      sync.Mutex
	cache   map[string]cachedKey
	order   []string // keyIds, oldest first, for the bound
	fetched map[string]time.Time
	hosts   map[string]*hostBudget // by keyId host
}

// hostBudget is one host's use of the key fetches.
type hostBudget struct {
	inFlight    int
	windowStart time.Time
	fetched     int // keys fetched since windowStart
}

type cachedKey struct {
	key *activitypub.FoundKey
	at  time.Time
}

// NewKeys returns a key cache that fetches through f.
func NewKeys(f *Fetcher) *Keys {
	return &Keys{fetcher: f, now: time.Now, fetching: make(chan struct{}, maxKeyFetches),
		cache: map[string]cachedKey{}, fetched: map[string]time.Time{}, hosts: map[string]*hostBudget{}}
}

// errRecentlyFetched: the key was fetched too recently to fetch again.
var errRecentlyFetched = errors.New("key fetched recently")

// Key returns keyID's key: cached, or fetched. refresh asks for a fresh
// copy, which is granted at most once per keyRefetchInterval.
func (k *Keys) Key(ctx context.Context, keyID string, refresh bool) (*activitypub.FoundKey, error) {
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
	// What is refused without the network is refused before anything is
	// remembered: only a keyId worth a fetch takes a place below.
	kid, err := url.Parse(keyID)
	if err != nil || len(keyID) > maxKeyIDLength || !kid.IsAbs() || kid.Host == "" || k.fetcher.own(kid) {
		return nil, &activitypub.OriginError{Reason: "keyId is not a URL Rampart fetches"}
	}
	select {
	case k.fetching <- struct{}{}:
		defer func() { <-k.fetching }()
	default:
		return nil, errBusy
	}
	k.mu.Lock()
	// The refetch times are bounded like the cache: past twice its size,
	// those older than the interval go; if none has, no new key is fetched
	// until some have.
	if len(k.fetched) >= 2*maxCachedKeys {
		for id, at := range k.fetched {
			if now.Sub(at) >= keyRefetchInterval {
				delete(k.fetched, id)
			}
		}
	}
	if len(k.fetched) >= 2*maxCachedKeys {
		k.mu.Unlock()
		return nil, errBusy
	}
	host := strings.ToLower(kid.Host)
	if !k.takeHost(host, now) {
		k.mu.Unlock()
		return nil, errBusy
	}
	k.fetched[keyID] = now
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		k.hosts[host].inFlight--
		k.mu.Unlock()
	}()

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

// takeHost counts one fetch from host against its share, or reports that
// its share is spent. k.mu is held.
func (k *Keys) takeHost(host string, now time.Time) bool {
	b := k.hosts[host]
	if b == nil {
		if len(k.hosts) >= maxBudgetHosts {
			for h, o := range k.hosts {
				if o.inFlight == 0 && now.Sub(o.windowStart) >= keyRefetchInterval {
					delete(k.hosts, h)
				}
			}
			if len(k.hosts) >= maxBudgetHosts {
				return false
			}
		}
		b = &hostBudget{windowStart: now}
		k.hosts[host] = b
	}
	if now.Sub(b.windowStart) >= keyRefetchInterval {
		b.windowStart, b.fetched = now, 0
	}
	if b.inFlight >= maxKeyFetchesPerHost || b.fetched >= maxKeysPerHost {
		return false
	}
	b.inFlight++
	b.fetched++
	return true
}

// fetch gets keyID's document and the key in it. A key URL whose document
// is its actor under another id (GoToSocial's) is fetched once more at
// that id, on the same origin only.
func (k *Keys) fetch(ctx context.Context, keyID string) (*activitypub.FoundKey, error) {
	kid, err := url.Parse(keyID)
	if err != nil || !kid.IsAbs() {
		return nil, &activitypub.OriginError{Reason: "keyId is not an absolute URL"}
	}
	target := activitypub.WithoutFragment(kid)
	for attempt := 0; ; attempt++ {
		body, final, err := k.fetcher.Document(ctx, target)
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
		found, err := activitypub.KeyFromDocument(body, final, keyID)
		if err != nil {
			return nil, err
		}
		if found.Owner != id {
			// A key document of its own (not an actor's) names its owner;
			// the owner's actor must list the key too, or anyone who can
			// place a file on the origin could speak for its actors.
			owner, _ := url.Parse(found.Owner)
			ob, ofinal, err := k.fetcher.Document(ctx, owner)
			if err != nil {
				return nil, err
			}
			if _, err := activitypub.KeyFromDocument(ob, ofinal, keyID); err != nil {
				return nil, &activitypub.OriginError{Reason: "the key's owner does not list the key"}
			}
		}
		return found, nil
	}
}
