// Package streaming is Mastodon's streaming API: live timelines and
// notifications over a WebSocket (GET /api/v1/streaming, several streams
// on one socket) or server-sent events (GET /api/v1/streaming/user, …).
//
// Events come from one place, the process's events.Bus, which has every
// committed change (on PostgreSQL every process's, through events.Relay); the Hub routes each to the streams that would show it, by
// asking the same reads the REST API makes (social.(*Service).Shows: the
// timeline's own rule, bounded to the one status), and renders the same
// entities (api.Entities) for each subscriber. Nothing here polls the
// database per connection: the work is per event, plus one query a second
// for all open streams' tokens (a revoked token or a disabled account ends
// its streams within a second; a revocation from the sessions page, which
// publishes events.TokensRevoked, at once).
//
// Every connection is bounded: per token, per account and in all; the
// events waiting for it (a client that does not read is closed, never
// waited for); its frames' size; and its liveness (pings).
package streaming

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-social/rampart/internal/api"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/safely"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// Deps are what the streaming API is built from.
type Deps struct {
	Config   *config.Config
	Log      *slog.Logger
	OAuth    *oauth.Service
	Social   *social.Service
	Entities api.Entities
	Bus      *events.Bus
}

// Hub holds the open streams and routes events to them.
type Hub struct {
	cfg      config.Streaming
	instance string // the instance's origin, for the WebSocket Origin check
	log      *slog.Logger
	oauth    *oauth.Service
	social   *social.Service
	entities api.Entities
	bus      *events.Bus
	writers  *safely.Group
	// pool lends WebSockets write buffers only while they write: an idle
	// socket holds none.
	pool sync.Pool

	mu        sync.Mutex
	clients   map[*client]struct{}
	pinging   atomic.Bool
	byToken   map[int64]int
	byAccount map[int64]int
	// byAddress counts anonymous streams (streaming.public_without_token)
	// by client address (an IPv6 /64), each bounded like an account's.
	byAddress map[string]int
	stopping  bool
	finished  bool // the hub waits for its goroutines: spawn starts no more
}

// New builds the hub; Run starts it.
func New(d Deps) *Hub {
	return &Hub{cfg: d.Config.Streaming, instance: d.Config.InstanceURL().Scheme + "://" + d.Config.InstanceURL().Host,
		log: d.Log, oauth: d.OAuth, social: d.Social, entities: d.Entities, bus: d.Bus, writers: safely.NewGroup(d.Log),
		clients: map[*client]struct{}{}, byToken: map[int64]int{}, byAccount: map[int64]int{}, byAddress: map[string]int{}}
}

// eventQueue is how many events may wait for the hub before the bus drops
// them (and logs it).
const eventQueue = 4096

// Run routes events until ctx ends, then closes every stream (1001) and
// waits for their writers.
func (h *Hub) Run(ctx context.Context) error {
	queue, unsubscribe := h.bus.Subscribe(eventQueue)
	defer unsubscribe()
	sweep := time.NewTicker(time.Second)
	defer sweep.Stop()
	ping := time.NewTicker(h.cfg.PingInterval.D())
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			h.closeAll(closeGoingAway, "the server is shutting down")
			// No goroutine starts once the wait begins (spawn), so that a
			// handshake still finishing cannot add to a group being waited on.
			h.mu.Lock()
			h.finished = true
			h.mu.Unlock()
			h.writers.Wait()
			return nil
		case e := <-queue:
			// Each event's routing is work of its own: a failure or panic
			// loses that event for the streams, nothing more.
			if err := safely.Do(h.log, "routing a streaming event", func() error { return h.route(ctx, e) }); err != nil && ctx.Err() == nil {
				h.log.Error("streaming event not delivered", "kind", string(e.Kind), "err", err)
			}
		case <-sweep.C:
			if err := safely.Do(h.log, "checking streams' tokens", func() error { return h.sweep(ctx) }); err != nil && ctx.Err() == nil {
				h.log.Error("checking streams' tokens", "err", err)
			}
		case <-ping.C:
			h.pingAll()
		}
	}
}

