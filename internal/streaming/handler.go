package streaming

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/api"
	"github.com/rampart-social/rampart/internal/clientip"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/store"
)

// maxClientMessage bounds a client's WebSocket frame: subscribe and
// unsubscribe messages are a few dozen bytes.
const maxClientMessage = 4096

// readBuffer is an idle WebSocket's read buffer.
const readBuffer = 512

// writeWait bounds one write to a client; a client that takes longer is
// not reading, and is closed.
const writeWait = 10 * time.Second

// Register mounts the streaming API on mux: the WebSocket, the
// server-sent events paths and the health check, behind the API's CORS.
func (h *Hub) Register(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/streaming/health", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("OK"))
	}))
	mux.Handle("GET /api/v1/streaming", api.CORS(http.HandlerFunc(h.serve)))
	mux.Handle("GET /api/v1/streaming/{path...}", api.CORS(http.HandlerFunc(h.serve)))
}

// identity is who a stream reads as.
type identity struct {
	token   int64
	account int64
	// What the token's scopes let it read (read covers both), kept as two
	// bits rather than the scope set: a socket holds its identity for life.
	statuses, notifications, lists bool
}

var errUnauthorized = errors.New("The access token is invalid")

// authenticate finds the access token (Authorization, the access_token
// parameter, or for a WebSocket Sec-WebSocket-Protocol) and checks it.
// No token is an anonymous identity; the session cookie is never read.
func (h *Hub) authenticate(r *http.Request, ws bool) (*identity, error) {
	id := &identity{}
	raw := ""
	if a := r.Header.Get("Authorization"); a != "" {
		if len(a) <= 7 || !strings.EqualFold(a[:7], "Bearer ") {
			return nil, errUnauthorized
		}
		raw = strings.TrimSpace(a[7:])
	} else if q := r.URL.Query().Get("access_token"); q != "" {
		raw = strings.TrimSpace(q)
	} else if ws {
		if p := websocket.Subprotocols(r); len(p) > 0 {
			raw = p[0]
		}
	}
	if raw == "" {
		return id, nil
	}
	tok, _, lu, err := h.oauth.Bearer(r.Context(), raw)
	if errors.Is(err, oauth.ErrInvalidToken) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, err
	}
	if lu == nil {
		// An app's own token (client_credentials) has no user: anyone can
		// mint one, so it would be an anonymous client that no account
		// limit bounds. Mastodon's streaming server refuses it too.
		return nil, errUnauthorized
	}
	if accounts.Usable(lu.User) != nil {
		return nil, errUnauthorized
	}
	id.account = lu.Account.ID
	id.token = tok.ID
	scopes, _ := oauth.ParseScopes(tok.Scopes)
	id.statuses, id.notifications, id.lists = scopes.Allows("read:statuses"), scopes.Allows("read:notifications"), scopes.Allows("read:lists")
	return id, nil
}

// allows reports whether the identity may read stream s: a list stream
// needs read:lists and the list its own, as on Mastodon.
func (h *Hub) allows(ctx context.Context, id *identity, s stream) error {
	if id.token == 0 {
		if s.isPublic() && h.cfg.PublicWithoutToken {
			return nil
		}
		return errMissingToken
	}
	switch {
	case s.kind == userNotification && !id.notifications, s.kind == list && !id.lists,
		s.kind != userNotification && s.kind != list && !id.statuses:
		return errScopes
	}
	if s.kind == list {
		if _, err := h.social.List(ctx, id.account, s.listID); errors.Is(err, store.ErrNotFound) {
			return errNotYourList
		} else if err != nil {
			return err
		}
	}
	return nil
}

var (
	errMissingToken = errors.New("Missing access token")
	errScopes       = errors.New("Access token does not have the required scopes")
)

func (h *Hub) newClient(r *http.Request, id *identity, sse bool) *client {
	c := newClient(h.cfg.SendQueue)
	c.viewer, c.token, c.sse = id.account, id.token, sse
	if id.token == 0 {
		c.address = ratelimit.AddressKey(clientip.From(r.Context()))
	}
	c.notifications = id.notifications
	return c
}

