package social

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/sanitize"
	"github.com/rampart-social/rampart/internal/store"
)

// The rules for what remote accounts do to local ones, as their activities
// arrive (inbox calls them once the origin rules hold). They are the local
// rules: the same blocks, locks, visibility and notifications.

// RemoteFollow is a remote account's Follow (its id uri) of a local one:
// refused (Reject) when either blocks the other, a request when the target
// is locked, else a follow, answered with Accept. A Follow repeated for a
// follow that exists is answered with Accept again (its server lost it).
func (s *Service) RemoteFollow(ctx context.Context, follower, target *store.Account, uri string) error {
	if follower.Domain == "" || target.Domain != "" {
		return ErrForbidden
	}
	reject := s.publish(store.Publish{Activity: "Reject", Actor: target.ID, Target: follower.ID, URI: uri})
	if _, err := s.usableAccount(ctx, target.ID); err != nil {
		return err
	}
	blocked, err := s.store.Blocked(ctx, follower.ID, target.ID)
	if err != nil {
		return err
	}
	if blocked {
		err := s.store.Enqueue(ctx, reject)
		s.published()
		return err
	}
	o := store.FollowOptions{ShowReblogs: true, URI: uri}
	already, err := s.store.FollowsAccount(ctx, follower.ID, target.ID)
	if err != nil {
		return err
	}
	// A silenced domain's accounts ask, as for a locked account.
	silenced, err := s.store.AccountSilenced(ctx, follower.ID)
	if err != nil {
		return err
	}
	if (target.Locked || silenced) && !already {
		created, err := s.store.RequestFollow(ctx, s.ids.Next(), follower.ID, target.ID, o, s.now().UTC())
		if err != nil || !created {
			return err
		}
		return s.notify(ctx, target.ID, follower.ID, "follow_request", 0)
	}
	accept := s.publish(store.Publish{Activity: "Accept", Actor: target.ID, Target: follower.ID, URI: uri})
	created, err := s.store.Follow(ctx, s.ids.Next(), follower.ID, target.ID, o, s.now().UTC(), accept)
	if err != nil {
		return err
	}
	s.published()
	if !created {
		return nil
	}
	return s.notify(ctx, target.ID, follower.ID, "follow", 0)
}

// FollowAccepted is a remote account's Accept of a local account's
// request to follow it: the request becomes a follow. An Accept of nothing
// pending changes nothing.
func (s *Service) FollowAccepted(ctx context.Context, target, follower *store.Account) error {
	o, err := s.store.FollowRequest(ctx, follower.ID, target.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.store.Follow(ctx, s.ids.Next(), follower.ID, target.ID, o, s.now().UTC())
	return err
}

// FollowRejected is a remote account's Reject of a local account's
// request or follow: it ends.
func (s *Service) FollowRejected(ctx context.Context, target, follower *store.Account) error {
	return s.store.Unfollow(ctx, follower.ID, target.ID)
}

// RemoteUnfollow is a remote account's Undo of its Follow.
func (s *Service) RemoteUnfollow(ctx context.Context, follower, target *store.Account) error {
	return s.store.Unfollow(ctx, follower.ID, target.ID)
}

// RemoteFavourite is a remote account's Like (its id uri) of a status it
// may see, which tells the status's local author.
func (s *Service) RemoteFavourite(ctx context.Context, acc *store.Account, statusID int64, uri string) error {
	st, err := s.store.VisibleStatus(ctx, acc.ID, statusID)
	if err != nil {
		return err
	}
	created, err := s.store.AddRemoteFavourite(ctx, s.ids.Next(), acc.ID, st.ID, uri, s.now().UTC())
	if err != nil || !created {
		return err
	}
	return s.notify(ctx, st.AccountID, acc.ID, "favourite", st.ID)
}

// RemoteUnfavourite is a remote account's Undo of its Like.
func (s *Service) RemoteUnfavourite(ctx context.Context, acc *store.Account, statusID int64) error {
	return s.store.RemoveMark(ctx, store.Favourite, acc.ID, statusID)
}

// RemoteReblog is a remote account's Announce (its id uri) of a public or
// unlisted status it may see: a reblog in its local followers' home
// timelines, which tells a local author.
func (s *Service) RemoteReblog(ctx context.Context, acc *store.Account, statusID int64, uri string, at time.Time) error {
	orig, err := s.store.VisibleStatus(ctx, acc.ID, statusID)
	if err != nil {
		return err
	}
	if orig.ReblogOfID != 0 || orig.Visibility != store.Public && orig.Visibility != store.Unlisted {
		return ErrForbidden
	}
	if _, err := s.store.StatusByURI(ctx, uri); err == nil {
		return nil // this Announce is known
	}
	if now := s.now(); at.After(now) || at.Before(now.Add(-30*24*time.Hour)) {
		at = now
	}
	rb := &store.Status{ID: id.At(at), URI: uri, URL: uri, AccountID: acc.ID, ReblogOfID: orig.ID, Visibility: store.Public, CreatedAt: at.UTC()}
	if err := s.store.CreateStatus(ctx, store.NewStatus{Status: rb}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil // it reblogged this already
		}
		return err
	}
	s.emitCreated(rb, false)
	return s.notify(ctx, orig.AccountID, acc.ID, "reblog", orig.ID)
}

