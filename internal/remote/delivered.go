package remote

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/sanitize"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/text"
)

// Actor is the remote account at uri, for an activity it sent or that
// names it: what is stored, when it was fetched within a day, else fetched
// through the same rules as a lookup (its host's WebFinger must name it).
// A fetch that fails leaves what was known.
func (a *Accounts) Actor(ctx context.Context, uri string) (*store.Account, error) {
	known, err := a.store.AccountByURI(ctx, uri)
	if err == nil && (known.Domain == "" || !a.stale(ctx, known.ID)) {
		return known, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return a.refetchActor(ctx, uri, known)
}

// RefreshActor fetches the actor at uri again (an Update of it arrived):
// the document is never taken from the activity, always from its origin.
func (a *Accounts) RefreshActor(ctx context.Context, uri string) (*store.Account, error) {
	known, err := a.store.AccountByURI(ctx, uri)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return a.refetchActor(ctx, uri, known)
}

func (a *Accounts) refetchActor(ctx context.Context, uri string, known *store.Account) (*store.Account, error) {
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() || len(uri) > maxURLLength {
		return nil, &activitypub.OriginError{Reason: "the actor's id is not a URL"}
	}
	acc, err := a.actorByID(ctx, u, "")
	if err != nil && known != nil {
		return known, nil
	}
	return acc, err
}

// DeliveredNote stores a Note that came in an activity to an inbox here,
// from origin (the activity's actor's: an embedded Note on another origin
// is never taken from the activity, see FetchNote). Its audience is known,
// so it may be followers-only or direct. It returns the status, whether it
// is new, and the local accounts it mentions.
func (a *Accounts) DeliveredNote(ctx context.Context, raw []byte, author *store.Account, origin *url.URL) (id int64, created bool, local []int64, err error) {
	n, err := parseNote(raw, author, origin, a.now(), true)
	if err != nil {
		return 0, false, nil, err
	}
	if n.inReplyTo != "" {
		// A reply to what is not known here: its thread is fetched first,
		// so that the reply links to its parent.
		a.fetchAncestors(ctx, n.inReplyTo)
	}
	return a.storeNoteFor(ctx, n)
}

// FetchNote finds the status at uri: stored, or fetched from its origin
// through the guard and held to the rules of a lookup by URL. Public and
// unlisted only: a server does not hand its private posts to a fetch.
func (a *Accounts) FetchNote(ctx context.Context, uri string) (*store.Status, error) {
	if st, err := a.store.StatusByURI(ctx, uri); err == nil {
		return st, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() || len(uri) > maxURLLength {
		return nil, refuseNote("its id is not a URL")
	}
	if !a.takeFetch(u) {
		return nil, refuseNote("%s has had its share of fetches for now", u.Host)
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	_, sid, err := a.resolveURL(ctx, u)
	if err != nil {
		return nil, err
	}
	if sid == 0 {
		return nil, refuseNote("%s is not a note", uri)
	}
	return a.store.StatusByID(ctx, sid)
}

// DeliveredEdit applies an Update of a Note that came to an inbox here:
// the Note, held to the rules of a delivered one, replaces the text of the
// status with its id, which must be the author's (a remote status; its
// visibility stays what it was). The version replaced is kept in the
// status's history. It returns the status as edited, and whether anything
// a reader would see changed; store.ErrNotFound when no such status of the
// author is known (an edit of what never arrived here changes nothing).
func (a *Accounts) DeliveredEdit(ctx context.Context, raw []byte, author *store.Account, origin *url.URL) (*store.Status, bool, error) {
	n, err := parseNote(raw, author, origin, a.now(), true)
	if err != nil {
		return nil, false, err
	}
	st, err := a.store.StatusByURI(ctx, n.status.URI)
	if err != nil {
		return nil, false, err
	}
	if st.AccountID != author.ID || st.Local || st.ReblogOfID != 0 {
		return nil, false, store.ErrNotFound
	}
	content, err := a.contentFor(ctx, n)
	if err != nil {
		return nil, false, err
	}
	if n.poll != nil {
		// A poll's Update carries its tallies as they move (Mastodon sends
		// one as votes come in): they replace the old ones, with no
		// history and nobody told.
		p := *n.poll
		p.ID = a.ids.Next()
		if err := a.store.RefreshRemotePoll(ctx, st.ID, &p, a.now().UTC()); err != nil {
			return nil, false, err
		}
	}
	if st.Content == content && st.SpoilerText == n.status.SpoilerText && st.Sensitive == n.status.Sensitive {
		return st, false, nil // nothing a reader would see changed
	}
	if n.question && st.SpoilerText == n.status.SpoilerText && st.Sensitive == n.status.Sensitive {
		// A poll's Update carries its results as they move (Mastodon sends
		// one as votes come in): they replace the old ones in place, with
		// no history and nobody told.
		if err := a.store.RefreshRemoteContent(ctx, st.ID, content); err != nil {
			return nil, false, err
		}
		st.Content = content
		return st, false, nil
	}
	st.Content, st.SpoilerText, st.Sensitive = content, n.status.SpoilerText, n.status.Sensitive
	if n.status.Language != "" {
		st.Language = n.status.Language
	}
	st.EditedAt = a.now().UTC()
	mentionIDs, _, err := a.mentioned(ctx, n.mentions)
	if err != nil {
		return nil, false, err
	}
	words := text.SearchWords(sanitize.Text(st.SpoilerText + " " + st.Content))
	err = a.store.EditRemoteStatus(ctx, st, a.ids.Next(), mentionIDs, n.tags, words)
	if errors.Is(err, store.ErrUnchanged) {
		return st, false, nil // the same edit, delivered again meanwhile
	}
	if err != nil {
		return nil, false, err
	}
	return st, true, nil
}

// MoveTarget is the account old moves to (a Move of it arrived): the
// target actor is fetched from its origin and believed only when it names
// old among its aliases (alsoKnownAs), as Mastodon requires; then it is
// stored through the rules of any lookup.
func (a *Accounts) MoveTarget(ctx context.Context, old, target string) (*store.Account, error) {
	u, err := url.Parse(target)
	if err != nil || !u.IsAbs() || len(target) > maxURLLength {
		return nil, &activitypub.OriginError{Reason: "the move's target is not a URL"}
	}
	body, final, err := a.fetcher.Document(ctx, u)
	if err != nil {
		return nil, err
	}
	var doc struct {
		ID          string          `json:"id"`
		AlsoKnownAs json.RawMessage `json:"alsoKnownAs"`
	}
	if json.Unmarshal(body, &doc) != nil || doc.ID != activitypub.WithoutFragment(final).String() {
		return nil, &activitypub.OriginError{Reason: "the move's target is not the actor at its id"}
	}
	if !slices.Contains(activitypub.IDs(doc.AlsoKnownAs), old) {
		return nil, &activitypub.OriginError{Reason: "the move's target does not name the account moving among its aliases"}
	}
	return a.RefreshActor(ctx, doc.ID)
}
