package federation

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/httpsig"
	"github.com/rampart-social/rampart/internal/inbox"
	"github.com/rampart-social/rampart/internal/social"
)

// Bounds of a delivery.
const (
	// MaxInboxBytes bounds an activity's body; a longer one is 413 and is
	// not read further. Mastodon's own limit is 1 MB; activities are a few
	// KiB, and a long post with its HTML under 100 KiB.
	MaxInboxBytes = 256 << 10
	// replayEntries bounds the replay cache: about 100 bytes each, so
	// 10 MB at most.
	replayEntries = 100_000
	// inboxRetryAfter is what a server whose activities are waiting is
	// asked to wait before it delivers again.
	inboxRetryAfter = "300"
)

// inbox is POST /inbox (the shared inbox) and /users/{username}/inbox: the
// gate every delivery passes. A delivery is an ActivityPub document of at
// most MaxInboxBytes, signed (either generation) with the body's digest
// covered and recomputed, by a key whose owner is the activity's actor,
// not seen before within the signature window, from a domain not blocked.
// Anything else is refused: 401 for the signature, 403 for a block, 413,
// 415, 400, and nothing of it is kept.
//
// What passes is held to the origin rules that need no network and queued
// (inbox.Queue), once per activity id, and answered 202: the job does what
// it says.
func (f *Federation) inbox(w http.ResponseWriter, r *http.Request) {
	var owner int64 // 0: the shared inbox
	if name := r.PathValue("username"); name != "" {
		acc, err := f.accounts.LocalAccount(r.Context(), name)
		if errors.Is(err, social.ErrNotFound) {
			http.NotFound(w, r)
			return
		} else if err != nil {
			f.fail(w, "inbox owner", err)
			return
		}
		owner = acc.ID
	}
	if !activitypub.IsContentType(r.Header.Get("Content-Type")) {
		http.Error(w, "An ActivityPub document is required.", http.StatusUnsupportedMediaType)
		return
	}
	if !httpsig.Signed(r) {
		f.unauthorized(w)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxInboxBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		http.Error(w, "The activity is too large.", http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		http.Error(w, "The body could not be read.", http.StatusBadRequest)
		return
	}
	sig, key, err := f.verify(r, body)
	if errors.Is(err, errBlocked) {
		f.log.Info("delivery from a blocked domain refused", "path", r.URL.Path, "err", err)
		forbidden(w)
		return
	}
	if err != nil {
		f.log.Info("delivery refused: signature not verified", "path", r.URL.Path, "err", err)
		f.unauthorized(w)
		return
	}
	actor, err := activityActor(body)
	if err != nil {
		http.Error(w, "The activity is malformed: "+err.Error(), http.StatusBadRequest)
		return
	}
	if actor != key.Owner {
		// Only the actor's own key speaks for it: forwarded activities
		// are fetched from their origin instead (part 2).
		f.log.Info("delivery refused: signed by another actor", "actor", actor, "signer", key.Owner)
		f.unauthorized(w)
		return
	}
	if owner != 0 {
		if _, err := f.blocks.SignerViewer(r.Context(), owner, key.Owner); errors.Is(err, social.ErrForbidden) {
			forbidden(w)
			return
		} else if err != nil {
			f.fail(w, "inbox signer", err)
			return
		}
	}
	// Counted only once verified: forgeries cannot fill the cache.
	if f.replays.Seen(sig, ownerHost(key.Owner), time.Now()) {
		f.log.Info("delivery refused: a replayed signature", "signer", key.Owner)
		f.unauthorized(w)
		return
	}
	err = f.received.Receive(r.Context(), body, key.Owner, owner)
	var rule *inbox.RuleError
	if errors.As(err, &rule) {
		f.log.Info("delivery refused by the rules", "actor", actor, "err", err)
		http.Error(w, "The activity is refused: "+rule.Reason, http.StatusBadRequest)
		return
	}
	if errors.Is(err, inbox.ErrBusy) {
		f.log.Warn("delivery refused: the sender has too many activities waiting", "actor", actor)
		w.Header().Set("Retry-After", inboxRetryAfter)
		http.Error(w, "Too many of this server's activities are waiting; deliver again later.", http.StatusTooManyRequests)
		return
	}
	if err != nil {
		f.fail(w, "inbox", err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// activityActor reads an activity's actor: its id, given as a string or as
// an object with an id.
func activityActor(body []byte) (string, error) {
	if err := activitypub.CheckDepth(body); err != nil {
		return "", err
	}
	var doc struct {
		Type  json.RawMessage `json:"type"`
		Actor json.RawMessage `json:"actor"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", errors.New("not JSON")
	}
	actors := activitypub.IDs(doc.Actor)
	if len(actors) != 1 {
		return "", errors.New("not one actor")
	}
	id := actors[0]
	if id == "" || len(doc.Type) == 0 {
		return "", errors.New("no actor or type")
	}
	return id, nil
}

// ownerHost is the host of a key owner's id, for the replay cache's
// per-host share ("" for one that does not parse: they share one share).
func ownerHost(owner string) string {
	u, err := url.Parse(owner)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}
