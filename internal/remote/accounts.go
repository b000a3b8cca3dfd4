package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/outbound"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/sanitize"
	"github.com/rampart-social/rampart/internal/store"
)

// Bounds of a remote account.
const (
	// accountMaxAge is how long a fetched account is shown before it is
	// fetched again on the next lookup.
	accountMaxAge     = 24 * time.Hour
	maxWebFingerBytes = 64 << 10
	maxDisplayName    = 100
	maxFields         = 16
	// Resolves per person, per window: each may cost two outbound requests.
	resolvesPerWindow = 30
	resolveWindow     = 5 * time.Minute
	// resolveTimeout bounds a whole lookup (WebFinger and the actor), well
	// inside the server's write timeout.
	resolveTimeout = 20 * time.Second
	// maxURLLength bounds every URL kept from an actor.
	maxURLLength = 2048
)

// ErrNotFound: no such remote account (WebFinger or the actor said so, or
// what they said did not hold up).
var ErrNotFound = errors.New("remote account not found")

// Accounts resolves remote accounts by acct: WebFinger, then the actor,
// held to the origin rules, sanitized and stored beside local accounts.
type Accounts struct {
	log     *slog.Logger
	client  *outbound.Client
	fetcher *Fetcher
	store   *store.Store
	ids     *id.Generator
	// limits (lookups per person) and fetchLimits (what activities make
	// Rampart fetch, per origin: takeFetch) are per process, in memory:
	// with N processes on one database a person gets up to N times the
	// lookups, an origin N times the fetches. They bound outbound work,
	// which each process does and pays for itself, not guesses at a
	// secret, so N times a small bound stays small; and kept in memory,
	// a lookup or an inbox job never waits on, or fails with, a database
	// write for its budget. The limits that must hold whatever the number
	// of processes (sign-in, sign-up, app registration) are ratelimit.Shared.
	limits      *ratelimit.Limiter
	fetchLimits *ratelimit.Limiter
	now         func() time.Time
}

// NewAccounts returns the resolver.
func NewAccounts(log *slog.Logger, client *outbound.Client, fetcher *Fetcher, st *store.Store, ids *id.Generator) *Accounts {
	return &Accounts{log: log, client: client, fetcher: fetcher, store: st, ids: ids,
		limits: ratelimit.New(resolvesPerWindow, resolveWindow, 10_000), now: time.Now,
		fetchLimits: ratelimit.New(fetchesPerWindow, fetchWindow, fetchLimiterKeys)}
}

// Resolve finds user@host for the person asking (their account id, for the
// rate limit): from the store when fetched within a day, else over the
// network.
func (a *Accounts) Resolve(ctx context.Context, asker int64, acct Acct) (*store.Account, error) {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	acc, err := a.resolve(ctx, asker, acct)
	var wait *ratelimit.WaitError
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.As(err, &wait) {
		a.log.Info("remote account lookup failed", "acct", acct.String(), "err", err)
	}
	return acc, err
}

