package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/sanitize"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/text"
)

// Bounds of remote statuses.
const (
	// backfillItems is how many of an outbox's newest activities are read
	// when its actor is looked up or refreshed (one page, as Mastodon
	// serves them).
	backfillItems = 20
	// maxNoteContent bounds a Note's HTML: a longer one is refused, never
	// cut (cut HTML is other HTML).
	maxNoteContent = 64 << 10
	maxSpoiler     = 1024
	maxNoteTags    = 64
)

// earliestPublished is the earliest publication time believed.
var earliestPublished = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// noteTypes are the object types stored as statuses.
var noteTypes = map[string]bool{"Note": true, "Article": true, "Page": true, "Question": true, "Event": true}

// noteDoc is what Rampart reads of a remote Note. Fields peers shape in
// more than one way are read raw.
type noteDoc struct {
	ID           string            `json:"id"`
	Type         json.RawMessage   `json:"type"`
	AttributedTo json.RawMessage   `json:"attributedTo"`
	Name         json.RawMessage   `json:"name"`
	Content      json.RawMessage   `json:"content"`
	ContentMap   map[string]string `json:"contentMap"`
	Summary      json.RawMessage   `json:"summary"`
	Sensitive    json.RawMessage   `json:"sensitive"`
	InReplyTo    json.RawMessage   `json:"inReplyTo"`
	Published    string            `json:"published"`
	URL          json.RawMessage   `json:"url"`
	To           json.RawMessage   `json:"to"`
	Cc           json.RawMessage   `json:"cc"`
	Tag          json.RawMessage   `json:"tag"`
	Attachment   json.RawMessage   `json:"attachment"`
	OneOf        json.RawMessage   `json:"oneOf"`
	AnyOf        json.RawMessage   `json:"anyOf"`
	EndTime      string            `json:"endTime"`
	Closed       json.RawMessage   `json:"closed"`
	VotersCount  json.RawMessage   `json:"votersCount"`
}

// NoteError says why a remote Note was not stored.
type NoteError struct{ Reason string }

func (e *NoteError) Error() string { return "remote note refused: " + e.Reason }

func refuseNote(format string, args ...any) error {
	return &NoteError{Reason: fmt.Sprintf(format, args...)}
}

// isPublic reports whether a list of addressees holds the public
// collection, in any of the spellings peers use.
func isPublic(list []string) bool {
	for _, a := range list {
		if a == activitypub.Public || a == "as:Public" || a == "Public" {
			return true
		}
	}
	return false
}

// parsedNote is a remote Note, checked and sanitized, before the store
// links it to what is known here.
type parsedNote struct {
	status    store.Status
	inReplyTo string
	mentions  []string // actor ids
	tags      []string
	// withoutMedia is the content without the attachments' links, for a
	// domain whose media are rejected; hasMedia says there were some.
	withoutMedia string
	hasMedia     bool
	// question: a poll, whose results (in its content) move without
	// being edits.
	question bool
	// poll is a Question's poll (no ids yet), nil when it has no options.
	poll   *store.Poll
	domain string // the author's
}