// pingers ping the idle WebSockets of a round together, so that a few
// whose buffers are full (each ping waits up to pingWait) hold up no one.
const (
	pingers  = 4
	pingWait = time.Second
)

// pingAll pings every stream, unless the last round is still going.
func (h *Hub) pingAll() {
	if !h.pinging.CompareAndSwap(false, true) {
		return
	}
	clients := h.snapshot()
	var wg sync.WaitGroup
	for i := range pingers {
		wg.Add(1)
		if !h.spawn("streaming: pinging", func() error {
			defer wg.Done()
			for j := i; j < len(clients); j += pingers {
				clients[j].schedulePing()
			}
			return nil
		}) {
			wg.Done()
		}
	}
	if !h.spawn("streaming: ending a round of pings", func() error {
		wg.Wait()
		h.pinging.Store(false)
		return nil
	}) {
		h.pinging.Store(false)
	}
}

// spawn starts fn on the hub's group, unless the hub has stopped (false).
func (h *Hub) spawn(work string, fn func() error) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.finished {
		return false
	}
	h.writers.Go(work, fn)
	return true
}

// admit registers c unless a limit is reached; the code and reason say
// which.
func (h *Hub) admit(c *client) (int, string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.stopping:
		return closeGoingAway, "the server is shutting down", false
	case len(h.clients) >= h.cfg.MaxConnections:
		h.log.Warn("streaming connection refused: streaming.max_connections reached", "max", h.cfg.MaxConnections)
		return closeTooMany, "too many streaming connections on this server", false
	case c.token != 0 && h.byToken[c.token] >= h.cfg.MaxPerToken:
		return closeTooMany, "too many streaming connections for this access token", false
	case c.viewer != 0 && h.byAccount[c.viewer] >= h.cfg.MaxPerAccount:
		return closeTooMany, "too many streaming connections for this account", false
	case c.token == 0 && h.byAddress[c.address] >= h.cfg.MaxPerAccount:
		return closeTooMany, "too many anonymous streaming connections from this address", false
	}
	h.clients[c] = struct{}{}
	if c.token == 0 {
		h.byAddress[c.address]++
	}
	if c.token != 0 {
		h.byToken[c.token]++
	}
	if c.viewer != 0 {
		h.byAccount[c.viewer]++
	}
	return 0, "", true
}

// leave unregisters c. A stream the server ended for cause is logged.
func (h *Hub) leave(c *client) {
	if code, reason := c.closedWith(); code >= 4000 || code == closeTooBig {
		h.log.Info("stream closed", "code", code, "reason", reason, "account", c.viewer)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; !ok {
		return
	}
	delete(h.clients, c)
	if c.token == 0 {
		if h.byAddress[c.address]--; h.byAddress[c.address] <= 0 {
			delete(h.byAddress, c.address)
		}
	}
	if c.token != 0 {
		if h.byToken[c.token]--; h.byToken[c.token] <= 0 {
			delete(h.byToken, c.token)
		}
	}
	if c.viewer != 0 {
		if h.byAccount[c.viewer]--; h.byAccount[c.viewer] <= 0 {
			delete(h.byAccount, c.viewer)
		}
	}
}

func (h *Hub) snapshot() []*client {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		out = append(out, c)
	}
	return out
}

// Open is the number of open streams.
func (h *Hub) Open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

func (h *Hub) closeAll(code int, reason string) {
	h.mu.Lock()
	h.stopping = true
	h.mu.Unlock()
	for _, c := range h.snapshot() {
		c.close(code, reason)
	}
}