// RemoteDeleteStatus deletes a remote account's own status (or reblog) by
// its id; another's is never touched.
func (s *Service) RemoteDeleteStatus(ctx context.Context, acc *store.Account, uri string) error {
	st, err := s.store.StatusByURI(ctx, uri)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.AccountID != acc.ID || st.Local {
		return ErrForbidden
	}
	mentioned, err := s.store.MentionedAccounts(ctx, []int64{st.ID})
	if err != nil {
		return err
	}
	var orig *store.Status
	if st.ReblogOfID != 0 {
		if orig, err = s.store.StatusByID(ctx, st.ReblogOfID); errors.Is(err, store.ErrNotFound) {
			orig = nil
		} else if err != nil {
			return err
		}
	}
	reblogs, err := s.reblogsGoing(ctx, st)
	if err != nil {
		return err
	}
	if err := s.store.DeleteStatus(ctx, st, nil); err != nil {
		return err
	}
	s.emitDeleted(st, mentioned[st.ID], orig)
	s.emitReblogsGone(st, reblogs)
	return nil
}

// RemoteBlock is a remote account's Block of a local one: follows both
// ways end, as for a local block.
func (s *Service) RemoteBlock(ctx context.Context, acc, target *store.Account) error {
	return s.store.Block(ctx, s.ids.Next(), acc.ID, target.ID, s.now().UTC())
}

// RemoteUnblock is its Undo.
func (s *Service) RemoteUnblock(ctx context.Context, acc, target *store.Account) error {
	return s.store.Unrelate(ctx, store.Blocks, acc.ID, target.ID)
}

// RemoteStatusArrived tells local people of a new remote status: those it
// mentions, and the author's followers who asked to hear of its posts.
func (s *Service) RemoteStatusArrived(ctx context.Context, st *store.Status, mentioned []int64) error {
	s.emitCreated(st, false) // a remote status's home rows are written with it
	for _, m := range mentioned {
		if err := s.notify(ctx, m, st.AccountID, "mention", st.ID); err != nil {
			return err
		}
	}
	if st.Visibility == store.Direct || st.InReplyToID != 0 && st.InReplyToAccountID != st.AccountID {
		return nil
	}
	followers, err := s.store.FollowersToNotify(ctx, st.AccountID)
	if err != nil {
		return err
	}
	for _, f := range followers {
		if err := s.notify(ctx, f, st.AccountID, "status", st.ID); err != nil {
			return err
		}
	}
	return nil
}

