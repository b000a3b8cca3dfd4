package social

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/hostname"
	"github.com/rampart-social/rampart/internal/store"
)

// Bounds on what an account keeps, refused with 422 past them: Mastodon's
// 50 lists per account; a list's members and an account's domain blocks,
// which Mastodon leaves unbounded, at sizes no person reaches by hand.
const (
	MaxLists        = 50
	MaxListAccounts = 500
	MaxDomainBlocks = 1000
	// maxListTitle is a list title's length in characters.
	maxListTitle = 256
)

// ListParams are a list's settings as a client sends them; nil keeps the
// current value (or the default, for a new list).
type ListParams struct {
	Title         *string
	RepliesPolicy *string
	Exclusive     *bool
}

// apply checks p and sets it on l.
func (p ListParams) apply(l *store.List) error {
	if p.Title != nil {
		l.Title = strings.TrimSpace(*p.Title)
	}
	if l.Title == "" {
		return invalid("title", "can't be blank")
	}
	if !utf8.ValidString(l.Title) || utf8.RuneCountInString(l.Title) > maxListTitle {
		return invalid("title", "is too long (maximum is %d characters)", maxListTitle)
	}
	if p.RepliesPolicy != nil {
		switch *p.RepliesPolicy {
		case "followed", "list", "none":
			l.RepliesPolicy = *p.RepliesPolicy
		default:
			return invalid("replies_policy", "is not included in the list")
		}
	}
	if p.Exclusive != nil {
		l.Exclusive = *p.Exclusive
	}
	return nil
}

// Lists are the viewer's lists.
func (s *Service) Lists(ctx context.Context, viewer int64) ([]store.List, error) {
	return s.store.Lists(ctx, viewer)
}

// List is one of the viewer's lists; another's is ErrNotFound.
func (s *Service) List(ctx context.Context, viewer, id int64) (*store.List, error) {
	return s.store.ListByID(ctx, viewer, id)
}