// serve answers every streaming path: a WebSocket handshake on
// /api/v1/streaming, server-sent events on the stream paths.
func (h *Hub) serve(w http.ResponseWriter, r *http.Request) {
	ws := websocket.IsWebSocketUpgrade(r)
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/streaming"), "/")
	// Like Mastodon, a WebSocket may also connect on a stream's path
	// (/api/v1/streaming/user): that stream is its first.
	if _, known := eventPaths[path]; ws && path != "" && !known {
		api.WriteError(w, http.StatusNotFound, "Unknown stream type")
		return
	}
	id, err := h.authenticate(r, ws)
	if errors.Is(err, errUnauthorized) {
		unauthorized(w, err.Error())
		return
	}
	if err != nil {
		h.log.Error("streaming: checking a token", "err", err)
		api.WriteError(w, http.StatusServiceUnavailable, "The server could not check the access token; try again")
		return
	}
	if ws {
		h.serveWebSocket(w, r, id, path)
		return
	}
	if path == "" {
		api.WriteError(w, http.StatusBadRequest, "This path is a WebSocket: send an Upgrade request, or read a stream's server-sent events path (/api/v1/streaming/user, …)")
		return
	}
	h.serveEvents(w, r, id, path)
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="rampart", error="invalid_token"`)
	api.WriteError(w, http.StatusUnauthorized, msg)
}

// originAllowed is the WebSocket Origin check. Browsers send Origin on
// every WebSocket handshake. The instance's own pages are always allowed.
// Another web origin is allowed only with an access token: streaming reads
// no cookie, so a page elsewhere has nothing ambient to hijack, and
// third-party web apps (which hold the user's token) work as on Mastodon.
// An anonymous socket from another origin, and the opaque "null" origin
// (sandboxed frames, files), are refused.
func (h *Hub) originAllowed(r *http.Request, id *identity) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == h.instance {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.Path != "" {
		return false
	}
	return id.token != 0
}

func (h *Hub) serveWebSocket(w http.ResponseWriter, r *http.Request, id *identity, path string) {
	if !h.originAllowed(r, id) {
		api.WriteError(w, http.StatusForbidden, "This origin may not open an anonymous stream")
		return
	}
	if id.token != 0 && !id.statuses && !id.notifications {
		unauthorized(w, errScopes.Error())
		return
	}
	var first *stream
	name := r.URL.Query().Get("stream")
	if name == "" && path != "" {
		name = streamOfPath(path, r.URL.Query())
	}
	if name != "" {
		s, err := parseStream(name, r.URL.Query().Get("tag"), r.URL.Query().Get("list"))
		if err != nil {
			api.WriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		if err := h.allows(r.Context(), id, s); err != nil {
			unauthorized(w, err.Error())
			return
		}
		first = &s
	} else if id.token == 0 && !h.cfg.PublicWithoutToken {
		unauthorized(w, errMissingToken.Error())
		return
	}
	up := websocket.Upgrader{
		HandshakeTimeout: writeWait,
		// A socket of its own that reads only subscribe messages and pongs
		// needs no more; net/http's 4 KiB reader is dropped with the
		// handshake. A longer frame is read in pieces.
		ReadBufferSize:  readBuffer,
		WriteBufferPool: &h.pool,
		CheckOrigin:     func(*http.Request) bool { return true }, // originAllowed decided
	}
	// Whatever carried the token, a client that offers subprotocols gets
	// the first selected, as Mastodon's server does: browsers and the ws
	// library fail a handshake that selects none.
	if p := websocket.Subprotocols(r); len(p) > 0 {
		up.Subprotocols = p[:1]
	}
	// The 101 carries the security layer's headers like every response.
	header := w.Header().Clone()
	for _, k := range []string{"Content-Type", "Content-Length", "Sec-Websocket-Extensions"} {
		header.Del(k)
	}
	// Admitted before the handshake completes, so that a client whose
	// earlier socket is open counts it; one over a limit still completes
	// the handshake, to be told why in a close frame (a browser sees no
	// HTTP status).
	c := h.newClient(r, id, false)
	// The stream the URL names is in place when the handshake ends: a
	// client may count on seeing what happens after its 101. (Until the
	// writer is attached, its events wait in the queue.)
	if first != nil {
		c.subscribe(*first)
	}
	refused, refusal, admitted := h.admit(c)
	conn, err := up.Upgrade(hijacker{w}, r, header)
	if err != nil {
		if admitted {
			h.leave(c)
		}
		return // Upgrade answered the client itself
	}
	conn.SetReadLimit(maxClientMessage)
	c.attach(func() {
		h.spawn("streaming: writing to a WebSocket", func() error { h.writeSocket(c, conn); return nil })
	},
		func() {
			// Off the closing goroutine (the hub's, for a slow consumer):
			// the close frame may wait up to a second for a peer that does
			// not read.
			closing := func() error {
				code, reason := c.closedWith()
				_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
				return conn.Close()
			}
			if !h.spawn("streaming: closing a WebSocket", closing) {
				_ = closing() // the hub has stopped: here, then
			}
		},
		func() error { return conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(pingWait)) })
	if refused != 0 {
		c.close(refused, refusal)
		return
	}
	// The reading goroutine starts afresh rather than stay on this one,
	// whose stack grew through the whole request path: an idle socket's
	// memory is mostly that stack.
	if !h.spawn("streaming: reading a WebSocket", func() error {
		defer h.leave(c)
		h.readSocket(c, conn, id)
		return nil
	}) {
		c.close(closeGoingAway, "the server is shutting down")
		h.leave(c)
	}
}

// hijacker lets the WebSocket library take the connection through the
// request path's writers (http.ResponseController unwraps them).
type hijacker struct{ http.ResponseWriter }

func (w hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