// RemoteAccountDeleted removes a remote account whose actor was deleted,
// and all it made here.
func (s *Service) RemoteAccountDeleted(ctx context.Context, acc *store.Account) error {
	if acc.Domain == "" {
		return ErrForbidden
	}
	return s.store.DeleteRemoteAccount(ctx, acc.ID)
}

// RemoteStatusEdited tells the local people who favourited or boosted a
// remote status that it was edited.
func (s *Service) RemoteStatusEdited(ctx context.Context, st *store.Status) error {
	s.emit(events.Event{Kind: events.StatusEdited, Status: st.ID, Account: st.AccountID})
	who, err := s.store.AccountsWhoInteracted(ctx, st.ID)
	if err != nil {
		return err
	}
	for _, a := range who {
		if err := s.notify(ctx, a, st.AccountID, "update", st.ID); err != nil {
			return err
		}
	}
	return nil
}

// maxReportComment bounds a report's comment, as plain text.
const maxReportComment = 1000

// RemoteReport is a report from another server (its Flag's id uri) of a
// local account and some of its statuses, kept for the admins
// (`rampart admin report list`). The comment is kept as plain text.
func (s *Service) RemoteReport(ctx context.Context, reporter, target *store.Account, statusIDs []int64, comment, uri string) error {
	if target.Domain != "" {
		return ErrNotFound
	}
	comment = sanitize.Text(comment)
	if len(comment) > maxReportComment {
		comment = strings.ToValidUTF8(comment[:maxReportComment], "")
	}
	return s.store.CreateReport(ctx, &store.Report{ID: s.ids.Next(), URI: uri, AccountID: reporter.ID, TargetID: target.ID,
		StatusIDs: statusIDs, Comment: comment, CreatedAt: s.now().UTC()})
}

// maxMovedFollowers bounds the local followers one Move carries over;
// moveCooldown is how long after a move the account may not move again.
const (
	maxMovedFollowers = 10_000
	moveCooldown      = 7 * 24 * time.Hour
)

// RemoteMove is a remote account's Move to another (whose aliases name
// it: checked by the caller): its local followers follow the new account
// (a request where it asks for one) and stop following the old.
func (s *Service) RemoteMove(ctx context.Context, old, moved *store.Account) error {
	if old.Domain == "" || old.ID == moved.ID {
		return ErrForbidden
	}
	// One move a week, as Mastodon allows: two accounts naming each other
	// cannot bounce their followers back and forth.
	now := s.now().UTC()
	if ok, err := s.store.MarkMoved(ctx, old.ID, now, now.Add(-moveCooldown)); err != nil {
		return err
	} else if !ok {
		return ErrForbidden
	}
	followers, err := s.store.LocalFollowers(ctx, old.ID, maxMovedFollowers)
	if err != nil {
		return err
	}
	for _, id := range followers {
		f, err := s.usableAccount(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		o := FollowOptions{ShowReblogs: true}
		if err := s.Follow(ctx, f, moved.ID, o); err != nil && !errors.Is(err, ErrForbidden) {
			return err
		}
		if err := s.Unfollow(ctx, f, old.ID); err != nil {
			return err
		}
	}
	return nil
}

// RemoteFeature pins (or unpins) a remote account's own status on its
// profile, as its Add to (Remove from) its featured collection says.
func (s *Service) RemoteFeature(ctx context.Context, acc *store.Account, st *store.Status, pin bool) error {
	if st.AccountID != acc.ID || st.Local || st.ReblogOfID != 0 {
		return ErrForbidden
	}
	if !pin {
		return s.store.RemoveMark(ctx, store.Pin, acc.ID, st.ID)
	}
	if st.Visibility == store.Direct {
		return ErrForbidden
	}
	_, err := s.store.AddMark(ctx, store.Pin, s.ids.Next(), acc.ID, st.ID, s.now().UTC())
	return err
}
