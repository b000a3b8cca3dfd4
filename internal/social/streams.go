package social

import (
	"context"

	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/store"
)

// WithEvents makes the service publish each committed change that live
// streams show (events.Bus, or on PostgreSQL events.Relay). It returns s.
func (s *Service) WithEvents(p events.Publisher) *Service {
	s.events = p
	return s
}

func (s *Service) emit(e events.Event) {
	if s.events != nil {
		s.events.Publish(e)
	}
}

// emitCreated publishes a new status: with its followers' home timelines
// when they were written (or are read at home time), else only the
// author's and the public streams', the rest coming with the fan-out job.
func (s *Service) emitCreated(st *store.Status, deferred bool) {
	reach := events.ReachAll
	if deferred {
		reach = events.ReachAuthor | events.ReachPublic
	}
	s.emit(events.Event{Kind: events.StatusCreated, Status: st.ID, Account: st.AccountID, Reach: reach})
}

// emitDeleted publishes a deletion with what the visibility rule needs of
// the status that is gone: its mentions, and for a reblog the reblogged
// status (orig; it may be deleted too).
func (s *Service) emitDeleted(st *store.Status, mentioned []int64, orig *store.Status) {
	g := &events.Gone{Visibility: int(st.Visibility), Mentioned: mentioned, ReblogOf: st.ReblogOfID}
	if orig != nil {
		g.OrigAuthor, g.OrigVisibility = orig.AccountID, int(orig.Visibility)
	}
	s.emit(events.Event{Kind: events.StatusDeleted, Status: st.ID, Account: st.AccountID, Gone: g})
}

// maxStreamedReblogDeletes bounds the deletions a status's deletion
// publishes for the reblogs it takes with it (the bus's queue holds 4,096
// events): past it, the remaining reblogs leave streams at the clients'
// next refresh.
const maxStreamedReblogDeletes = 1000

// reblogsGoing lists the reblogs a deletion of st will take with it, for
// emitReblogsGone after the commit (none for a reblog, or without streams).
func (s *Service) reblogsGoing(ctx context.Context, st *store.Status) ([]store.Status, error) {
	if s.events == nil || st.ReblogOfID != 0 {
		return nil, nil
	}
	return s.store.ReblogsOf(ctx, st.ID, maxStreamedReblogDeletes)
}

// emitReblogsGone publishes the deletion of the reblogs orig's deletion
// took with it, as Mastodon does.
func (s *Service) emitReblogsGone(orig *store.Status, reblogs []store.Status) {
	for i := range reblogs {
		s.emitDeleted(&reblogs[i], nil, orig)
	}
}

// Timeline names the timeline a stream follows, for Audience.
type Timeline struct {
	Home   bool
	Direct bool               // the direct statuses one may see
	List   int64              // a list's timeline (its owner's)
	Public store.PublicFilter // when none of these
}

// Audience lists those of viewers whose timeline t has status id now. It is
// the timeline's own rule (the store's HomeAudience, PublicAudience and
// DirectAudience share their SQL with the REST reads), asked for all the
// viewers in one statement, so a stream shows exactly what the REST API
// would: visibility, blocks, mutes, silenced domains, the home timeline's
// follows and show_reblogs.
func (s *Service) Audience(ctx context.Context, id int64, t Timeline, viewers []int64) ([]int64, error) {
	switch {
	case t.Home:
		return s.store.HomeAudience(ctx, id, viewers)
	case t.Direct:
		return s.store.DirectAudience(ctx, id, viewers)
	case t.List != 0:
		return s.store.ListAudience(ctx, id, t.List, viewers)
	}
	return s.store.PublicAudience(ctx, id, t.Public, viewers)
}

// MaySeeGone lists those of viewers who could have seen a deleted status.
func (s *Service) MaySeeGone(ctx context.Context, author int64, g *events.Gone, viewers []int64) ([]int64, error) {
	return s.store.MaySeeGone(ctx, goneStatus(author, g), viewers)
}

// MayHaveHadGoneAtHome lists those of viewers whose home timeline a
// deleted status could have been on, and who could see it.
func (s *Service) MayHaveHadGoneAtHome(ctx context.Context, author int64, g *events.Gone, viewers []int64) ([]int64, error) {
	return s.store.MayHaveHadGoneAtHome(ctx, goneStatus(author, g), viewers)
}

// LiveTokens lists those of the token ids that still grant access (not
// revoked, not expired, their account usable).
func (s *Service) LiveTokens(ctx context.Context, ids []int64) (map[int64]bool, error) {
	return s.store.LiveTokens(ctx, ids, s.now())
}

// StatusFacts loads what routing a status to streams needs: the status and
// its tags (no visibility check: Audience decides).
func (s *Service) StatusFacts(ctx context.Context, id int64) (*store.Status, []string, error) {
	st, err := s.store.StatusByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	tags, err := s.store.StatusTags(ctx, []int64{id})
	if err != nil {
		return nil, nil, err
	}
	return st, tags[id], nil
}

func goneStatus(author int64, g *events.Gone) store.GoneStatus {
	return store.GoneStatus{Author: author, Visibility: store.Visibility(g.Visibility), Mentioned: g.Mentioned,
		ReblogOf: g.ReblogOf, OrigAuthor: g.OrigAuthor, OrigVisibility: store.Visibility(g.OrigVisibility)}
}
