package federation

import (
	"errors"
	"net/http"
	"strings"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// actor is GET /users/{username}, the actor's id. An ActivityPub client gets
// the actor document; a browser is sent to the profile page.
func (f *Federation) actor(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "Accept, Signature, Signature-Input")
	acc, err := f.accounts.LocalAccount(r.Context(), r.PathValue("username"))
	if errors.Is(err, social.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		f.fail(w, "actor", err)
		return
	}
	if !activitypub.WantsActivityPub(r.Header.Get("Accept")) {
		http.Redirect(w, r, acc.URL, http.StatusFound)
		return
	}
	signer, _, ok := f.signedViewer(w, r, acc.ID)
	if !ok {
		return
	}
	pem, err := f.keys.PublicKeyPEM(r.Context(), acc.ID)
	if err != nil {
		f.fail(w, "actor key", err)
		return
	}
	ed, err := f.keys.Ed25519PublicKey(r.Context(), acc.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.fail(w, "actor ed25519 key", err)
		return
	}
	doc := f.render.Actor(acc, pem, ed)
	// Authorized fetch: the whole actor goes only to a verified signer;
	// an unsigned fetch gets what key discovery needs.
	if f.cfg.Federation.AuthorizedFetch && signer == nil {
		doc = doc.Strip()
	}
	writeDocument(w, activitypub.ContentType+"; charset=utf-8", doc)
}

// instanceActorPath is the instance actor's id on this host (Mastodon's
// path too).
const instanceActorPath = "/actor"

// instanceActor is GET /actor: the Application that signs the instance's own
// fetches. It is served whole to anyone, signed or not, so that a server
// verifying one of those fetches can always get the key (FEP-d556).
func (f *Federation) instanceActor(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "Accept")
	if !activitypub.WantsActivityPub(r.Header.Get("Accept")) {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	_, pub, err := f.keys.InstanceKey(r.Context())
	if err != nil {
		f.fail(w, "instance actor key", err)
		return
	}
	writeDocument(w, activitypub.ContentType+"; charset=utf-8", f.instanceActorDocument(pub))
}

func (f *Federation) instanceActorDocument(publicKeyPEM string) *activitypub.Actor {
	id := f.base + instanceActorPath
	a := activitypub.NewActor()
	a.ID, a.Type, a.PreferredUsername = id, "Application", f.hostname()
	a.URL = f.base + "/"
	a.Inbox, a.Outbox = id+"/inbox", id+"/outbox"
	a.Endpoints.SharedInbox = f.base + "/inbox"
	locked := true
	a.ManuallyApprovesFollowers = &locked
	a.PublicKey = activitypub.PublicKey{ID: id + "#main-key", Owner: id, PublicKeyPEM: publicKeyPEM}
	return a
}

// hostname is the instance's host name without a port.
func (f *Federation) hostname() string {
	h := f.host
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.ToLower(h)
}
