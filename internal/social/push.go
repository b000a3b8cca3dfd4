package social

import (
	"context"

	"github.com/rampart-social/rampart/internal/store"
)

// WithPush sets what enqueues the Web Push of each notification stored
// and shown (after the notification policy). It returns s.
func (s *Service) WithPush(pushed func(context.Context, *store.Notification)) *Service {
	s.pushed = pushed
	return s
}

// push hands a stored notification to Web Push, and wakes the runners
// for the jobs it may have enqueued.
func (s *Service) push(ctx context.Context, n *store.Notification) {
	if s.pushed == nil {
		return
	}
	s.pushed(ctx, n)
	s.published()
}
