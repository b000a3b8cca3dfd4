package social

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/remote"
	"github.com/rampart-social/rampart/internal/store"
)

// Notification types Rampart emits (Mastodon's names).
var NotificationTypes = []string{"mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update", "admin.report"}

// Home is the viewer's home timeline.
func (s *Service) Home(ctx context.Context, viewer int64, p store.Page) ([]int64, error) {
	return s.store.HomeTimeline(ctx, viewer, p)
}

// Public is the public (or local) timeline; with a tag, the tag timeline.
func (s *Service) Public(ctx context.Context, viewer int64, f store.PublicFilter, p store.Page) ([]int64, error) {
	f.Tag = strings.ToLower(strings.TrimPrefix(f.Tag, "#"))
	return s.store.PublicTimeline(ctx, viewer, f, p)
}

// AccountStatuses lists an account's statuses as the viewer may see them.
func (s *Service) AccountStatuses(ctx context.Context, viewer, account int64, f store.AccountFilter, p store.Page) ([]int64, error) {
	if _, err := s.usableAccount(ctx, account); err != nil {
		return nil, err
	}
	f.Tag = strings.ToLower(strings.TrimPrefix(f.Tag, "#"))
	return s.store.AccountStatuses(ctx, viewer, account, f, p)
}

// Marked lists the viewer's favourites or bookmarks (cursors are the marks' ids).
func (s *Service) Marked(ctx context.Context, viewer int64, m store.Mark, p store.Page) (statuses, cursors []int64, err error) {
	return s.store.MarkedStatuses(ctx, viewer, string(m), p)
}

// StatusAccounts lists who favourited (or reblogged) a visible status.
func (s *Service) StatusAccounts(ctx context.Context, viewer, id int64, reblogs bool, p store.Page) (accounts, cursors []int64, err error) {
	if _, err := s.store.VisibleStatus(ctx, viewer, id); err != nil {
		return nil, nil, err
	}
	return s.store.StatusAccounts(ctx, viewer, id, reblogs, p)
}

// Related lists followers, following, follow requests, blocks or mutes.
// Follower and following lists of others are public, as on Mastodon.
func (s *Service) Related(ctx context.Context, r store.Relation, account int64, incoming bool, viewer int64, p store.Page) (accounts, cursors []int64, err error) {
	if _, err := s.usableAccount(ctx, account); err != nil {
		return nil, nil, err
	}
	return s.store.RelatedAccounts(ctx, r, account, incoming, viewer, p)
}

// Notifications lists the viewer's notifications.
func (s *Service) Notifications(ctx context.Context, viewer int64, f store.NotificationFilter, p store.Page) ([]store.Notification, error) {
	return s.store.Notifications(ctx, viewer, f, p)
}

// Notification loads one of the viewer's notifications.
func (s *Service) Notification(ctx context.Context, viewer, id int64) (*store.Notification, error) {
	list, err := s.store.Notifications(ctx, viewer, store.NotificationFilter{ID: id}, store.Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrNotFound
	}
	return &list[0], nil
}

// Dismiss deletes one notification (id) or all (id 0).
func (s *Service) Dismiss(ctx context.Context, viewer, id int64) error {
	n, err := s.store.DismissNotifications(ctx, viewer, id)
	if err == nil && id != 0 && n == 0 {
		return ErrNotFound
	}
	return err
}

// SearchResult holds what a search found.
type SearchResult struct {
	Accounts []int64
	Tags     []store.Tag
	Statuses []int64
}

// SearchParams are a search's inputs.
type SearchParams struct {
	Query     string
	Type      string // "", accounts, hashtags, statuses
	Following bool
	Limit     int
	Offset    int
	Page      store.Page
	// Resolve looks a user@host on another server up over the network
	// first (signed-in viewers only).
	Resolve bool
}

// remoteURL reads q as the URL of something on another server.
func (s *Service) remoteURL(q string) (*url.URL, bool) {
	if !strings.HasPrefix(q, "https://") && !strings.HasPrefix(q, "http://") || len(q) > 2048 {
		return nil, false
	}
	u, err := url.Parse(q)
	if err != nil || u.Host == "" || u.User != nil || s.isLocalHost(u.Host) {
		return nil, false
	}
	return u, true
}

