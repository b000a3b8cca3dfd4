package federation

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// outboxPageSize is how many activities one outbox page holds (Mastodon's
// 20).
const outboxPageSize = 20

// unauthorized answers a fetch that authorized fetch requires to be
// signed.
func (f *Federation) unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Signature realm="`+f.hostname()+`", headers="(request-target) host date"`)
	http.Error(w, "A signed request is required.", http.StatusUnauthorized)
}

// collectionOwner starts a collection route: the local account it belongs
// to and the viewer, or an answer already written (ok false).
func (f *Federation) collectionOwner(w http.ResponseWriter, r *http.Request) (acc *store.Account, viewer int64, ok bool) {
	w.Header().Set("Vary", "Accept, Signature, Signature-Input")
	acc, err := f.accounts.LocalAccount(r.Context(), r.PathValue("username"))
	if errors.Is(err, social.ErrNotFound) {
		http.NotFound(w, r)
		return nil, 0, false
	}
	if err != nil {
		f.fail(w, "collection owner", err)
		return nil, 0, false
	}
	if !activitypub.WantsActivityPub(r.Header.Get("Accept")) {
		http.Redirect(w, r, acc.URL, http.StatusFound)
		return nil, 0, false
	}
	signer, viewer, ok := f.signedViewer(w, r, acc.ID)
	if ok && signer == nil && f.cfg.Federation.AuthorizedFetch {
		f.unauthorized(w)
		return nil, 0, false
	}
	return acc, viewer, ok
}

// outbox is GET /users/{username}/outbox: the count, and with ?page=true
// pages of Create activities, newest first, of the statuses the signer may
// see (public and unlisted for anyone; reblogs are not listed yet).
func (f *Federation) outbox(w http.ResponseWriter, r *http.Request) {
	acc, viewer, ok := f.collectionOwner(w, r)
	if !ok {
		return
	}
	id := acc.URI + "/outbox"
	q := r.URL.Query()
	if q.Get("page") != "true" {
		stats, err := f.notes.AccountStats(r.Context(), acc.ID)
		if err != nil {
			f.fail(w, "outbox", err)
			return
		}
		c := activitypub.NewOrderedCollection(id, false)
		c.TotalItems, c.First = &stats.Statuses, id+"?page=true"
		writeDocument(w, activitypub.ContentType+"; charset=utf-8", c)
		return
	}
	page := store.Page{Limit: outboxPageSize}
	if s := q.Get("max_id"); s != "" {
		maxID, err := strconv.ParseInt(s, 10, 64)
		if err != nil || maxID <= 0 {
			http.Error(w, "max_id is not a status id.", http.StatusBadRequest)
			return
		}
		page.MaxID = maxID
	}
	ids, err := f.notes.AccountStatuses(r.Context(), viewer, acc.ID, store.AccountFilter{ExcludeReblogs: true}, page)
	if err != nil {
		f.fail(w, "outbox", err)
		return
	}
	pageID := id + "?page=true"
	if page.MaxID != 0 {
		pageID = id + "?" + url.Values{"max_id": {strconv.FormatInt(page.MaxID, 10)}, "page": {"true"}}.Encode()
	}
	c := activitypub.NewOrderedCollection(pageID, true)
	c.PartOf, c.OrderedItems = id, []any{}
	for _, sid := range ids {
		n, err := f.notes.LocalNote(r.Context(), viewer, acc.Username, sid)
		if errors.Is(err, social.ErrNotFound) {
			continue // gone between the list and the load
		}
		if err != nil {
			f.fail(w, "outbox", err)
			return
		}
		c.OrderedItems = append(c.OrderedItems, activitypub.CreateOf(f.render.Note(n)))
	}
	if len(ids) == outboxPageSize {
		c.Next = id + "?" + url.Values{"max_id": {strconv.FormatInt(ids[len(ids)-1], 10)}, "page": {"true"}}.Encode()
	}
	writeDocument(w, activitypub.ContentType+"; charset=utf-8", c)
}

// featured is GET /users/{username}/collections/featured: the pinned
// statuses the signer may see, as Notes.
func (f *Federation) featured(w http.ResponseWriter, r *http.Request) {
	acc, viewer, ok := f.collectionOwner(w, r)
	if !ok {
		return
	}
	ids, err := f.notes.AccountStatuses(r.Context(), viewer, acc.ID, store.AccountFilter{Pinned: true}, store.Page{Limit: outboxPageSize})
	if err != nil {
		f.fail(w, "featured", err)
		return
	}
	c := activitypub.NewOrderedCollection(acc.URI+"/collections/featured", false)
	c.OrderedItems = []any{}
	for _, sid := range ids {
		n, err := f.notes.LocalNote(r.Context(), viewer, acc.Username, sid)
		if errors.Is(err, social.ErrNotFound) {
			continue
		}
		if err != nil {
			f.fail(w, "featured", err)
			return
		}
		c.OrderedItems = append(c.OrderedItems, f.render.Note(n))
	}
	total := int64(len(c.OrderedItems))
	c.TotalItems = &total
	writeDocument(w, activitypub.ContentType+"; charset=utf-8", c)
}

// followCount is GET /users/{username}/followers and /following: the
// count only. Who follows whom is not listed to other servers (Mastodon
// lets a user hide it; here it is hidden for everyone until part 2 needs
// the followers collection for delivery checks).
func (f *Federation) followCount(followers bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		acc, _, ok := f.collectionOwner(w, r)
		if !ok {
			return
		}
		stats, err := f.notes.AccountStats(r.Context(), acc.ID)
		if err != nil {
			f.fail(w, "follow count", err)
			return
		}
		id, n := acc.URI+"/following", stats.Following
		if followers {
			id, n = acc.URI+"/followers", stats.Followers
		}
		c := activitypub.NewOrderedCollection(id, false)
		c.TotalItems = &n
		writeDocument(w, activitypub.ContentType+"; charset=utf-8", c)
	}
}
