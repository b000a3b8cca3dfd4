// Package events is the one path by which a committed change reaches the
// live streams: the service that writes a change publishes an Event after
// its commit, and whoever serves streams (internal/streaming) subscribes.
// An Event names what changed by id and carries only what routing needs, so
// that it can cross a process boundary as it is: with one process (SQLite)
// the services publish on the Bus itself; on PostgreSQL, where several
// processes may share the database, on a Relay, which carries each event
// through the database's NOTIFY to every process's Bus (relay.go). Who may
// see an event is decided by the subscriber, from the store, under the one
// visibility rule.
package events

import (
	"log/slog"
	"sync"
	"sync/atomic"
)

// Kind is what happened.
type Kind string

const (
	// StatusCreated: a status (or reblog) was written and reached the home
	// timelines and streams its Reach names.
	StatusCreated Kind = "status.created"
	// StatusEdited: a status's text, media or poll changed.
	StatusEdited Kind = "status.edited"
	// StatusDeleted: a status (or reblog) is gone; Gone says who could
	// have seen it.
	StatusDeleted Kind = "status.deleted"
	// NotificationCreated: Notification was stored for Account.
	NotificationCreated Kind = "notification.created"
	// FiltersChanged: Account's filters changed (its streams say so, for
	// clients to reload them).
	FiltersChanged Kind = "filters.changed"
	// TokensRevoked: some of Account's access tokens were revoked (its
	// owner revoked an app): the streams check their tokens now rather than
	// at the next sweep.
	TokensRevoked Kind = "tokens.revoked"
)

// Reach is where a new status has arrived so far. A post whose followers'
// home timelines a job fills arrives twice: at once for its author and the
// public streams, later for the followers.
type Reach uint8

const (
	// ReachAuthor: the author's own home timeline.
	ReachAuthor Reach = 1 << iota
	// ReachFollowers: the home timelines of the followers and mentioned
	// accounts.
	ReachFollowers
	// ReachPublic: the public, hashtag and direct streams.
	ReachPublic
	// ReachAll is a status written with every home row it needs.
	ReachAll = ReachAuthor | ReachFollowers | ReachPublic
)

// Gone is what the visibility rule needs of a deleted status, taken before
// its row went.
type Gone struct {
	Visibility int     `json:"v"`
	Mentioned  []int64 `json:"m,omitempty"`
	// For a reblog: the reblogged status, its author and visibility.
	ReblogOf       int64 `json:"r,omitempty"`
	OrigAuthor     int64 `json:"ra,omitempty"`
	OrigVisibility int   `json:"rv,omitempty"`
}

// Event is one committed change.
type Event struct {
	Kind         Kind  `json:"k"`
	Status       int64 `json:"s,omitempty"`
	Account      int64 `json:"a,omitempty"` // a status's author; a notification's recipient
	Notification int64 `json:"n,omitempty"`
	Reach        Reach `json:"r,omitempty"`
	Gone         *Gone `json:"g,omitempty"`
}

// Publisher takes events from the services. Publish never blocks and never
// fails the change, which is already committed.
type Publisher interface {
	Publish(Event)
}

// Bus is the in-process Publisher: each subscriber has a queue of its own.
// A subscriber that falls so far behind that its queue is full loses
// events (counted and logged) rather than slow the request that published.
type Bus struct {
	log     *slog.Logger
	mu      sync.Mutex
	subs    map[*subscription]struct{}
	dropped atomic.Int64
}

type subscription struct {
	ch chan Event
}

// NewBus returns an empty bus.
func NewBus(log *slog.Logger) *Bus {
	return &Bus{log: log, subs: map[*subscription]struct{}{}}
}

// Publish hands e to every subscriber without waiting.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		select {
		case s.ch <- e:
		default:
			if n := b.dropped.Add(1); n&(n-1) == 0 { // 1, 2, 4, 8…: a flood is a few lines
				b.log.Warn("streaming events dropped: the subscriber's queue is full", "kind", string(e.Kind), "dropped_total", n)
			}
		}
	}
}

// Subscribe returns a queue of up to size events and the function that
// ends the subscription (and closes the queue).
func (b *Bus) Subscribe(size int) (<-chan Event, func()) {
	s := &subscription{ch: make(chan Event, size)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
			close(s.ch)
		})
	}
}
