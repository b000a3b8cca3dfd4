// Package federation is ActivityPub over HTTP: discovery (WebFinger and
// host-meta) and the documents other servers fetch (actors). Like api and
// web it translates HTTP to calls on the services and back: who exists and
// who may be seen are social's rules, the documents' shape is activitypub's.
package federation

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/httpsig"
	"github.com/rampart-social/rampart/internal/outbox"
	"github.com/rampart-social/rampart/internal/remote"
	"github.com/rampart-social/rampart/internal/store"
)

// Accounts finds local accounts others may see.
type Accounts interface {
	// LocalAccount is ErrNotFound for an account that does not exist and
	// for one that is pending or disabled alike.
	LocalAccount(ctx context.Context, username string) (*store.Account, error)
}

// Keys gives the keys actors publish.
type Keys interface {
	PublicKeyPEM(ctx context.Context, accountID int64) (string, error)
	// Ed25519PublicKey is ErrNotFound for an account without one yet.
	Ed25519PublicKey(ctx context.Context, accountID int64) (ed25519.PublicKey, error)
	// InstanceKey is the instance actor's key and its public PEM.
	InstanceKey(ctx context.Context) (*rsa.PrivateKey, string, error)
}

// Deps are what the federation handlers need.
type Deps struct {
	Config   *config.Config
	Log      *slog.Logger
	Accounts Accounts
	Notes    Notes
	Keys     Keys
	Blocks   Blocks
	// Fetcher gets other servers' documents (signers' keys) through the
	// outbound guard, signed as the instance actor.
	Fetcher *remote.Fetcher
	// Received takes the deliveries that pass the inbox's gate.
	Received Receiver
}

// Receiver queues verified deliveries (inbox.Queue).
type Receiver interface {
	Receive(ctx context.Context, body []byte, signer string, inbox int64) error
}

// Federation holds the handlers.
type Federation struct {
	cfg      *config.Config
	log      *slog.Logger
	accounts Accounts
	notes    Notes
	keys     Keys
	blocks   Blocks
	base     string // the instance URL, no trailing slash
	host     string // the instance's host (and port, if any)

	render   outbox.Renderer
	received Receiver
	remote   *remote.Keys
	replays  *httpsig.ReplayCache // signatures of deliveries accepted within their window
}

// New returns the handlers for d.
func New(d Deps) *Federation {
	u := d.Config.InstanceURL()
	f := &Federation{cfg: d.Config, log: d.Log, accounts: d.Accounts, notes: d.Notes, keys: d.Keys, blocks: d.Blocks,
		base: strings.TrimSuffix(u.String(), "/"), host: u.Host}
	f.remote = remote.NewKeys(d.Fetcher)
	f.render = outbox.NewRenderer(d.Config)
	f.received = d.Received
	f.replays = httpsig.NewReplayCache(replayEntries)
	return f
}

// InstanceKeyID is the id of the instance actor's key on an instance at
// base (no trailing slash).
func InstanceKeyID(base string) string { return base + instanceActorPath + "#main-key" }

// Register adds the federation routes to mux.
func (f *Federation) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/webfinger", f.webfinger)
	mux.HandleFunc("GET /.well-known/host-meta", f.hostMeta)
	mux.HandleFunc("GET /users/{username}", f.actor)
	mux.HandleFunc("GET /actor", f.instanceActor)
	mux.HandleFunc("GET /users/{username}/statuses/{id}", f.note)
	mux.HandleFunc("GET /users/{username}/outbox", f.outbox)
	mux.HandleFunc("POST /inbox", f.inbox)
	mux.HandleFunc("POST /users/{username}/inbox", f.inbox)
	mux.HandleFunc("GET /users/{username}/collections/featured", f.featured)
	mux.HandleFunc("GET /users/{username}/followers", f.followCount(true))
	mux.HandleFunc("GET /users/{username}/following", f.followCount(false))
}

// fail logs err and answers 500.
func (f *Federation) fail(w http.ResponseWriter, what string, err error) {
	f.log.Error(what, "err", err)
	http.Error(w, "Internal Server Error", http.StatusInternalServerError)
}

// writeDocument answers 200 with a JSON document of the given type.
func writeDocument(w http.ResponseWriter, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(b)
}
