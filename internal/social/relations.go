package social

import (
	"context"
	"errors"

	"github.com/rampart-social/rampart/internal/store"
)

// FollowOptions are a follow's settings.
type FollowOptions = store.FollowOptions

// target loads an account the viewer may act on: usable, not the viewer.
func (s *Service) target(ctx context.Context, viewer *store.Account, id int64) (*store.Account, error) {
	if id == viewer.ID {
		return nil, ErrForbidden
	}
	return s.usableAccount(ctx, id)
}

// Follow follows an account, or asks to when it is locked.
func (s *Service) Follow(ctx context.Context, viewer *store.Account, id int64, o FollowOptions) error {
	t, err := s.target(ctx, viewer, id)
	if err != nil {
		return err
	}
	blocked, err := s.store.Blocked(ctx, viewer.ID, t.ID)
	if err != nil {
		return err
	}
	if blocked {
		return ErrForbidden
	}
	already, err := s.store.FollowsAccount(ctx, viewer.ID, t.ID)
	if err != nil {
		return err
	}
	if !already && s.limits.follows != nil {
		// A follow or a request already made changes options only: not counted.
		_, err := s.store.FollowRequest(ctx, viewer.ID, t.ID)
		if errors.Is(err, store.ErrNotFound) {
			err = s.limits.follows.Allow(ctx, "follows", accountKey(viewer.ID))
		}
		if err != nil {
			return err
		}
	}
	if t.Domain != "" && !already {
		// Another server's account is followed once it accepts: until then
		// it is a request, named by the Follow sent for it.
		id := s.ids.Next()
		o.URI = followURI(viewer, id)
		created, err := s.store.RequestFollow(ctx, id, viewer.ID, t.ID, o, s.now().UTC(),
			s.publish(store.Publish{Activity: "Follow", Actor: viewer.ID, Target: t.ID, URI: o.URI}))
		if created {
			s.published()
		}
		return err
	}
	if t.Locked && !already {
		created, err := s.store.RequestFollow(ctx, s.ids.Next(), viewer.ID, t.ID, o, s.now().UTC())
		if err != nil || !created {
			return err
		}
		return s.notify(ctx, t.ID, viewer.ID, "follow_request", 0)
	}
	created, err := s.store.Follow(ctx, s.ids.Next(), viewer.ID, t.ID, o, s.now().UTC())
	if err != nil || !created {
		return err
	}
	return s.notify(ctx, t.ID, viewer.ID, "follow", 0)
}

// Unfollow stops following (or withdraws a request).
func (s *Service) Unfollow(ctx context.Context, viewer *store.Account, id int64) error {
	t, err := s.target(ctx, viewer, id)
	if err != nil {
		return err
	}
	if t.Domain == "" {
		return s.store.Unfollow(ctx, viewer.ID, t.ID)
	}
	uri, err := s.store.FollowURI(ctx, viewer.ID, t.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if uri == "" {
		uri = followURI(viewer, 0)
	}
	err = s.store.Unfollow(ctx, viewer.ID, t.ID, s.publish(store.Publish{Activity: "UndoFollow", Actor: viewer.ID, Target: t.ID, URI: uri}))
	s.published()
	return err
}

// AuthorizeFollow accepts a pending request from account id.
func (s *Service) AuthorizeFollow(ctx context.Context, viewer *store.Account, id int64) error {
	o, err := s.store.FollowRequest(ctx, id, viewer.ID)
	if err != nil {
		return err
	}
	var jobs []store.NewJob
	if o.URI != "" {
		// A remote request: its server hears the answer.
		jobs = append(jobs, s.publish(store.Publish{Activity: "Accept", Actor: viewer.ID, Target: id, URI: o.URI}))
	}
	if _, err := s.store.Follow(ctx, s.ids.Next(), id, viewer.ID, o, s.now().UTC(), jobs...); err != nil {
		return err
	}
	s.published()
	if err := s.store.DeleteNotificationsOfType(ctx, viewer.ID, id, "follow_request"); err != nil {
		return err
	}
	return s.notify(ctx, viewer.ID, id, "follow", 0)
}

// RejectFollow declines a pending request from account id.
func (s *Service) RejectFollow(ctx context.Context, viewer *store.Account, id int64) error {
	o, err := s.store.FollowRequest(ctx, id, viewer.ID)
	if err != nil {
		return err
	}
	var jobs []store.NewJob
	if o.URI != "" {
		jobs = append(jobs, s.publish(store.Publish{Activity: "Reject", Actor: viewer.ID, Target: id, URI: o.URI}))
	}
	if err := s.store.RejectFollowRequest(ctx, id, viewer.ID, jobs...); err != nil {
		return err
	}
	s.published()
	return s.store.DeleteNotificationsOfType(ctx, viewer.ID, id, "follow_request")
}

// Block blocks an account: follows between the two end.
func (s *Service) Block(ctx context.Context, viewer *store.Account, id int64) error {
	t, err := s.target(ctx, viewer, id)
	if err != nil {
		return err
	}
	bid := s.ids.Next()
	var jobs []store.NewJob
	if t.Domain != "" {
		if _, err := s.store.RelationID(ctx, string(store.Blocks), viewer.ID, t.ID); err == nil {
			return nil // blocked already: nothing new to tell
		}
		jobs = append(jobs, s.publish(store.Publish{Activity: "Block", Actor: viewer.ID, Target: t.ID, ID: bid}))
	}
	err = s.store.Block(ctx, bid, viewer.ID, t.ID, s.now().UTC(), jobs...)
	s.published()
	return err
}

// Mute hides an account's statuses (and, with notifications, its notifications).
func (s *Service) Mute(ctx context.Context, viewer *store.Account, id int64, notifications bool) error {
	t, err := s.target(ctx, viewer, id)
	if err != nil {
		return err
	}
	return s.store.Mute(ctx, s.ids.Next(), viewer.ID, t.ID, notifications, s.now().UTC())
}

// Unrelate ends a block or mute.
func (s *Service) Unrelate(ctx context.Context, viewer *store.Account, r store.Relation, id int64) error {
	t, err := s.store.AccountByID(ctx, id)
	if err != nil {
		return err
	}
	var jobs []store.NewJob
	if r == store.Blocks && t.Domain != "" {
		bid, err := s.store.RelationID(ctx, string(store.Blocks), viewer.ID, t.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		jobs = append(jobs, s.publish(store.Publish{Activity: "UndoBlock", Actor: viewer.ID, Target: t.ID, ID: bid}))
	}
	err = s.store.Unrelate(ctx, r, viewer.ID, t.ID, jobs...)
	s.published()
	return err
}

// Relationships reports the viewer's relationship to each account.
func (s *Service) Relationships(ctx context.Context, viewer int64, ids []int64) (map[int64]store.Relationship, error) {
	return s.store.Relationships(ctx, viewer, ids)
}

// LocalAccount loads the local account with this username (any case) if
// others may see it; a pending or disabled one is ErrNotFound, exactly as
// one that does not exist.
func (s *Service) LocalAccount(ctx context.Context, username string) (*store.Account, error) {
	a, err := s.store.AccountByUsername(ctx, username, "")
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.AccountFor(ctx, a.ID)
}

// AccountFor loads an account others may see.
func (s *Service) AccountFor(ctx context.Context, id int64) (*store.Account, error) {
	a, err := s.usableAccount(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	return a, err
}