func (a *Accounts) resolve(ctx context.Context, asker int64, acct Acct) (*store.Account, error) {
	known, err := a.store.AccountByUsername(ctx, acct.User, acct.Host)
	if err == nil {
		if at, err := a.store.AccountFetchedAt(ctx, known.ID); err == nil && a.now().Sub(at) < accountMaxAge {
			return known, nil
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if wait := a.limits.Take(fmt.Sprint(asker)); wait > 0 {
		return nil, &ratelimit.WaitError{What: "remote lookups", RetryAfter: wait}
	}
	href, _, err := a.webfinger(ctx, acct)
	if err != nil {
		if known != nil {
			return known, nil // keep what we had; the server may be down
		}
		return nil, err
	}
	return a.fetchAndStore(ctx, href, acct, known)
}

// fetchAndStore fetches the actor at href for acct, stores it, and reads
// the newest page of its outbox. When the actor does not hold up, what was
// known (if anything) stays shown.
func (a *Accounts) fetchAndStore(ctx context.Context, href *url.URL, acct Acct, known *store.Account) (*store.Account, error) {
	ra, outbox, err := a.fetchActor(ctx, href, acct)
	if err != nil {
		if known != nil {
			return known, nil
		}
		return nil, err
	}
	idNew, err := a.store.UpsertRemoteAccount(ctx, ra, a.ids.Next())
	if errors.Is(err, store.ErrDomainBlocked) {
		return nil, ErrNotFound // blocked while it was being fetched
	}
	if err != nil {
		if known != nil {
			// The name now belongs to another actor id on that server: the
			// row is not handed over, and what was known stays shown.
			return known, nil
		}
		return nil, err
	}
	acc, err := a.store.AccountByID(ctx, idNew)
	if err != nil {
		return nil, err
	}
	if err := a.recordMediaHosts(ctx, acc); err != nil {
		return nil, err
	}
	a.backfillLogged(ctx, acc, outbox)
	return acc, nil
}

// recordMediaHosts keeps the hosts acc's avatar and header are served from
// when they are a subdomain of the actor's own host (files.example.social
// for example.social): documents from them are refused from then on. No
// other host is believed: an actor could otherwise name its neighbours'
// hosts, or any server's, and have Rampart refuse them (found in review:
// tenants of one hosting domain are neighbours the public suffix list does
// not separate).
func (a *Accounts) recordMediaHosts(ctx context.Context, acc *store.Account) error {
	actor, err := url.Parse(acc.URI)
	if err != nil {
		return nil
	}
	for _, raw := range []string{acc.AvatarRemoteURL, acc.HeaderRemoteURL} {
		if host := uploadHost(actor, raw); host != "" {
			if err := a.store.AddRemoteMediaHost(ctx, host, a.now()); err != nil {
				return err
			}
		}
	}
	return nil
}

// uploadHost is the host of image when it is a subdomain of actor's host
// (on the same port): "" otherwise.
func uploadHost(actor *url.URL, image string) string {
	u, err := url.Parse(image)
	if err != nil || u.Host == "" || u.Port() != actor.Port() {
		return ""
	}
	sub, parent := strings.ToLower(u.Hostname()), strings.ToLower(actor.Hostname())
	if !strings.HasSuffix(sub, "."+parent) {
		return ""
	}
	return strings.ToLower(u.Host)
}

// backfillLogged backfills acc from outbox, if it has one; a failure is
// logged, and the account stands without its posts.
func (a *Accounts) backfillLogged(ctx context.Context, acc *store.Account, outbox *url.URL) {
	if outbox == nil {
		return
	}
	if _, err := a.backfill(ctx, acc, outbox); err != nil {
		a.log.Info("remote outbox not read", "acct", acc.Username+"@"+acc.Domain, "err", err)
	}
}

// refreshBatch is how many remote accounts one Refresh round fetches;
// refreshRetry is how long one that failed waits for the next try.
const (
	refreshBatch = 50
	refreshRetry = 6 * time.Hour
)

// Refresh fetches again the remote accounts not fetched for a day, the
// stalest first, at most refreshBatch per call (the hourly janitor calls
// it), through the same rules as a lookup. It returns how many were
// brought up to date; one that fails keeps what was known and is retried
// in a later round.
func (a *Accounts) Refresh(ctx context.Context) (int, error) {
	stale, err := a.store.StaleRemoteAccounts(ctx, a.now().Add(-accountMaxAge), refreshBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, acc := range stale {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		id, err := url.Parse(acc.URI)
		if err != nil {
			continue
		}
		fctx, cancel := context.WithTimeout(ctx, resolveTimeout)
		ra, outbox, err := a.fetchActor(fctx, id, Acct{User: acc.Username, Host: acc.Domain})
		if err == nil {
			_, err = a.store.UpsertRemoteAccount(ctx, ra, a.ids.Next())
		}
		if err == nil {
			if err = a.recordMediaHosts(ctx, acc); err == nil {
				a.backfillLogged(fctx, acc, outbox)
			}
		}
		cancel()
		if err != nil {
			// Kept as known, and tried again after refreshRetry, behind the
			// others: one server down cannot hold the queue.
			a.log.Info("remote account refresh failed", "acct", acc.Username+"@"+acc.Domain, "err", err)
			if err := a.store.SetRemoteAccountFetchedAt(ctx, acc.ID, a.now().Add(-accountMaxAge+refreshRetry)); err != nil {
				return n, err
			}
			continue
		}
		n++
	}
	return n, nil
}

// webfinger asks acct's host for its actor id, and the acct it answers
// for (its subject: the canonical name, when the server goes by another).
// A host on a blocked domain is not asked: its accounts do not exist here
// (ErrNotFound).
func (a *Accounts) webfinger(ctx context.Context, acct Acct) (*url.URL, string, error) {
	if err := a.fetcher.refuse(ctx, acct.Host); errors.Is(err, ErrBlocked) {
		return nil, "", ErrNotFound
	} else if err != nil {
		return nil, "", err
	}
	var resp *http.Response
	var err error
	// https; a test host may also be plain http (a test instance), tried
	// only when https could not be spoken at all.
	for _, scheme := range a.client.Schemes(acct.Host) {
		u := url.URL{Scheme: scheme, Host: acct.Host, Path: "/.well-known/webfinger",
			RawQuery: "resource=" + url.QueryEscape("acct:"+acct.String())}
		if resp, err = a.client.Get(ctx, u.String(), "application/jrd+json, application/json", nil); err == nil {
			break
		}
	}
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
		return nil, "", ErrNotFound
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("webfinger %s: status %d", acct, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWebFingerBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("webfinger %s: %w", acct, err)
	}
	if len(body) > maxWebFingerBytes {
		return nil, "", fmt.Errorf("webfinger %s: document too large", acct)
	}
	var doc struct {
		Subject string `json:"subject"`
		Links   []struct {
			Rel  string `json:"rel"`
			Type string `json:"type"`
			Href string `json:"href"`
		} `json:"links"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, "", fmt.Errorf("webfinger %s: %w", acct, err)
	}
	for _, l := range doc.Links {
		if l.Rel != "self" || !activitypub.IsContentType(l.Type) {
			continue
		}
		href, err := url.Parse(l.Href)
		if err != nil || !href.IsAbs() || href.Host == "" {
			continue
		}
		return href, doc.Subject, nil
	}
	return nil, "", ErrNotFound
}

// actorDoc is what Rampart reads of a remote actor. Fields peers shape in
// more than one way are read raw and interpreted below.
type actorDoc struct {
	ID                string          `json:"id"`
	Type              json.RawMessage `json:"type"`
	PreferredUsername string          `json:"preferredUsername"`
	Name              json.RawMessage `json:"name"`
	Summary           json.RawMessage `json:"summary"`
	URL               json.RawMessage `json:"url"`
	Inbox             string          `json:"inbox"`
	Outbox            string          `json:"outbox"`
	Endpoints         struct {
		SharedInbox string `json:"sharedInbox"`
	} `json:"endpoints"`
	ManuallyApprovesFollowers json.RawMessage `json:"manuallyApprovesFollowers"`
	Discoverable              json.RawMessage `json:"discoverable"`
	Published                 string          `json:"published"`
	Icon                      json.RawMessage `json:"icon"`
	Image                     json.RawMessage `json:"image"`
	Attachment                json.RawMessage `json:"attachment"`
	PublicKey                 json.RawMessage `json:"publicKey"`
}

// str reads a JSON string ("" for anything else).
func str(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// isTrue reads a JSON true (false for anything else).
func isTrue(raw json.RawMessage) bool {
	var b bool
	return json.Unmarshal(raw, &b) == nil && b
}

// actorType reads type as a string or a list, and returns the actor type
// in it ("" when none).
func actorType(raw json.RawMessage) string {
	var many []string
	if json.Unmarshal(raw, &many) != nil {
		many = []string{str(raw)}
	}
	for _, t := range many {
		if actorTypes[t] {
			return t
		}
	}
	return ""
}

var actorTypes = map[string]bool{"Person": true, "Service": true, "Application": true, "Group": true, "Organization": true}

// fetchActor fetches href and makes it an account, if it holds up: an
// actor of a known type whose id is the URL it came from, on the acct's
// host (or one whose own host's WebFinger confirms the acct), whose
// preferredUsername is the acct's user, with an inbox and a key on its own
// origin. It also returns the actor's outbox (nil when it has none on its
// origin).
func (a *Accounts) fetchActor(ctx context.Context, href *url.URL, acct Acct) (*store.RemoteAccount, *url.URL, error) {
	body, final, err := a.fetcher.Document(ctx, href)
	if err != nil {
		return nil, nil, err
	}
	var doc actorDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, &activitypub.OriginError{Reason: fmt.Sprintf("the actor does not decode: %v", err)}
	}
	typ := actorType(doc.Type)
	idURL, err := url.Parse(doc.ID)
	switch {
	case err != nil || len(doc.ID) > maxURLLength || doc.ID != activitypub.WithoutFragment(final).String():
		return nil, nil, &activitypub.OriginError{Reason: "the actor's id is not the URL it was fetched from"}
	case typ == "":
		return nil, nil, &activitypub.OriginError{Reason: fmt.Sprintf("%s is not an actor type", doc.Type)}
	case !strings.EqualFold(doc.PreferredUsername, acct.User):
		return nil, nil, &activitypub.OriginError{Reason: "the actor's preferredUsername is not the acct's"}
	}
	if _, ok := ParseAcct(doc.PreferredUsername + "@" + acct.Host); !ok {
		return nil, nil, &activitypub.OriginError{Reason: "preferredUsername is not a username"}
	}
	domain, err := a.confirmDomain(ctx, acct, idURL)
	if err != nil {
		return nil, nil, err
	}
	inbox, err := url.Parse(doc.Inbox)
	if err != nil || len(doc.Inbox) > maxURLLength || !activitypub.SameOrigin(inbox, idURL) {
		return nil, nil, &activitypub.OriginError{Reason: "the inbox is not on the actor's origin"}
	}
	key, err := activitypub.KeyFromDocument(body, final, activitypub.MainKeyID(doc.PublicKey))
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := activitypub.PublicKeyPEM(key.Key)
	if err != nil {
		return nil, nil, err
	}
	now := a.now().UTC()
	created := now
	if t, err := time.Parse(time.RFC3339, doc.Published); err == nil && t.Before(now) {
		created = t
	}
	acc := store.Account{
		Username: doc.PreferredUsername, Domain: domain, URI: doc.ID,
		URL:         sameOriginURL(doc.URL, idURL, doc.ID),
		DisplayName: truncate(sanitize.Text(str(doc.Name)), maxDisplayName),
		Note:        sanitize.HTML(str(doc.Summary)),
		Locked:      isTrue(doc.ManuallyApprovesFollowers), Bot: typ == "Service" || typ == "Application",
		Discoverable: isTrue(doc.Discoverable), PublicKeyPEM: keyPEM,
		AvatarRemoteURL: imageURL(doc.Icon, idURL), HeaderRemoteURL: imageURL(doc.Image, idURL),
		Fields:    fields(doc.Attachment),
		CreatedAt: created,
	}
	shared := ""
	if u, err := url.Parse(doc.Endpoints.SharedInbox); err == nil && len(doc.Endpoints.SharedInbox) <= maxURLLength && activitypub.SameOrigin(u, idURL) {
		shared = u.String()
	}
	var outbox *url.URL
	if u, err := url.Parse(doc.Outbox); err == nil && doc.Outbox != "" && len(doc.Outbox) <= maxURLLength && activitypub.SameOrigin(u, idURL) {
		outbox = u
	}
	return &store.RemoteAccount{Account: acc, InboxURL: inbox.String(), SharedInboxURL: shared, FetchedAt: now}, outbox, nil
}

// confirmDomain is the domain an actor at id is stored under when it was
// found as acct. On acct's own host, that host. On another host (a server
// whose people are @user@example.com while it runs at social.example.com),
// the actor's own host must confirm it through WebFinger: its answer must
// name this actor, and its subject is the name kept, when it is the acct's
// or the actor host's. Otherwise a server could claim anyone's actor under
// its own domain.
func (a *Accounts) confirmDomain(ctx context.Context, acct Acct, id *url.URL) (string, error) {
	if strings.EqualFold(id.Host, acct.Host) {
		return strings.ToLower(acct.Host), nil
	}
	href, subject, err := a.webfinger(ctx, Acct{User: acct.User, Host: strings.ToLower(id.Host)})
	if err != nil {
		return "", &activitypub.OriginError{Reason: fmt.Sprintf("the actor is on %s, whose WebFinger did not confirm it: %v", id.Host, err)}
	}
	if href.String() != id.String() {
		return "", &activitypub.OriginError{Reason: "the actor's own host names another actor for " + acct.User}
	}
	canonical, ok := ParseAcct(subject)
	if !ok || !strings.EqualFold(canonical.User, acct.User) {
		return "", &activitypub.OriginError{Reason: "the actor's own host gives no usable subject"}
	}
	if canonical.Host == strings.ToLower(acct.Host) || canonical.Host == strings.ToLower(id.Host) {
		return canonical.Host, nil
	}
	return "", &activitypub.OriginError{Reason: "the actor's own host names it " + canonical.String()}
}

// sameOriginURL is the actor's profile page: its url when that is a string
// on the actor's origin, else the id.
func sameOriginURL(raw json.RawMessage, origin *url.URL, fallback string) string {
	var s string
	if json.Unmarshal(raw, &s) == nil && len(s) <= maxURLLength {
		if u, err := url.Parse(s); err == nil && activitypub.SameOrigin(u, origin) {
			return u.String()
		}
	}
	return fallback
}

// imageURL reads an icon or image: an object (or the first of a list) with
// an absolute URL, shown by URL from the remote server (no media proxy
// yet). It must be https (http only for an actor that is itself on http,
// a test instance), at most maxURLLength, and not an IP address that is not
// public: a client would load it from wherever it points.
func imageURL(raw json.RawMessage, actor *url.URL) string {
	type image struct {
		URL string `json:"url"`
	}
	var one image
	if json.Unmarshal(raw, &one) != nil || one.URL == "" {
		var many []image
		if json.Unmarshal(raw, &many) != nil || len(many) == 0 {
			return ""
		}
		one = many[0]
	}
	if len(one.URL) > maxURLLength {
		return ""
	}
	u, err := url.Parse(one.URL)
	if err != nil || u.Host == "" || u.User != nil || !(u.Scheme == "https" || u.Scheme == "http" && actor.Scheme == "http") {
		return ""
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !outbound.Public(ip) && u.Scheme == "https" {
		return ""
	}
	return u.String()
}

// fields reads PropertyValue attachments: names as text, values as
// sanitized HTML.
func fields(raw json.RawMessage) []store.Field {
	var items []struct {
		Type  string `json:"type"`
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []store.Field
	for _, it := range items {
		if it.Type != "PropertyValue" || len(out) == maxFields {
			continue
		}
		out = append(out, store.Field{Name: truncate(sanitize.Text(it.Name), 255), Value: sanitize.HTML(truncate(it.Value, 2048))})
	}
	return out
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
