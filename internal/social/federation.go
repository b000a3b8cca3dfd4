package social

import (
	"context"
	"errors"

	"github.com/rampart-social/rampart/internal/store"
)

// Note is what serving a status to another server needs: the status, its
// author, the accounts it mentions, its tags and attachments, and what it
// answers.
type Note struct {
	Status    *store.Status
	Author    *store.Account
	Mentions  []*store.Account
	Tags      []string
	Media     []store.Media
	InReplyTo string      // the parent's id (uri), "" for none
	Poll      *store.Poll // nil for none: the Note is then a Question
}

// ViewerByActor is the account a remote signer speaks for, as a viewer of
// statuses: 0 (anonymous) when the actor is not known here.
func (s *Service) ViewerByActor(ctx context.Context, actorID string) (int64, error) {
	a, err := s.store.AccountByURI(ctx, actorID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if a.Domain == "" {
		return 0, nil // a local actor never signs from outside
	}
	return a.ID, nil
}

// SignerViewer is the account a verified remote signer (actorID) speaks
// for when it fetches owner's documents (owner's actor and statuses), as
// ViewerByActor: 0 when the actor is not known here. ErrForbidden when
// owner has blocked that account or is blocked by it: its signed fetches of
// owner's documents are refused, the stripped actor included (an unsigned
// fetch cannot be told from anyone's). A blocked domain is the federation
// layer's to refuse, before any key is fetched.
func (s *Service) SignerViewer(ctx context.Context, owner int64, actorID string) (int64, error) {
	viewer, err := s.ViewerByActor(ctx, actorID)
	if err != nil || viewer == 0 {
		return viewer, err
	}
	blocked, err := s.store.Blocked(ctx, owner, viewer)
	if err != nil {
		return 0, err
	}
	if blocked {
		return 0, ErrForbidden
	}
	return viewer, nil
}

// DomainBlocked reports whether host is on a domain the admin blocked.
func (s *Service) DomainBlocked(ctx context.Context, host string) (bool, error) {
	return s.store.DomainBlocked(ctx, host)
}

// LocalNote loads a local status of the named author for viewer, with what
// its Note needs: ErrNotFound when it does not exist, is not the author's,
// is a reblog, or the viewer may not see it (the store's one visibility
// rule decides).
func (s *Service) LocalNote(ctx context.Context, viewer int64, username string, id int64) (*Note, error) {
	author, err := s.LocalAccount(ctx, username)
	if err != nil {
		return nil, err
	}
	st, err := s.store.VisibleStatus(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	if st.AccountID != author.ID || !st.Local || st.ReblogOfID != 0 {
		return nil, ErrNotFound
	}
	return s.noteOf(ctx, st, author)
}

// OwnNote loads a local status as its Note with no viewer's rule: for
// telling peers of it, which addressing limits (outbox). ErrNotFound when
// it is gone, a reblog, or not local.
func (s *Service) OwnNote(ctx context.Context, id int64) (*Note, error) {
	st, err := s.store.StatusByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !st.Local || st.ReblogOfID != 0 {
		return nil, ErrNotFound
	}
	author, err := s.store.AccountByID(ctx, st.AccountID)
	if err != nil {
		return nil, err
	}
	return s.noteOf(ctx, st, author)
}

// noteOf gathers what a status's Note shows.
func (s *Service) noteOf(ctx context.Context, st *store.Status, author *store.Account) (*Note, error) {
	n := &Note{Status: st, Author: author}
	mentions, err := s.store.MentionedAccounts(ctx, []int64{st.ID})
	if err != nil {
		return nil, err
	}
	if ids := mentions[st.ID]; len(ids) > 0 {
		accs, _, err := s.store.AccountsWithStats(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if a, ok := accs[id]; ok {
				n.Mentions = append(n.Mentions, a)
			}
		}
	}
	tags, err := s.store.StatusTags(ctx, []int64{st.ID})
	if err != nil {
		return nil, err
	}
	n.Tags = tags[st.ID]
	media, err := s.store.MediaForStatuses(ctx, []int64{st.ID})
	if err != nil {
		return nil, err
	}
	n.Media = media[st.ID]
	polls, err := s.store.PollsForStatuses(ctx, 0, []int64{st.ID})
	if err != nil {
		return nil, err
	}
	n.Poll = polls[st.ID]
	if st.InReplyToID != 0 {
		if parent, err := s.store.StatusByID(ctx, st.InReplyToID); err == nil {
			n.InReplyTo = parent.URI
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return n, nil
}

// AccountStats are an account's counters (statuses, followers, following).
func (s *Service) AccountStats(ctx context.Context, id int64) (store.AccountStats, error) {
	stats, err := s.store.StatsFor(ctx, []int64{id})
	if err != nil {
		return store.AccountStats{}, err
	}
	return stats[id], nil
}

// StoredActorKey is the public key stored with a remote actor when it was
// last fetched: for its Delete of itself, when its server no longer serves
// it. ErrNotFound when the actor is not a known remote account.
func (s *Service) StoredActorKey(ctx context.Context, actorID string) (string, error) {
	a, err := s.store.AccountByURI(ctx, actorID)
	if err != nil {
		return "", err
	}
	if a.Domain == "" {
		return "", ErrNotFound
	}
	pub, _, err := s.store.AccountKeys(ctx, a.ID)
	if err != nil {
		return "", err
	}
	if pub == "" {
		return "", ErrNotFound
	}
	return pub, nil
}
