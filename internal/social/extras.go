package social

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/store"
)

// MaxAccountNote is the longest private note on an account, in characters
// (Mastodon's AccountNote limit).
const MaxAccountNote = 2000

// SetAccountNote keeps the viewer's private note on an account others may
// see; an empty comment removes it. Only the viewer ever reads it
// (Relationship.note).
func (s *Service) SetAccountNote(ctx context.Context, viewer *store.Account, id int64, comment string) error {
	if utf8.RuneCountInString(comment) > MaxAccountNote {
		return invalid("comment", "is too long (maximum is %d characters)", MaxAccountNote)
	}
	t, err := s.usableAccount(ctx, id)
	if err != nil {
		return err
	}
	return s.store.SetAccountNote(ctx, viewer.ID, t.ID, comment, s.now().UTC())
}

// RemoveFromFollowers makes account id stop following the viewer, as its
// unfollow would: its home timeline loses the viewer's statuses. A remote
// follower's server is sent a Reject of its Follow, which Mastodon takes as
// the end of the follow. Not following the viewer is no error.
func (s *Service) RemoveFromFollowers(ctx context.Context, viewer *store.Account, id int64) error {
	t, err := s.target(ctx, viewer, id)
	if err != nil {
		return err
	}
	follows, err := s.store.FollowsAccount(ctx, t.ID, viewer.ID)
	if err != nil || !follows {
		return err
	}
	if t.Domain == "" {
		return s.store.Unfollow(ctx, t.ID, viewer.ID)
	}
	uri, err := s.store.FollowURI(ctx, t.ID, viewer.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if uri == "" {
		// A follow kept without its Follow's id (from before they were
		// kept) cannot be rejected by it: it ends here only.
		return s.store.Unfollow(ctx, t.ID, viewer.ID)
	}
	err = s.store.Unfollow(ctx, t.ID, viewer.ID, s.publish(store.Publish{Activity: "Reject", Actor: viewer.ID, Target: t.ID, URI: uri}))
	s.published()
	return err
}

// MuteConversation mutes, for the viewer, the thread of a status the
// viewer may see (a reblog stands for the status it reblogs): no status of
// the thread notifies the viewer of anything any more. Mastodon's
// documentation says the thread must be one the viewer took part in, but
// Mastodon itself mutes any thread its user may see, and apps offer the
// action on any status: so does Rampart. It returns the status asked for.
func (s *Service) MuteConversation(ctx context.Context, viewer *store.Account, id int64, mute bool) (*store.Status, error) {
	st, err := s.store.VisibleStatus(ctx, viewer.ID, id)
	if err != nil {
		return nil, err
	}
	thread := st.ID
	if st.ReblogOfID != 0 {
		orig, err := s.store.VisibleStatus(ctx, viewer.ID, st.ReblogOfID)
		if err != nil {
			return nil, err
		}
		thread = orig.ID
	}
	root, err := s.store.ThreadRoot(ctx, thread)
	if err != nil {
		return nil, err
	}
	if mute {
		err = s.store.MuteConversation(ctx, viewer.ID, root, s.now().UTC())
	} else {
		err = s.store.UnmuteConversation(ctx, viewer.ID, root)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// MaxAccountsAtOnce is how many accounts GET /api/v1/accounts?id[]= may
// name; the rest are ignored.
const MaxAccountsAtOnce = 40

// Accounts returns, in the order asked and each once, the accounts of ids
// (the first MaxAccountsAtOnce) that others may see.
func (s *Service) Accounts(ctx context.Context, ids []int64) ([]int64, error) {
	if len(ids) > MaxAccountsAtOnce {
		ids = ids[:MaxAccountsAtOnce]
	}
	return s.store.VisibleAccountIDs(ctx, ids)
}

// PublicDomainBlocks lists the domains this instance limits (silenced or
// suspended) for anyone to read, when federation.public_domain_blocks
// makes them public; ErrNotFound otherwise, as on a Mastodon server that
// does not show them. A block that only rejects media is not listed.
func (s *Service) PublicDomainBlocks(ctx context.Context) ([]store.DomainBlock, error) {
	if !s.cfg.Federation.PublicDomainBlocks {
		return nil, ErrNotFound
	}
	all, err := s.store.DomainBlocks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]store.DomainBlock, 0, len(all))
	for _, b := range all {
		if b.Severity == store.SeveritySilence || b.Severity == store.SeveritySuspend {
			out = append(out, b)
		}
	}
	return out, nil
}
