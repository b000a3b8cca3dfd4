package federation

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// Notes gives the federation handlers local statuses, under the store's
// one visibility rule.
type Notes interface {
	LocalNote(ctx context.Context, viewer int64, username string, id int64) (*social.Note, error)
	// AccountStatuses lists an account's statuses viewer may see, newest
	// first.
	AccountStatuses(ctx context.Context, viewer, account int64, f store.AccountFilter, p store.Page) ([]int64, error)
	AccountStats(ctx context.Context, id int64) (store.AccountStats, error)
}

// note is GET /users/{username}/statuses/{id}, a status's id. An
// ActivityPub client gets the Note, as its signer may see it (nothing at
// all under authorized fetch without a verified signature); a browser is
// sent to the status page.
func (f *Federation) note(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "Accept, Signature, Signature-Input")
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		http.NotFound(w, r)
		return
	}
	if !activitypub.WantsActivityPub(r.Header.Get("Accept")) {
		http.Redirect(w, r, f.base+"/@"+r.PathValue("username")+"/"+strconv.FormatInt(id, 10), http.StatusFound)
		return
	}
	author, err := f.accounts.LocalAccount(r.Context(), r.PathValue("username"))
	if errors.Is(err, social.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		f.fail(w, "note author", err)
		return
	}
	signer, viewer, ok := f.signedViewer(w, r, author.ID)
	if !ok {
		return
	}
	if signer == nil && f.cfg.Federation.AuthorizedFetch {
		// Authorized fetch: objects go only to verified signers.
		f.unauthorized(w)
		return
	}
	n, err := f.notes.LocalNote(r.Context(), viewer, r.PathValue("username"), id)
	if errors.Is(err, social.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		f.fail(w, "note", err)
		return
	}
	writeDocument(w, activitypub.ContentType+"; charset=utf-8", f.render.Note(n))
}