// parseNote reads a Note of author that came from origin (the document it
// was fetched as, or that embedded it), and holds it to the rules: a note
// type; an id on origin's origin; attributed to author and nobody else;
// public or unlisted (others' audiences are not known here before part 2);
// content within bounds. The HTML is sanitized here, before anything keeps
// it.
//
// delivered is a Note that came to an inbox here, whose audience is known:
// it may also be followers-only (addressed, but not to the public) or
// direct (addressed to the people it mentions and nobody else).
func parseNote(raw []byte, author *store.Account, origin *url.URL, now time.Time, delivered bool) (*parsedNote, error) {
	var doc noteDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, refuseNote("it does not decode: %v", err)
	}
	typ := ""
	for _, t := range activitypub.IDs(doc.Type) {
		if noteTypes[t] {
			typ = t
		}
	}
	if typ == "" {
		return nil, refuseNote("%s is not a note type", doc.Type)
	}
	idURL, err := url.Parse(doc.ID)
	if err != nil || len(doc.ID) > maxURLLength || !idURL.IsAbs() || !activitypub.SameOrigin(idURL, origin) {
		return nil, refuseNote("its id %q is not on the origin it came from", doc.ID)
	}
	authorURL, err := url.Parse(author.URI)
	if err != nil || !activitypub.SameOrigin(idURL, authorURL) {
		return nil, refuseNote("it is not on its author's origin")
	}
	if attributed := activitypub.IDs(doc.AttributedTo); len(attributed) != 1 || attributed[0] != author.URI {
		return nil, refuseNote("it is not attributed to %s alone", author.URI)
	}
	to, cc := activitypub.IDs(doc.To), activitypub.IDs(doc.Cc)
	var vis store.Visibility
	switch {
	case isPublic(to):
		vis = store.Public
	case isPublic(cc):
		vis = store.Unlisted
	case delivered:
		vis = store.Private // Direct when only the mentioned are addressed: below
	default:
		return nil, refuseNote("it is neither public nor unlisted")
	}
	content, lang := str(doc.Content), ""
	if content == "" {
		for l, c := range doc.ContentMap {
			content, lang = c, l
			break
		}
	}
	if len(doc.ContentMap) == 1 {
		for l := range doc.ContentMap {
			lang = l
		}
	}
	if len(content) > maxNoteContent {
		return nil, refuseNote("its content is over %d bytes", maxNoteContent)
	}
	if typ != "Note" && typ != "Question" {
		// An article shows its title above its text, as Mastodon shows it.
		if name := sanitize.Text(str(doc.Name)); name != "" {
			content = "<p><strong>" + html.EscapeString(truncate(name, 300)) + "</strong></p>" + content
		}
	}
	question := typ == "Question"
	var poll *store.Poll
	if question {
		// A poll is kept as a poll (Mastodon's entity); one whose options
		// do not read shows them as text below its content.
		if poll = questionPoll(&doc, now); poll == nil {
			content += questionResults(doc.OneOf, doc.AnyOf)
		}
	}
	// A time in the future, or before there was a fediverse, is not
	// believed: it would sort the status (its id is made from it) where it
	// does not belong, or below every id (found in review).
	created := now
	if t, err := time.Parse(time.RFC3339, doc.Published); err == nil && t.Before(now) && t.After(earliestPublished) {
		created = t.UTC()
	}
	links := attachmentLinks(doc.Attachment, idURL)
	n := &parsedNote{domain: author.Domain, question: question, poll: poll, status: store.Status{
		URI: doc.ID, URL: sameOriginURL(doc.URL, idURL, doc.ID), AccountID: author.ID,
		Content:     sanitize.HTML(content + links),
		SpoilerText: truncate(sanitize.Text(str(doc.Summary)), maxSpoiler),
		Sensitive:   isTrue(doc.Sensitive), Visibility: vis, Language: validLanguage(lang), CreatedAt: created,
	}}
	if links != "" {
		n.withoutMedia, n.hasMedia = sanitize.HTML(content), true
	}
	if r := activitypub.IDs(doc.InReplyTo); len(r) == 1 {
		n.inReplyTo = r[0]
	}
	var tags []struct {
		Type string `json:"type"`
		Href string `json:"href"`
		Name string `json:"name"`
	}
	_ = json.Unmarshal(doc.Tag, &tags) // a single tag object or junk: no tags
	seen := map[string]bool{}
	for _, t := range tags[:min(len(tags), maxNoteTags)] {
		switch t.Type {
		case "Hashtag":
			_, found := text.Extract("#" + strings.TrimPrefix(t.Name, "#"))
			for _, tag := range found {
				if !seen["#"+tag] {
					seen["#"+tag] = true
					n.tags = append(n.tags, strings.ToLower(tag))
				}
			}
		case "Mention":
			if t.Href != "" && len(t.Href) <= maxURLLength && !seen[t.Href] {
				seen[t.Href] = true
				n.mentions = append(n.mentions, t.Href)
			}
		}
	}
	if vis == store.Private {
		direct := true
		for _, a := range append(to, cc...) {
			if !seen[a] {
				direct = false // a collection (its followers) is addressed
			}
		}
		if direct {
			n.status.Visibility = store.Direct
		}
	}
	return n, nil
}