// CreateList makes a list (replies_policy "list" unless asked, as Mastodon).
func (s *Service) CreateList(ctx context.Context, viewer int64, p ListParams) (*store.List, error) {
	l := &store.List{ID: s.ids.Next(), AccountID: viewer, RepliesPolicy: "list", CreatedAt: s.now().UTC()}
	if err := p.apply(l); err != nil {
		return nil, err
	}
	err := s.store.CreateList(ctx, l, MaxLists)
	if errors.Is(err, store.ErrLimitReached) {
		return nil, invalid("base", "you have reached the limit of %d lists", MaxLists)
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

// UpdateList changes a list's title or settings.
func (s *Service) UpdateList(ctx context.Context, viewer, id int64, p ListParams) (*store.List, error) {
	l, err := s.store.ListByID(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	if err := p.apply(l); err != nil {
		return nil, err
	}
	return l, s.store.UpdateList(ctx, l)
}

// DeleteList deletes one of the viewer's lists.
func (s *Service) DeleteList(ctx context.Context, viewer, id int64) error {
	return s.store.DeleteList(ctx, viewer, id)
}

// AddToList puts accounts on one of the viewer's lists, all or none: each
// must exist and be followed by the viewer, and not be on it already (422,
// as Mastodon), and the list holds at most MaxListAccounts.
func (s *Service) AddToList(ctx context.Context, viewer, id int64, accounts []int64) error {
	if _, err := s.store.ListByID(ctx, viewer, id); err != nil {
		return err
	}
	accounts = unique(accounts)
	if len(accounts) > MaxListAccounts {
		return invalid("account_ids", "are more than a list may hold (%d)", MaxListAccounts)
	}
	ids := make([]int64, len(accounts))
	for i, a := range accounts {
		if _, err := s.usableAccount(ctx, a); err != nil {
			return err
		}
		ids[i] = s.ids.Next()
	}
	err := s.store.AddListAccounts(ctx, viewer, id, accounts, ids, MaxListAccounts)
	switch {
	case errors.Is(err, store.ErrNotFollowed):
		return invalid("account", "must be followed to be on a list")
	case errors.Is(err, store.ErrAlreadyThere):
		return invalid("account", "has already been taken")
	case errors.Is(err, store.ErrLimitReached):
		return invalid("account_ids", "are more than a list may hold (%d)", MaxListAccounts)
	}
	return err
}

// RemoveFromList takes accounts off one of the viewer's lists.
func (s *Service) RemoveFromList(ctx context.Context, viewer, id int64, accounts []int64) error {
	return s.store.RemoveListAccounts(ctx, viewer, id, unique(accounts))
}

// ListAccounts pages the members of one of the viewer's lists (all of them
// when all, as Mastodon's limit=0).
func (s *Service) ListAccounts(ctx context.Context, viewer, id int64, p store.Page, all bool) (accounts, cursors []int64, err error) {
	if _, err := s.store.ListByID(ctx, viewer, id); err != nil {
		return nil, nil, err
	}
	return s.store.ListAccounts(ctx, viewer, id, p, all)
}

// AccountLists are the viewer's lists that hold account.
func (s *Service) AccountLists(ctx context.Context, viewer, account int64) ([]store.List, error) {
	if _, err := s.usableAccount(ctx, account); err != nil {
		return nil, err
	}
	return s.store.AccountLists(ctx, viewer, account)
}

// ListTimeline is the timeline of one of the viewer's lists.
func (s *Service) ListTimeline(ctx context.Context, viewer, id int64, p store.Page) ([]int64, error) {
	return s.store.ListTimeline(ctx, viewer, id, p)
}

// Endorse features an account the viewer follows on the viewer's profile.
func (s *Service) Endorse(ctx context.Context, viewer *store.Account, id int64) error {
	t, err := s.target(ctx, viewer, id)
	if err != nil {
		return err
	}
	err = s.store.Endorse(ctx, s.ids.Next(), viewer.ID, t.ID, s.now().UTC())
	if errors.Is(err, store.ErrNotFollowed) {
		return invalid("account", "must be followed to be endorsed")
	}
	return err
}

// Unendorse takes an account off the viewer's profile.
func (s *Service) Unendorse(ctx context.Context, viewer *store.Account, id int64) error {
	t, err := s.target(ctx, viewer, id)
	if err != nil {
		return err
	}
	return s.store.Unendorse(ctx, viewer.ID, t.ID)
}

// Endorsements pages the accounts the viewer endorses.
func (s *Service) Endorsements(ctx context.Context, viewer int64, p store.Page) (accounts, cursors []int64, err error) {
	return s.store.Endorsements(ctx, viewer, p)
}

// userDomain reads the domain a user blocks: a host name, or a URL whose
// host is taken, as Mastodon accepts.
func userDomain(d string) (string, error) {
	d = strings.TrimSpace(d)
	if strings.Contains(d, "://") {
		if u, err := url.Parse(d); err == nil {
			d = u.Hostname()
		}
	}
	if d == "" {
		return "", invalid("domain", "can't be blank")
	}
	host, ok := hostname.Domain(d)
	if !ok {
		return "", invalid("domain", "is invalid")
	}
	return host, nil
}

// BlockDomainFor hides a domain's accounts from the viewer's timelines and
// notifications (the store's rules) and ends the viewer's follows with
// them both ways, telling their servers, as Mastodon's
// AfterBlockDomainFromAccountService does.
func (s *Service) BlockDomainFor(ctx context.Context, viewer *store.Account, domain string) error {
	d, err := userDomain(domain)
	if err != nil {
		return err
	}
	if s.isLocalHost(d) {
		return invalid("domain", "is this server's")
	}
	err = s.store.BlockDomainFor(ctx, s.ids.Next(), viewer.ID, d, s.now().UTC(), MaxDomainBlocks)
	if errors.Is(err, store.ErrLimitReached) {
		return invalid("base", "you have reached the limit of %d domain blocks", MaxDomainBlocks)
	}
	if err != nil {
		return err
	}
	rel, err := s.store.RelationsWithDomain(ctx, viewer.ID, d)
	if err != nil {
		return err
	}
	for _, id := range rel.Following {
		if err := s.Unfollow(ctx, viewer, id); err != nil {
			return err
		}
	}
	for _, id := range rel.Requesters {
		if err := s.RejectFollow(ctx, viewer, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	for _, id := range rel.Followers {
		if err := s.removeFollower(ctx, viewer, id); err != nil {
			return err
		}
	}
	return nil
}

// removeFollower ends a remote account's follow of the viewer, sending
// the Reject of its Follow that tells its server.
func (s *Service) removeFollower(ctx context.Context, viewer *store.Account, follower int64) error {
	uri, err := s.store.FollowURI(ctx, follower, viewer.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var jobs []store.NewJob
	if uri != "" {
		jobs = append(jobs, s.publish(store.Publish{Activity: "Reject", Actor: viewer.ID, Target: follower, URI: uri}))
	}
	err = s.store.Unfollow(ctx, follower, viewer.ID, jobs...)
	s.published()
	return err
}

// UnblockDomainFor ends the viewer's block of a domain.
func (s *Service) UnblockDomainFor(ctx context.Context, viewer int64, domain string) error {
	d, err := userDomain(domain)
	if err != nil {
		return err
	}
	return s.store.UnblockDomainFor(ctx, viewer, d)
}

// DomainBlocksOf pages the domains the viewer blocks.
func (s *Service) DomainBlocksOf(ctx context.Context, viewer int64, p store.Page) (domains []string, cursors []int64, err error) {
	return s.store.DomainBlocksOf(ctx, viewer, p)
}

// unique drops repeated ids, keeping the first of each.
func unique(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
