package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/rampart-social/rampart/internal/store"
)

// RememberIDs is how long a received activity's id is remembered, so that
// a delivery of it again is dropped: longer than peers retry (Mastodon
// about 4 days, GoToSocial and Akkoma less).
const RememberIDs = 7 * 24 * time.Hour

// MaxWaitingPerHost bounds the received activities of one server that
// wait to be processed: past it, its deliveries are refused with ErrBusy
// (429) until the queue drains. A server with a valid key cannot fill the
// disk: at most this many activities of 256 KiB each, 250 MiB, per host.
const MaxWaitingPerHost = 1000

// ErrBusy: the sending server has MaxWaitingPerHost activities waiting;
// it is to deliver again later (429 with Retry-After: peers retry it).
var ErrBusy = errors.New("too many activities from this server are waiting to be processed")

// Queue takes verified deliveries: it holds them to Parse's rules and
// queues each activity id once.
type Queue struct {
	store *store.Store
	wake  func()
}

// NewQueue returns the queue; wake tells the job runner an activity was
// queued.
func NewQueue(st *store.Store, wake func()) *Queue { return &Queue{store: st, wake: wake} }

// Receive queues a delivery whose signature verified, by signer (its
// actor), to the inbox of the local account inbox (0: the shared inbox).
// A *RuleError is an activity the rules refuse: nothing is kept. An
// activity whose id was received before, or of a type not processed, is
// accepted and dropped.
func (q *Queue) Receive(ctx context.Context, body []byte, signer string, inbox int64) error {
	a, err := Parse(body, signer)
	if err != nil {
		return err
	}
	// The host speaks: it is not unavailable, whatever its inbox did.
	host := store.InboxHost(signer)
	if gone, err := q.store.HostUnavailable(ctx, host); err != nil {
		return err
	} else if gone {
		if err := q.store.HostHeardFrom(ctx, host); err != nil {
			return err
		}
	}
	if a.Ignored {
		return nil
	}
	if n, err := q.store.PendingJobs(ctx, host, store.KindInbox, MaxWaitingPerHost); err != nil {
		return err
	} else if n >= MaxWaitingPerHost {
		return ErrBusy
	}
	payload, err := json.Marshal(store.Received{Activity: body, Signer: signer, Inbox: inbox})
	if err != nil {
		return err
	}
	fresh, err := q.store.ReceiveActivity(ctx, a.ID, store.NewJob{Kind: store.KindInbox, Payload: payload, Host: host})
	if err != nil {
		return err
	}
	if fresh && q.wake != nil {
		q.wake()
	}
	return nil
}
