package social

import (
	"context"

	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/store"
)

// WithEvents makes the service publish each committed change that live
// streams show (events.Bus). It returns s.
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
// the status that is gone.
func (s *Service) emitDeleted(st *store.Status, mentioned []int64) {
	s.emit(events.Event{Kind: events.StatusDeleted, Status: st.ID, Account: st.AccountID,
		Gone: &events.Gone{Visibility: int(st.Visibility), Mentioned: mentioned, ReblogOf: st.ReblogOfID}})
}

// Timeline names a timeline a stream follows, for Shows.
type Timeline struct {
	Home   bool
	Public store.PublicFilter // when not Home
}

// Shows reports whether status id is on viewer's timeline t now: the
// timeline's own read, bounded to that one status, so a stream shows
// exactly what the REST API would (visibility, blocks, mutes, silenced
// domains, the home timeline's follows and show_reblogs).
func (s *Service) Shows(ctx context.Context, viewer int64, t Timeline, id int64) (bool, error) {
	p := store.Page{MaxID: id + 1, SinceID: id - 1, Limit: 1}
	var ids []int64
	var err error
	if t.Home {
		ids, err = s.Home(ctx, viewer, p)
	} else {
		ids, err = s.Public(ctx, viewer, t.Public, p)
	}
	return len(ids) == 1 && ids[0] == id, err
}

// SeesDirect reports whether viewer may see status id and it is direct:
// the direct stream's rule.
func (s *Service) SeesDirect(ctx context.Context, viewer, id int64) (bool, error) {
	st, err := s.store.VisibleStatus(ctx, viewer, id)
	if err == store.ErrNotFound {
		return false, nil
	}
	return err == nil && st.Visibility == store.Direct, err
}

// MaySeeGone lists those of viewers who could have seen a deleted status.
func (s *Service) MaySeeGone(ctx context.Context, author int64, g *events.Gone, viewers []int64) ([]int64, error) {
	return s.store.MaySeeGone(ctx, store.GoneStatus{Author: author, Visibility: store.Visibility(g.Visibility),
		Mentioned: g.Mentioned, ReblogOf: g.ReblogOf}, viewers)
}

// LiveTokens lists those of the token ids that still grant access.
func (s *Service) LiveTokens(ctx context.Context, ids []int64) (map[int64]bool, error) {
	return s.store.LiveTokens(ctx, ids)
}

// HomeCandidates lists those of viewers whose home timeline status (by
// author) may be on: they follow the author or are mentioned. Shows decides.
func (s *Service) HomeCandidates(ctx context.Context, author, status int64, viewers []int64) ([]int64, error) {
	return s.store.FollowingOrMentioned(ctx, author, status, viewers)
}

// StatusFacts loads what routing a status to streams needs: the status and
// its tags (no visibility check: Shows and SeesDirect decide).
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