// attachmentLinks shows a remote Note's attachments as links below its
// text (remote media are not fetched or proxied yet): https URLs only
// (http for an author on http, a test instance).
func attachmentLinks(raw json.RawMessage, origin *url.URL) string {
	var items []struct {
		URL  json.RawMessage `json:"url"`
		Name string          `json:"name"`
	}
	if json.Unmarshal(raw, &items) != nil {
		return ""
	}
	var b strings.Builder
	for _, it := range items[:min(len(items), 8)] {
		u := str(it.URL)
		if u == "" {
			var links []struct {
				Href string `json:"href"`
			}
			if json.Unmarshal(it.URL, &links) == nil && len(links) > 0 {
				u = links[0].Href
			}
		}
		p, err := url.Parse(u)
		if err != nil || len(u) > maxURLLength || p.Host == "" || !(p.Scheme == "https" || p.Scheme == "http" && origin.Scheme == "http") {
			continue
		}
		label := sanitize.Text(it.Name)
		if label == "" {
			label = p.String()
		}
		b.WriteString(`<p><a href="` + html.EscapeString(p.String()) + `">` + html.EscapeString(truncate(label, 200)) + `</a></p>`)
	}
	return b.String()
}

// validLanguage keeps a language tag that looks like one (ISO 639, with
// a region at most), else "".
func validLanguage(l string) string {
	base, _, _ := strings.Cut(l, "-")
	if len(base) < 2 || len(base) > 3 {
		return ""
	}
	for _, c := range []byte(base) {
		if c < 'a' || c > 'z' {
			return ""
		}
	}
	return base
}

// storeNote links a parsed Note to what is known here (the status it
// answers, the accounts it mentions) and stores it; a Note already known
// keeps its row. It returns the status id.
func (a *Accounts) storeNote(ctx context.Context, n *parsedNote) (int64, error) {
	id, _, _, err := a.storeNoteFor(ctx, n)
	return id, err
}

// storeNoteFor is storeNote that also says whether the Note was new and
// which local accounts it mentions (a direct one is put in their home
// timelines).
func (a *Accounts) storeNoteFor(ctx context.Context, n *parsedNote) (sid int64, created bool, local []int64, err error) {
	st := n.status
	if st.Content, err = a.contentFor(ctx, n); err != nil {
		return 0, false, nil, err
	}
	st.ID = id.At(st.CreatedAt) // sorted by when it was written, not when it arrived
	if n.inReplyTo != "" {
		// Linked (and counted among its replies) only when the author may
		// see what it answers, by the store's one visibility rule: a
		// remote server cannot attach replies to a private status it
		// guessed the id of (found in review).
		parent, err := a.store.StatusByURI(ctx, n.inReplyTo)
		if err == nil {
			parent, err = a.store.VisibleStatus(ctx, st.AccountID, parent.ID)
		}
		if err == nil {
			st.InReplyToID, st.InReplyToAccountID = parent.ID, parent.AccountID
		} else if !errors.Is(err, store.ErrNotFound) {
			return 0, false, nil, err
		}
	}
	mentionIDs, local, err := a.mentioned(ctx, n.mentions)
	if err != nil {
		return 0, false, nil, err
	}
	ns := store.NewStatus{Status: &st, MentionIDs: mentionIDs, Tags: n.tags,
		Words: text.SearchWords(sanitize.Text(st.SpoilerText + " " + st.Content))}
	if n.poll != nil {
		p := *n.poll
		p.ID = a.ids.Next()
		ns.Poll = &p
	}
	if st.Visibility == store.Direct {
		ns.FeedAccounts = local
		// A silenced domain's direct messages reach only the home
		// timelines of those who follow their author.
		if silenced, err := a.store.AccountSilenced(ctx, st.AccountID); err != nil {
			return 0, false, nil, err
		} else if silenced {
			ns.FeedAccounts = nil
			for _, id := range local {
				if follows, err := a.store.FollowsAccount(ctx, id, st.AccountID); err != nil {
					return 0, false, nil, err
				} else if follows {
					ns.FeedAccounts = append(ns.FeedAccounts, id)
				}
			}
		}
	}
	sid, created, err = a.store.CreateRemoteStatus(ctx, ns)
	return sid, created, local, err
}