// isLocalHost reports whether host names this instance.
func (s *Service) isLocalHost(host string) bool {
	u := s.cfg.InstanceURL()
	return strings.EqualFold(host, u.Host) || strings.EqualFold(host, u.Hostname())
}

// Search finds accounts (by name, or user@domain), hashtags and statuses the
// viewer can see. Who may search what, as on Mastodon: an anonymous viewer
// (viewer 0: no token, or an app's own token) may not page past the first
// results (ErrSearchPagingNeedsSignIn) and finds no statuses, and among
// accounts only discoverable ones, or the one whose username it names exactly
// (which /api/v1/accounts/lookup shows anyone anyway). A signed-in viewer
// finds accounts by username and display name whether or not they are
// discoverable, as Mastodon's account search does for users: discoverable
// governs only listing, and a bio is never searched here.
func (s *Service) Search(ctx context.Context, viewer int64, p SearchParams) (SearchResult, error) {
	var r SearchResult
	anonymous := viewer == 0
	if anonymous && p.Offset > 0 {
		return r, ErrSearchPagingNeedsSignIn
	}
	q := strings.TrimSpace(p.Query)
	if q == "" {
		return r, nil
	}
	var err error
	if u, ok := s.remoteURL(q); ok && p.Resolve && !anonymous && s.remote != nil && p.Offset == 0 {
		// A URL names one account or one status: that is the answer, as on
		// Mastodon, or nothing.
		accountID, statusID, err := s.remote.ResolveURL(ctx, viewer, u)
		var wait *ratelimit.WaitError
		if errors.As(err, &wait) {
			return r, err
		}
		if err == nil {
			if statusID != 0 && (p.Type == "" || p.Type == "statuses") {
				if _, err := s.store.VisibleStatus(ctx, viewer, statusID); err == nil {
					r.Statuses = []int64{statusID}
				}
			} else if statusID == 0 && (p.Type == "" || p.Type == "accounts") {
				r.Accounts = []int64{accountID}
			}
		}
		return r, nil
	}
	if p.Resolve && !anonymous && s.remote != nil && (p.Type == "" || p.Type == "accounts") && p.Offset == 0 {
		if acct, ok := remote.ParseAcct(q); ok && !s.isLocalHost(acct.Host) {
			// What the network says lands in the store, where the search
			// below finds it. A failure (logged by remote) leaves the
			// search to what is known; only the rate limit is an answer.
			if _, err := s.remote.Resolve(ctx, viewer, acct); err != nil {
				var wait *ratelimit.WaitError
				if errors.As(err, &wait) {
					return r, err
				}
			}
		}
	}
	if p.Type == "" || p.Type == "accounts" {
		name, domain, _ := strings.Cut(strings.TrimPrefix(q, "@"), "@")
		inst := s.cfg.InstanceURL()
		if strings.EqualFold(domain, inst.Hostname()) || strings.EqualFold(domain, inst.Host) {
			domain = ""
		} else if domain != "" {
			domain = strings.ToLower(domain)
		}
		// "@" or "@host" names no account and finds none, as on Mastodon:
		// an empty prefix would match them all.
		if name != "" {
			r.Accounts, err = s.store.SearchAccounts(ctx, viewer, store.AccountSearch{Query: name, Domain: domain,
				Following: p.Following, DiscoverableOnly: anonymous, Limit: p.Limit, Offset: p.Offset})
			if err != nil {
				return r, err
			}
		}
	}
	if p.Type == "" || p.Type == "hashtags" {
		tag := strings.TrimPrefix(q, "#")
		if tag != "" && !strings.ContainsAny(tag, " \t@") {
			if r.Tags, err = s.store.SearchTags(ctx, viewer, tag, p.Limit, p.Offset); err != nil {
				return r, err
			}
		}
	}
	if (p.Type == "" || p.Type == "statuses") && !anonymous {
		page := p.Page
		page.Limit = p.Limit
		if r.Statuses, err = s.store.SearchStatuses(ctx, viewer, SearchTerms(q), page); err != nil {
			return r, err
		}
	}
	return r, nil
}