// sweep closes the streams whose token no longer grants access: revoked,
// or its account disabled or gone. One query for all of them.
func (h *Hub) sweep(ctx context.Context) error {
	clients := h.snapshot()
	seen := map[int64]bool{}
	var ids []int64
	for _, c := range clients {
		if c.token != 0 && !seen[c.token] {
			seen[c.token] = true
			ids = append(ids, c.token)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	live, err := h.social.LiveTokens(ctx, ids)
	if err != nil {
		return err
	}
	for _, c := range clients {
		if c.token != 0 && !live[c.token] {
			c.close(closeRevoked, "the access token was revoked or its account disabled")
		}
	}
	return nil
}

// target is one stream of one client that an event goes to.
type target struct {
	c *client
	s stream
}

func (h *Hub) route(ctx context.Context, e events.Event) error {
	switch e.Kind {
	case events.StatusCreated:
		return h.status(ctx, e, "update")
	case events.StatusEdited:
		e.Reach = events.ReachAll
		return h.status(ctx, e, "status.update")
	case events.StatusDeleted:
		return h.deleted(ctx, e)
	case events.NotificationCreated:
		return h.notification(ctx, e)
	case events.FiltersChanged:
		h.filtersChanged(e.Account)
	case events.TokensRevoked:
		// The sweep's one query, at once: a revoked app's sockets close now.
		return h.sweep(ctx)
	}
	return nil
}

// status sends a new or edited status to the streams that show it now.
func (h *Hub) status(ctx context.Context, e events.Event, event string) error {
	clients := h.snapshot()
	if len(clients) == 0 {
		return nil
	}
	st, tags, err := h.social.StatusFacts(ctx, e.Status)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted since
	}
	if err != nil {
		return err
	}
	publicOK := e.Reach&events.ReachPublic != 0 && st.Visibility == store.Public && st.ReblogOfID == 0
	directOK := e.Reach&events.ReachPublic != 0 && st.Visibility == store.Direct
	hasTag := map[string]bool{}
	for _, t := range tags {
		hasTag[t] = true
	}
	// The candidates, from what the event says and the status is, grouped
	// by the timeline that decides: one audience query per timeline.
	var candidates []target
	asked := map[social.Timeline]map[int64]bool{}
	for _, c := range clients {
		c.eachStream(func(s stream) {
			var ok bool
			switch {
			case s.kind == user:
				author := c.viewer == st.AccountID
				ok = c.viewer != 0 && (author && e.Reach&events.ReachAuthor != 0 || !author && e.Reach&events.ReachFollowers != 0)
			case s.kind == userNotification:
			case s.kind == direct:
				ok = c.viewer != 0 && directOK
			case s.kind == list:
				// A member's status reaches the owner as a follower.
				ok = c.viewer != 0 && c.viewer != st.AccountID && e.Reach&events.ReachFollowers != 0
			case s.kind == hashtag || s.kind == hashtagLocal:
				ok = publicOK && hasTag[s.tag]
			default:
				ok = publicOK
			}
			if !ok {
				return
			}
			candidates = append(candidates, target{c, s})
			tl := s.timeline()
			if asked[tl] == nil {
				asked[tl] = map[int64]bool{}
			}
			asked[tl][c.viewer] = true
		})
	}
	if len(candidates) == 0 {
		return nil
	}
	shows := make(map[social.Timeline]map[int64]bool, len(asked))
	for tl, who := range asked {
		viewers := make([]int64, 0, len(who))
		for v := range who {
			viewers = append(viewers, v)
		}
		got, err := h.social.Audience(ctx, st.ID, tl, viewers)
		if err != nil {
			return err
		}
		shows[tl] = make(map[int64]bool, len(got))
		for _, v := range got {
			shows[tl][v] = true
		}
	}
	var chosen []target
	var viewers []int64
	seen := map[int64]bool{}
	for _, t := range candidates {
		if !shows[t.s.timeline()][t.c.viewer] {
			continue
		}
		chosen = append(chosen, t)
		if !seen[t.c.viewer] {
			seen[t.c.viewer] = true
			viewers = append(viewers, t.c.viewer)
		}
	}
	if len(chosen) == 0 {
		return nil
	}
	payloads, hidden, err := h.entities.Statuses(ctx, st.ID, viewers)
	if err != nil {
		return err
	}
	frames := frameCache{}
	for _, t := range chosen {
		if hidden[t.c.viewer]&int(t.s.filterContext()) != 0 {
			continue // the subscriber's filters hide it here, as the REST timeline does
		}
		if p := payloads[t.c.viewer]; p != nil {
			t.c.send(frames.frame(t.c.sse, t.s, event, p))
		}
	}
	return nil
}

// deleted sends a deletion to the streams that could have shown the
// status, of those who could see it: the visibility rule, applied to what
// the deletion kept of it. A home stream hears of it only from a status
// that could have been on that home timeline (its author's, a mentioned
// account's, a follower's), and so does a list stream (its members are
// followed); a public or hashtag stream only of a public original; a
// direct stream only of a direct status.
func (h *Hub) deleted(ctx context.Context, e events.Event) error {
	if e.Gone == nil {
		return nil
	}
	publicOK := e.Gone.Visibility == int(store.Public) && e.Gone.ReblogOf == 0
	directOK := e.Gone.Visibility == int(store.Direct)
	clients := h.snapshot()
	home, other := map[int64]bool{}, map[int64]bool{}
	for _, c := range clients {
		c.eachStream(func(s stream) {
			switch {
			case (s.kind == user || s.kind == list) && c.viewer != 0:
				home[c.viewer] = true
			case s.kind == direct && directOK && c.viewer != 0, s.isPublic() && publicOK:
				other[c.viewer] = true
			}
		})
	}
	atHome, err := h.social.MayHaveHadGoneAtHome(ctx, e.Account, e.Gone, keys(home))
	if err != nil {
		return err
	}
	saw, err := h.social.MaySeeGone(ctx, e.Account, e.Gone, keys(other))
	if err != nil {
		return err
	}
	clear(home)
	clear(other)
	for _, v := range atHome {
		home[v] = true
	}
	for _, v := range saw {
		other[v] = true
	}
	id := []byte(strconv.FormatInt(e.Status, 10))
	frames := frameCache{}
	for _, c := range clients {
		var sends []stream
		c.eachStream(func(s stream) {
			switch {
			case (s.kind == user || s.kind == list) && c.viewer != 0:
				if home[c.viewer] {
					sends = append(sends, s)
				}
			case s.kind == direct && directOK && c.viewer != 0, s.isPublic() && publicOK:
				if other[c.viewer] {
					sends = append(sends, s)
				}
			}
		})
		for _, s := range sends {
			c.send(frames.frame(c.sse, s, "delete", id))
		}
	}
	return nil
}

func keys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// notification sends a new notification to its recipient's user and
// user:notification streams, if it is still theirs to see.
func (h *Hub) notification(ctx context.Context, e events.Event) error {
	var targets []target
	for _, c := range h.snapshot() {
		if c.viewer != e.Account {
			continue
		}
		c.eachStream(func(s stream) {
			if s.kind == userNotification || s.kind == user && c.notifications {
				targets = append(targets, target{c, s})
			}
		})
	}
	if len(targets) == 0 {
		return nil
	}
	n, err := h.social.Notification(ctx, e.Account, e.Notification)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	payload, err := h.entities.Notification(ctx, e.Account, n)
	if err != nil || payload == nil {
		return err
	}
	frames := frameCache{}
	for _, t := range targets {
		t.c.send(frames.frame(t.c.sse, t.s, "notification", payload))
	}
	return nil
}

// frameCache encodes each (form, stream, event, payload) once per event,
// however many clients it goes to.
type frameCache map[frameKey][]byte

type frameKey struct {
	sse     bool
	stream  stream
	event   string
	payload *byte
}

func (f frameCache) frame(sse bool, s stream, event string, payload []byte) []byte {
	k := frameKey{sse, s, event, &payload[0]}
	if b, ok := f[k]; ok {
		return b
	}
	var b []byte
	if sse {
		b = make([]byte, 0, len(event)+len(payload)+16)
		b = append(append(append(append(b, "event: "...), event...), "\ndata: "...), payload...)
		b = append(b, "\n\n"...)
	} else {
		b, _ = json.Marshal(struct {
			Stream  []string `json:"stream"`
			Event   string   `json:"event"`
			Payload string   `json:"payload"`
		}{s.name(), event, string(payload)})
	}
	f[k] = b
	return b
}