// backfill reads the newest page of author's outbox and stores the public
// and unlisted Notes it creates, so that an account looked up shows its
// recent posts before anyone here follows it. Each activity is held to the
// rules on its own: one that fails is skipped, and nothing is fetched
// beyond the outbox and its first page.
func (a *Accounts) backfill(ctx context.Context, author *store.Account, outbox *url.URL) (int, error) {
	body, final, err := a.fetcher.Document(ctx, outbox)
	if err != nil {
		return 0, err
	}
	var coll struct {
		ID           string            `json:"id"`
		First        json.RawMessage   `json:"first"`
		OrderedItems []json.RawMessage `json:"orderedItems"`
		Items        []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &coll); err != nil {
		return 0, refuseNote("the outbox does not decode: %v", err)
	}
	if coll.ID != activitypub.WithoutFragment(final).String() {
		return 0, &activitypub.OriginError{Reason: "the outbox's id is not the URL it was fetched from"}
	}
	items := append(coll.OrderedItems, coll.Items...)
	origin := final
	if len(items) == 0 && len(coll.First) > 0 {
		// The first page: embedded (same origin as the outbox, as its
		// document vouches for it), or fetched from the outbox's origin.
		page := coll.First
		if first := str(coll.First); first != "" {
			u, err := url.Parse(first)
			if err != nil || !activitypub.SameOrigin(u, final) {
				return 0, &activitypub.OriginError{Reason: "the outbox's first page is on another origin"}
			}
			if page, final, err = a.fetcher.Document(ctx, u); err != nil {
				return 0, err
			}
			origin = final
		}
		var p struct {
			OrderedItems []json.RawMessage `json:"orderedItems"`
			Items        []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(page, &p); err != nil {
			return 0, refuseNote("the outbox page does not decode: %v", err)
		}
		items = append(p.OrderedItems, p.Items...)
	}
	stored := 0
	items = items[:min(len(items), backfillItems)]
	// Oldest first: a reply on the page then finds what it answers.
	slices.Reverse(items)
	for _, item := range items {
		var act struct {
			Type   string          `json:"type"`
			Actor  json.RawMessage `json:"actor"`
			Object json.RawMessage `json:"object"`
		}
		if json.Unmarshal(item, &act) != nil || act.Type != "Create" {
			continue // reblogs (Announce) and others wait for part 2
		}
		if actors := activitypub.IDs(act.Actor); len(actors) != 1 || actors[0] != author.URI {
			continue
		}
		// An object given only by its id is not fetched (a fetch each, on
		// a lookup): it does not parse as a Note, and is skipped.
		n, err := parseNote(act.Object, author, origin, a.now(), false)
		if err != nil {
			continue
		}
		if _, err := a.storeNote(ctx, n); err != nil {
			return stored, err
		}
		stored++
	}
	return stored, nil
}

// ResolveURL looks a URL up for the person asking (their account id, for
// the rate limit): a remote actor or a remote Note, fetched through the
// guard and held to the same rules as a lookup by acct, then stored. It
// returns the account's id, and the status's id when the URL was a Note.
func (a *Accounts) ResolveURL(ctx context.Context, asker int64, u *url.URL) (accountID, statusID int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	if wait := a.limits.Take(fmt.Sprint(asker)); wait > 0 {
		return 0, 0, &ratelimit.WaitError{What: "remote lookups", RetryAfter: wait}
	}
	accountID, statusID, err = a.resolveURL(ctx, u)
	if err != nil {
		a.log.Info("remote lookup by URL failed", "url", u.String(), "err", err)
	}
	return accountID, statusID, err
}

func (a *Accounts) resolveURL(ctx context.Context, u *url.URL) (int64, int64, error) {
	if st, err := a.store.StatusByURI(ctx, u.String()); err == nil && !st.Local {
		return st.AccountID, st.ID, nil
	}
	if acc, err := a.store.AccountByURI(ctx, u.String()); err == nil && acc.Domain != "" {
		return acc.ID, 0, nil
	}
	d, err := a.fetchDocument(ctx, u)
	if err != nil {
		return 0, 0, err
	}
	return a.storeDocument(ctx, d)
}

// fetched is a document fetched by URL: an actor or a Note.
type fetched struct {
	body      []byte
	final     *url.URL
	actor     string // its preferredUsername, when it is an actor
	isActor   bool
	inReplyTo string // a Note's parent, as given
}

// fetchDocument fetches the document at u through the guard and checks
// what needs no store: its id is the URL it came from; a Note is
// attributed to one actor on its own origin.
func (a *Accounts) fetchDocument(ctx context.Context, u *url.URL) (*fetched, error) {
	body, final, err := a.fetcher.Document(ctx, u)
	if err != nil {
		return nil, err
	}
	var head struct {
		ID                string          `json:"id"`
		Type              json.RawMessage `json:"type"`
		AttributedTo      json.RawMessage `json:"attributedTo"`
		PreferredUsername string          `json:"preferredUsername"`
		InReplyTo         json.RawMessage `json:"inReplyTo"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, refuseNote("it does not decode: %v", err)
	}
	if head.ID != activitypub.WithoutFragment(final).String() {
		return nil, &activitypub.OriginError{Reason: "the document's id is not the URL it was fetched from"}
	}
	d := &fetched{body: body, final: final}
	if actorType(head.Type) != "" {
		d.isActor, d.actor = true, head.PreferredUsername
		return d, nil
	}
	attributed := activitypub.IDs(head.AttributedTo)
	if len(attributed) != 1 {
		return nil, refuseNote("it is not attributed to one actor")
	}
	authorURL, err := url.Parse(attributed[0])
	if err != nil || !activitypub.SameOrigin(authorURL, final) {
		return nil, refuseNote("it is attributed to an actor on another origin")
	}
	if r := activitypub.IDs(head.InReplyTo); len(r) == 1 && len(r[0]) <= maxURLLength {
		d.inReplyTo = r[0]
	}
	return d, nil
}

// storeDocument stores a fetched actor, or a Note and (when unknown) its
// author, held to the rules; it returns the account and the status.
func (a *Accounts) storeDocument(ctx context.Context, d *fetched) (int64, int64, error) {
	if d.isActor {
		acc, err := a.actorByID(ctx, d.final, d.actor)
		if err != nil {
			return 0, 0, err
		}
		return acc.ID, 0, nil
	}
	var attributed struct {
		AttributedTo json.RawMessage `json:"attributedTo"`
	}
	_ = json.Unmarshal(d.body, &attributed) // decoded once already
	authorURL, err := url.Parse(activitypub.IDs(attributed.AttributedTo)[0])
	if err != nil {
		return 0, 0, refuseNote("its author is not a URL")
	}
	author, err := a.store.AccountByURI(ctx, authorURL.String())
	if errors.Is(err, store.ErrNotFound) || err == nil && author.Domain != "" && a.stale(ctx, author.ID) {
		author, err = a.actorByID(ctx, authorURL, "")
	}
	if err != nil {
		return 0, 0, err
	}
	n, err := parseNote(d.body, author, d.final, a.now(), false)
	if err != nil {
		return 0, 0, err
	}
	sid, err := a.storeNote(ctx, n)
	if err != nil {
		return 0, 0, err
	}
	return author.ID, sid, nil
}

// maxAncestors bounds the statuses fetched above a reply that arrives
// before what it answers, and ancestorsTimeout the whole walk; the fetch
// limits bound what activities make Rampart fetch (ancestors, announced
// posts) per origin.
const (
	maxAncestors     = 8
	ancestorsTimeout = 30 * time.Second
	fetchesPerWindow = 100
	fetchWindow      = 5 * time.Minute
	fetchLimiterKeys = 10_000
)

// fetchAncestors fetches, from their origins, the statuses above a
// delivered reply that are not known here, nearest first, at most
// maxAncestors and at most ancestorsPerWindow per origin per window (a
// server cannot make Rampart crawl a long thread, or another server, on
// its behalf). Each is held to the rules of a lookup by URL (public and
// unlisted only) and they are stored from the top down, so that each
// links to its parent and the reply to its own. What fails ends the walk:
// the thread is shown from there.
func (a *Accounts) fetchAncestors(ctx context.Context, uri string) {
	// One deadline for the whole walk: a thread on slow servers ends it
	// there, and the reply is stored with what was found.
	ctx, cancel := context.WithTimeout(ctx, ancestorsTimeout)
	defer cancel()
	var chain []*fetched
	for range maxAncestors {
		if uri == "" {
			break
		}
		if _, err := a.store.StatusByURI(ctx, uri); err == nil {
			break // known: the chain joins the thread here
		}
		u, err := url.Parse(uri)
		if err != nil || !u.IsAbs() || len(uri) > maxURLLength {
			break
		}
		if !a.takeFetch(u) {
			break
		}
		d, err := a.fetchDocument(ctx, u)
		if err != nil || d.isActor {
			if err != nil {
				a.log.Info("fetching a reply's ancestor failed", "url", uri, "err", err)
			}
			break
		}
		chain = append(chain, d)
		uri = d.inReplyTo
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if _, _, err := a.storeDocument(ctx, chain[i]); err != nil {
			a.log.Info("storing a reply's ancestor failed", "url", chain[i].final.String(), "err", err)
			return
		}
	}
}

// stale reports whether a remote account is due a refetch.
func (a *Accounts) stale(ctx context.Context, id int64) bool {
	at, err := a.store.AccountFetchedAt(ctx, id)
	return err != nil || a.now().Sub(at) >= accountMaxAge
}

// actorByID fetches the actor at id (preferredUsername read from it when
// not given) and believes it only when WebFinger on its host names it as
// the acct's actor: an actor is never stored under a name its own server
// does not give it.
func (a *Accounts) actorByID(ctx context.Context, id *url.URL, username string) (*store.Account, error) {
	if username == "" {
		body, final, err := a.fetcher.Document(ctx, id)
		if err != nil {
			return nil, err
		}
		var doc struct {
			ID                string `json:"id"`
			PreferredUsername string `json:"preferredUsername"`
		}
		if json.Unmarshal(body, &doc) != nil || doc.ID != activitypub.WithoutFragment(final).String() {
			return nil, &activitypub.OriginError{Reason: "the actor's id is not the URL it was fetched from"}
		}
		username = doc.PreferredUsername
	}
	acct, ok := ParseAcct(username + "@" + id.Host)
	if !ok {
		return nil, &activitypub.OriginError{Reason: "preferredUsername is not a username"}
	}
	href, subject, err := a.webfinger(ctx, acct)
	if err != nil {
		return nil, err
	}
	if href.String() != id.String() {
		return nil, &activitypub.OriginError{Reason: "WebFinger on the actor's host names another actor for " + acct.String()}
	}
	// The actor's host may say its people go by another domain (bob@example.com
	// for an actor on social.example.com). That domain is believed only
	// when its own WebFinger names this actor too (Mastodon's rule):
	// otherwise any server could file its actor under anyone's name.
	if canonical, ok := ParseAcct(subject); ok && strings.EqualFold(canonical.User, acct.User) && canonical.Host != acct.Host {
		if there, _, err := a.webfinger(ctx, canonical); err == nil && there.String() == id.String() {
			acct = canonical
		}
	}
	return a.fetchAndStore(ctx, href, acct, nil)
}

// takeFetch takes one of the fetches an activity may cause on u's origin
// (fetchesPerWindow per fetchWindow), keyed by the origin as dialled: the
// host name in lower case and the port as a number, so that no spelling of
// a host gets a budget of its own.
func (a *Accounts) takeFetch(u *url.URL) bool {
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	if n, err := strconv.Atoi(port); err == nil {
		port = strconv.Itoa(n)
	}
	return a.fetchLimits.Take(strings.ToLower(u.Hostname())+":"+port) == 0
}

// contentFor is a parsed Note's content as kept here: without its
// attachments' links when its domain's media are rejected.
func (a *Accounts) contentFor(ctx context.Context, n *parsedNote) (string, error) {
	if !n.hasMedia {
		return n.status.Content, nil
	}
	reject, err := a.store.DomainRejectsMedia(ctx, n.domain)
	if err != nil {
		return "", err
	}
	if reject {
		return n.withoutMedia, nil
	}
	return n.status.Content, nil
}

// maxChoices bounds the choices of a poll kept.
const maxChoices = 20

// maxVotes bounds a remote option's or poll's tally believed.
const maxVotes = 1 << 40

// questionPoll reads a Question's poll: its options (oneOf, or anyOf for
// several choices) with their tallies (replies.totalItems), its end
// (closed, else endTime; none: open until an Update closes it) and its
// voters (votersCount). nil when no option reads.
func questionPoll(doc *noteDoc, now time.Time) *store.Poll {
	raw, multiple := doc.OneOf, false
	if len(raw) == 0 || string(raw) == "null" {
		raw, multiple = doc.AnyOf, true
	}
	var choices []struct {
		Name    json.RawMessage `json:"name"`
		Replies struct {
			TotalItems json.RawMessage `json:"totalItems"`
		} `json:"replies"`
	}
	if json.Unmarshal(raw, &choices) != nil || len(choices) == 0 {
		return nil
	}
	p := &store.Poll{Multiple: multiple}
	for _, c := range choices[:min(len(choices), maxChoices)] {
		title := truncate(sanitize.Text(str(c.Name)), 200)
		if title == "" {
			return nil // a vote names its option by title: each needs one
		}
		p.Options = append(p.Options, store.PollOption{Title: title, VotesCount: count(c.Replies.TotalItems)})
	}
	p.VotersCount = count(doc.VotersCount)
	if t, err := time.Parse(time.RFC3339, doc.EndTime); err == nil && t.After(earliestPublished) {
		p.ExpiresAt = t.UTC().Truncate(time.Millisecond)
	}
	if closed := str(doc.Closed); closed != "" {
		if t, err := time.Parse(time.RFC3339, closed); err == nil && t.After(earliestPublished) {
			p.ExpiresAt = t.UTC().Truncate(time.Millisecond)
		}
	} else if isTrue(doc.Closed) {
		p.ExpiresAt = now.UTC().Truncate(time.Millisecond)
	}
	if !p.ExpiresAt.IsZero() && p.ExpiresAt.Year() >= 9999 {
		p.ExpiresAt = time.Time{} // the store's "no end"
	}
	return p
}

// count reads a non-negative tally (a number, or junk: 0), bounded.
func count(raw json.RawMessage) int64 {
	var f float64
	if json.Unmarshal(raw, &f) != nil || f < 0 {
		return 0
	}
	return int64(min(f, maxVotes))
}

// questionResults renders a Question's choices (oneOf, or anyOf for a
// poll of several answers) with their vote counts, as plain text in a
// list.
func questionResults(oneOf, anyOf json.RawMessage) string {
	raw := oneOf
	if len(raw) == 0 || string(raw) == "null" {
		raw = anyOf
	}
	var choices []struct {
		Name    json.RawMessage `json:"name"`
		Replies struct {
			TotalItems int64 `json:"totalItems"`
		} `json:"replies"`
	}
	if json.Unmarshal(raw, &choices) != nil || len(choices) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("<ul>")
	for _, c := range choices[:min(len(choices), maxChoices)] {
		name := truncate(sanitize.Text(str(c.Name)), 200)
		votes := max(c.Replies.TotalItems, 0)
		unit := " votes"
		if votes == 1 {
			unit = " vote"
		}
		b.WriteString("<li>" + html.EscapeString(name) + ": " + strconv.FormatInt(votes, 10) + unit + "</li>")
	}
	b.WriteString("</ul>")
	return b.String()
}

// mentioned are the accounts known here among a Note's mentions, and the
// local ones among them; someone not known is not fetched for a mention.
func (a *Accounts) mentioned(ctx context.Context, uris []string) (all, local []int64, err error) {
	for _, uri := range uris {
		acc, err := a.store.AccountByURI(ctx, uri)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		all = append(all, acc.ID)
		if acc.Domain == "" {
			local = append(local, acc.ID)
		}
	}
	return all, local, nil
}
