package instance

import (
	"context"
	"log/slog"
	"time"

	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/safely"
	"github.com/rampart-social/rampart/internal/store"
)

// The store's LISTEN/NOTIFY are what a relay needs.
var _ events.Wire = (*store.Store)(nil)

// publisher is what the services publish committed changes on. SQLite has
// one serving process: the bus itself. On PostgreSQL several processes may
// share the database, so events go through it (events.Relay), and each
// process's bus gets every process's events, its own included, once.
func publisher(st *store.Store, bus *events.Bus, log *slog.Logger) (events.Publisher, *events.Relay) {
	if st.Engine() != "postgres" {
		return bus, nil
	}
	relay := events.NewRelay(st, bus, log)
	return relay, relay
}

// relayListenWait bounds how long Serve waits for the relay to listen
// before it answers requests anyway (the relay keeps trying).
const relayListenWait = 10 * time.Second

// startRelay starts the relay's sender and listener on bg, until ctx ends,
// and waits until it listens: a client that streams from the first
// request on hears every event published after it connected.
func (i *Instance) startRelay(ctx context.Context, bg *safely.Group) {
	if i.relay == nil {
		return
	}
	_ = bg.Go("streaming relay: notifying", func() error { return i.relay.Send(ctx) })
	_ = bg.Go("streaming relay: listening", func() error { return i.relay.Receive(ctx) })
	t := time.NewTimer(relayListenWait)
	defer t.Stop()
	select {
	case <-i.relay.Listening():
	case <-ctx.Done():
	case <-t.C:
		i.log.Warn("the streaming relay is not listening yet: serving anyway; streams miss events until it does", "waited", relayListenWait)
	}
}
