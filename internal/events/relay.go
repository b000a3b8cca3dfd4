package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Channel is the notification channel events cross processes on. A
// channel is the database's own: instances on other databases of the same
// server hear nothing of it.
const Channel = "rampart_events"

// Wire is what a Relay needs of the database: PostgreSQL's NOTIFY and
// LISTEN (store.(*Store) offers both).
type Wire interface {
	// Notify sends payloads on channel in one transaction: each listener
	// gets all of them, together and in order, or none.
	Notify(ctx context.Context, channel string, payloads ...string) error
	// Listen calls handle with each payload sent on channel, in the order
	// the database delivers them, until ctx ends; listening is called each
	// time it (again) listens. It reconnects a lost connection itself.
	Listen(ctx context.Context, channel string, listening func(), handle func(payload string)) error
}

// Relay is the Publisher for several processes sharing one database. It
// publishes every event on the database's channel, and hands every event
// it hears there, its own process's included, to the local Bus the streams
// subscribe to: one path for all, so that each process gets each event once,
// every process in the same order (the order the notifications committed,
// which for one publisher is the order it published in).
//
// Publish only queues: Send notifies (one event at a time, in order) and
// Receive listens. The caller runs both, each on a goroutine of its own, and
// ends them with their context.
type Relay struct {
	wire   Wire
	local  *Bus
	log    *slog.Logger
	queue  chan Event
	sender string // names this relay's events in parts
	seq    uint64 // Send's alone

	dropped   atomic.Int64 // queue full
	lost      atomic.Int64 // not notified
	malformed atomic.Int64 // heard but not ours

	listening     chan struct{}
	listeningOnce sync.Once
}

// relayQueue is how many events may wait for Send (as many as the hub's
// queue holds).
const relayQueue = 4096

// notifyTimeout bounds one event's NOTIFY: a database that does not answer
// loses events for the streams rather than queue them without end.
const notifyTimeout = 10 * time.Second

// NewRelay returns a relay that notifies through w and delivers what it
// hears to local.
func NewRelay(w Wire, local *Bus, log *slog.Logger) *Relay {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return &Relay{wire: w, local: local, log: log, queue: make(chan Event, relayQueue),
		sender: hex.EncodeToString(b), listening: make(chan struct{})}
}

// Publish queues e for Send without waiting. When the queue is full the
// event is dropped for the streams, counted and logged; the change is
// committed, and the REST API shows it.
func (r *Relay) Publish(e Event) {
	select {
	case r.queue <- e:
	default:
		if n := r.dropped.Add(1); n&(n-1) == 0 { // 1, 2, 4, 8…: a flood is a few lines
			r.log.Warn("streaming events dropped: the queue to the database is full", "kind", string(e.Kind), "dropped_total", n)
		}
	}
}

// Send notifies the queued events, one at a time and in order, until ctx
// ends. Events still queued then are dropped: the streams are closing.
func (r *Relay) Send(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-r.queue:
			r.send(ctx, e)
		}
	}
}

func (r *Relay) send(ctx context.Context, e Event) {
	r.seq++
	payloads, err := encode(e, r.sender, r.seq)
	if err == nil {
		nctx, cancel := context.WithTimeout(ctx, notifyTimeout)
		err = r.wire.Notify(nctx, Channel, payloads...)
		cancel()
	}
	if err != nil && ctx.Err() == nil {
		n := r.lost.Add(1)
		r.log.Warn("streaming event not published: lost for the streams of every process", "kind", string(e.Kind),
			"status", e.Status, "err", err, "lost_total", n)
	}
}

// Receive listens until ctx ends, and publishes each event it hears on the
// local bus. A payload that is not an event (anyone who may connect to the
// database may notify) is logged and dropped.
func (r *Relay) Receive(ctx context.Context) error {
	var parts assembler
	return r.wire.Listen(ctx, Channel, func() {
		parts.reset() // the rest of an event in parts went with the lost connection
		r.listeningOnce.Do(func() { close(r.listening) })
	}, func(payload string) {
		e, ok, err := parts.add(payload)
		if err != nil {
			if n := r.malformed.Add(1); n&(n-1) == 0 {
				r.log.Warn("streaming notification dropped", "err", err, "bytes", len(payload), "dropped_total", n)
			}
		}
		if ok {
			r.local.Publish(e)
		}
	})
}

// Listening is closed once Receive first listens: events published from
// then on reach this process.
func (r *Relay) Listening() <-chan struct{} { return r.listening }
