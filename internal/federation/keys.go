package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/httpsig"
	"github.com/rampart-social/rampart/internal/social"
)

// Blocks are the admin's domain blocks and the local accounts' blocks, as
// they bear on signed requests (social.Service).
type Blocks interface {
	// DomainBlocked reports a host on a blocked domain.
	DomainBlocked(ctx context.Context, host string) (bool, error)
	// SignerViewer is the account a verified signer speaks for when it
	// fetches owner's documents: 0 when the actor is not known here,
	// social.ErrForbidden when owner and that account have blocked one
	// another.
	SignerViewer(ctx context.Context, owner int64, actorID string) (int64, error)
	// StoredActorKey is the public key stored with a remote actor when it
	// was last fetched (store.ErrNotFound: none).
	StoredActorKey(ctx context.Context, actorID string) (string, error)
}

// errBlocked: the request is signed for a blocked domain; it gets 403.
var errBlocked = errors.New("the signer's domain is blocked")

// verifySigner checks r's signature, if it has one, and returns the key
// that signed it: nil for an unsigned request. A keyId on a blocked domain
// is errBlocked before any key is fetched (a blocked server cannot make
// Rampart fetch from it), and so is a key whose owner is on one. A key
// that fails is fetched again (rate limited) before the request is refused.
func (f *Federation) verifySigner(r *http.Request) (*activitypub.FoundKey, error) {
	if !httpsig.Signed(r) {
		return nil, nil
	}
	_, key, err := f.verify(r, nil)
	return key, err
}

// verify checks r's signature and returns it with the key that made it.
// For a request with a body (a delivery), body is it: its digest is
// recomputed before anything else, so that a request whose body does not
// match costs no key fetch.
func (f *Federation) verify(r *http.Request, body []byte) (*httpsig.Signature, *activitypub.FoundKey, error) {
	sig, err := httpsig.Parse(r, f.cfg.InstanceURL().Scheme)
	if err != nil {
		return nil, nil, err
	}
	if err := sig.Check(time.Now()); err != nil {
		return nil, nil, err
	}
	if err := sig.VerifyBody(body); err != nil {
		return nil, nil, err
	}
	if kid, err := url.Parse(sig.KeyID); err == nil && kid.Host != "" {
		if err := f.refuseBlocked(r.Context(), kid.Host); err != nil {
			return nil, nil, err
		}
	}
	key, err := f.remote.Key(r.Context(), sig.KeyID, false)
	if err != nil {
		// An actor deleting itself may be gone from its server already,
		// key and all: its Delete is checked against the key stored with
		// it when it was last fetched (as Mastodon does), and only that.
		if stored, serr := f.storedKeyForSelfDelete(r.Context(), sig.KeyID, body); serr == nil && sig.Verify(stored.Key) == nil {
			return sig, stored, nil
		}
		return nil, nil, fmt.Errorf("key %s: %w", sig.KeyID, err)
	}
	if err := sig.Verify(key.Key); err != nil {
		fresh, ferr := f.remote.Key(r.Context(), sig.KeyID, true)
		if ferr != nil || sig.Verify(fresh.Key) != nil {
			return nil, nil, err
		}
		key = fresh
	}
	// The owner is on the keyId's origin today (activitypub.KeyFromDocument);
	// checked again so that the rule does not rest on that one.
	owner, err := url.Parse(key.Owner)
	if err != nil {
		return nil, nil, fmt.Errorf("key %s: owner %q: %w", sig.KeyID, key.Owner, err)
	}
	if err := f.refuseBlocked(r.Context(), owner.Host); err != nil {
		return nil, nil, err
	}
	return sig, key, nil
}

// refuseBlocked is errBlocked for a host on a blocked domain.
func (f *Federation) refuseBlocked(ctx context.Context, host string) error {
	blocked, err := f.blocks.DomainBlocked(ctx, host)
	if err != nil {
		return fmt.Errorf("domain block of %s: %w", host, err)
	}
	if blocked {
		return fmt.Errorf("%s: %w", host, errBlocked)
	}
	return nil
}

// signedViewer verifies r's signature for a fetch of owner's document and
// returns the verified signer (nil: none) and the account it speaks for (0:
// none known here). A signature that cannot be verified (forged, or its key
// out of reach for now) earns nothing: the fetch is answered as unsigned,
// as Mastodon answers it (a 401 here would also cut off a peer's key
// discovery whenever its own key could not be fetched). ok is false when
// the answer is written already: 403 to a signer on a blocked domain or
// one owner has blocked (or is blocked by), 500 on a failure.
func (f *Federation) signedViewer(w http.ResponseWriter, r *http.Request, owner int64) (signer *activitypub.FoundKey, viewer int64, ok bool) {
	signer, err := f.verifySigner(r)
	switch {
	case errors.Is(err, errBlocked):
		f.log.Info("signed request from a blocked domain refused", "path", r.URL.Path, "err", err)
		forbidden(w)
		return nil, 0, false
	case err != nil:
		f.log.Info("signature not verified; answered as unsigned", "path", r.URL.Path, "err", err)
		return nil, 0, true
	case signer == nil:
		return nil, 0, true
	}
	viewer, err = f.blocks.SignerViewer(r.Context(), owner, signer.Owner)
	if errors.Is(err, social.ErrForbidden) {
		f.log.Info("signed request from a blocked account refused", "path", r.URL.Path, "signer", signer.Owner)
		forbidden(w)
		return nil, 0, false
	}
	if err != nil {
		f.fail(w, "signer", err)
		return nil, 0, false
	}
	return signer, viewer, true
}

// forbidden is the whole answer to a blocked signer: a status and a word,
// nothing of the document asked for.
func forbidden(w http.ResponseWriter) {
	http.Error(w, "Forbidden", http.StatusForbidden)
}

// storedKeyForSelfDelete is the stored key of the actor whose Delete of
// itself body is, when keyID is that actor's (its id and a fragment).
func (f *Federation) storedKeyForSelfDelete(ctx context.Context, keyID string, body []byte) (*activitypub.FoundKey, error) {
	var act struct {
		Type   string          `json:"type"`
		Actor  json.RawMessage `json:"actor"`
		Object json.RawMessage `json:"object"`
	}
	if body == nil || activitypub.CheckDepth(body) != nil || json.Unmarshal(body, &act) != nil || act.Type != "Delete" {
		return nil, errors.New("not a Delete")
	}
	actors, objects := activitypub.IDs(act.Actor), activitypub.IDs(act.Object)
	owner, _, _ := strings.Cut(keyID, "#")
	if len(actors) != 1 || len(objects) != 1 || actors[0] != owner || objects[0] != owner {
		return nil, errors.New("not a Delete of its signer")
	}
	pemText, err := f.blocks.StoredActorKey(ctx, owner)
	if err != nil {
		return nil, err
	}
	k, err := activitypub.ParsePublicKeyPEM(pemText)
	if err != nil {
		return nil, err
	}
	return &activitypub.FoundKey{KeyID: keyID, Owner: owner, Key: k}, nil
}
