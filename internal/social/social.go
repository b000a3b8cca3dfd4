// Package social holds the rules of the local social core: posting and
// editing statuses, favourites, reblogs, bookmarks and pins, follows and
// follow requests, blocks and mutes, notifications, timelines and search.
// It knows nothing of HTTP; the store decides visibility (one SQL rule) and
// this package decides who may do what.
package social

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/jobs"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/remote"
	"github.com/rampart-social/rampart/internal/store"
)

// Service applies the rules.
type Service struct {
	cfg    *config.Config
	store  *store.Store
	ids    *id.Generator
	remote RemoteAccounts
	now    func() time.Time
	// wakeJobs tells the job runner a job was committed; nil: no runner,
	// and every fan-out is done in the request.
	wakeJobs func()
	// pushed enqueues the Web Push of each notification shown; nil: none.
	pushed func(context.Context, *store.Notification)
	// events takes each committed change live streams show; nil: none.
	events events.Publisher
	// limits are the accounts' allowances of limits.posts and
	// limits.follows (WithLimits); nil ones allow everything.
	limits actionLimits
	// trends holds the last computed trend rankings (startup.go).
	trends trends
}

// actionLimits count, per account and in the database (every process
// together), what a runaway client could otherwise do without end.
type actionLimits struct {
	posts, reblogs, follows *ratelimit.Shared
}

// WithLimits applies limits.posts (statuses, and as many reblogs) and
// limits.follows per account, digesting the keys under key
// (accounts.LimiterKey). It returns s.
func (s *Service) WithLimits(key []byte) *Service {
	l, now := s.cfg.Limits, func() time.Time { return s.now() }
	s.limits = actionLimits{
		posts:   ratelimit.Optional(s.store, key, "posts.account", l.Posts, config.PostsWindow, now),
		reblogs: ratelimit.Optional(s.store, key, "reblogs.account", l.Posts, config.PostsWindow, now),
		follows: ratelimit.Optional(s.store, key, "follows.account", l.Follows, config.FollowsWindow, now),
	}
	return s
}

// accountKey is an account's key in its limits.
func accountKey(id int64) string { return strconv.FormatInt(id, 10) }

// inlineFanOut is the most followers whose home timelines a post fills in
// its own transaction: a few rows cost less than the job that would carry
// them, and keep the smallest accounts' followers current at once. Past
// it, the followers' timelines are the pooled fan-out job's
// (store.KindFanOut), which writes many posts' rows in one transaction, so
// that a follower's rows share a page and a commit: random users' posts
// went from about 177 to 260-296 a second when this fell from 64 to 8
// (docs/performance.md).
const inlineFanOut = 8

// WithJobs makes the service leave large fan-outs to the job runner, which
// wake wakes after each commit. It returns s.
func (s *Service) WithJobs(wake func()) *Service {
	s.wakeJobs = wake
	return s
}

// deferFanOut reports whether a status of author's, of visibility, leaves
// its followers' home timelines to a job.
func (s *Service) deferFanOut(ctx context.Context, author int64, visibility store.Visibility) (bool, error) {
	if s.wakeJobs == nil || visibility == store.Direct {
		return false, nil
	}
	stats, err := s.store.StatsFor(ctx, []int64{author})
	if err != nil {
		return false, err
	}
	return stats[author].Followers > inlineFanOut, nil
}

// RemoteAccounts resolves accounts and statuses on other servers
// (remote.Accounts).
type RemoteAccounts interface {
	Resolve(ctx context.Context, asker int64, acct remote.Acct) (*store.Account, error)
	// ResolveURL looks up an actor's or a Note's URL: the account, and the
	// status when it was a Note.
	ResolveURL(ctx context.Context, asker int64, u *url.URL) (accountID, statusID int64, err error)
}

// New builds the service; remote may be nil (no remote lookups).
func New(cfg *config.Config, st *store.Store, ids *id.Generator, remote RemoteAccounts) *Service {
	return &Service{cfg: cfg, store: st, ids: ids, remote: remote, now: time.Now}
}

// Errors the API maps to status codes.
var (
	// ErrForbidden: the action is not allowed to this account (403).
	ErrForbidden = errors.New("this action is not allowed")
	// ErrNotFound: no such thing visible to the caller (404).
	ErrNotFound = store.ErrNotFound
	// ErrSearchPagingNeedsSignIn: an anonymous search asked for a later page
	// (401, with Mastodon's message).
	ErrSearchPagingNeedsSignIn = errors.New("Search queries pagination is not supported without authentication")
)

// ValidationError is a bad input, answered with 422.
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// usableAccount loads a usable account by id (pending, disabled and
// suspended ones do not exist to others).
func (s *Service) usableAccount(ctx context.Context, id int64) (*store.Account, error) {
	a, err := s.store.AccountByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.SuspendedAt.IsZero() {
		return nil, ErrNotFound
	}
	if a.Domain == "" {
		u, err := s.store.UserByAccountID(ctx, id)
		if err != nil {
			return nil, err
		}
		if u.Disabled || !u.Approved {
			return nil, ErrNotFound
		}
	}
	return a, nil
}

// FanOutJob is the job store.KindFanOut: the deferred posts' followers'
// home timelines (store.FanOutPending), or one status's (the first form).
func (s *Service) FanOutJob(ctx context.Context, payload []byte) error {
	var p store.FanOutPayload
	if err := json.Unmarshal(payload, &p); err != nil || !p.Pending && p.Author <= 0 && p.Status <= 0 {
		return jobs.Permanent(fmt.Errorf("fan-out payload %q", payload))
	}
	if p.Pending || p.Author > 0 {
		return s.store.FanOutPendingEach(ctx, func(status, author int64) {
			s.emit(events.Event{Kind: events.StatusCreated, Status: status, Account: author, Reach: events.ReachFollowers})
		})
	}
	if err := s.store.FanOutToFollowers(ctx, p.Status); err != nil {
		return err
	}
	if st, err := s.store.StatusByID(ctx, p.Status); err == nil {
		s.emit(events.Event{Kind: events.StatusCreated, Status: st.ID, Account: st.AccountID, Reach: events.ReachFollowers})
	}
	return nil
}
