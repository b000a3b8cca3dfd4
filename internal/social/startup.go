package social

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rampart-social/rampart/internal/store"
)

// The rules of what apps read when they open an account: reading markers,
// follow suggestions and trends. Trends and suggestions are the admin's
// choice (config [discovery]), off by default: then they are empty.

// Markers reads the viewer's markers of the timelines named; names other
// than Mastodon's two are ignored, as Mastodon ignores them.
func (s *Service) Markers(ctx context.Context, viewer int64, timelines []string) (map[string]store.Marker, error) {
	return s.store.Markers(ctx, viewer, knownTimelines(timelines))
}

// SaveMarkers saves the viewer's markers (timeline → last read id) and
// returns them as stored.
func (s *Service) SaveMarkers(ctx context.Context, viewer int64, last map[string]int64) (map[string]store.Marker, error) {
	keep := map[string]int64{}
	for _, name := range knownTimelines(mapKeys(last)) {
		keep[name] = last[name]
	}
	return s.store.SaveMarkers(ctx, viewer, keep, s.now())
}

func knownTimelines(names []string) []string {
	var out []string
	for _, name := range store.MarkerTimelines {
		if slices.Contains(names, name) {
			out = append(out, name)
		}
	}
	return out
}

func mapKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Suggestions lists accounts to suggest to viewer (store.Suggestions), none
// while discovery.suggestions is off.
func (s *Service) Suggestions(ctx context.Context, viewer int64, limit int) ([]store.Suggestion, error) {
	if !s.cfg.Discovery.Suggestions {
		return nil, nil
	}
	return s.store.Suggestions(ctx, viewer, limit)
}

// DismissSuggestion keeps target out of viewer's suggestions for good. It
// is kept while suggestions are off too, so that turning them on does not
// bring back what someone dismissed.
func (s *Service) DismissSuggestion(ctx context.Context, viewer, target int64) error {
	return s.store.DismissSuggestion(ctx, viewer, target, s.now())
}

// Trend windows and bounds.
const (
	// TrendDays is the window trends read, and the days of a tag's history.
	TrendDays = 7
	// trendsMaxAge is how long a computed ranking serves: trends need no
	// token, so the aggregate is computed at most this often, whoever asks.
	trendsMaxAge = 5 * time.Minute
	// trendingStatusCandidates is how many of the most shared statuses are
	// kept; each viewer's list is these, held to the viewer's rules.
	trendingStatusCandidates = 200
	// trendingTagsKept bounds the tags kept in the ranking.
	trendingTagsKept = 100
)

// TrendingTag is a hashtag in the trends, with its daily use, newest day
// first (TrendDays of them).
type TrendingTag struct {
	Name    string
	History []TagDay
}

// TagDay is one day of a trending tag's use.
type TagDay struct {
	Day      time.Time // midnight UTC
	Uses     int64
	Accounts int64
}

// trends holds the last computed rankings.
type trends struct {
	mu       sync.Mutex
	builtAt  time.Time
	tags     []TrendingTag
	statuses []int64
}

// rankings returns the current rankings, computing them when older than
// trendsMaxAge. Concurrent callers wait for the one computation.
func (s *Service) rankings(ctx context.Context) ([]TrendingTag, []int64, error) {
	t := &s.trends
	t.mu.Lock()
	defer t.mu.Unlock()
	now := s.now()
	if !t.builtAt.IsZero() && now.Sub(t.builtAt) < trendsMaxAge && !now.Before(t.builtAt) {
		return t.tags, t.statuses, nil
	}
	today := now.UTC().Truncate(24 * time.Hour)
	from := today.AddDate(0, 0, -(TrendDays - 1))
	uses, err := s.store.TagUses(ctx, from)
	if err != nil {
		return nil, nil, err
	}
	type ranked struct {
		tag             TrendingTag
		accounts, total int64
	}
	var all []ranked
	for _, u := range uses {
		r := ranked{tag: TrendingTag{Name: u.Name, History: make([]TagDay, TrendDays)}}
		for i := range TrendDays {
			r.tag.History[i].Day = today.AddDate(0, 0, -i)
		}
		for _, d := range u.Days {
			i := TrendDays - 1 - d.Day
			if i < 0 || i >= TrendDays {
				continue
			}
			r.tag.History[i].Uses, r.tag.History[i].Accounts = d.Uses, d.Accounts
			r.accounts += d.Accounts
			r.total += d.Uses
		}
		all = append(all, r)
	}
	// Most accounts first (summed per day), then most uses, then by name.
	slices.SortFunc(all, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(b.accounts, a.accounts), cmp.Compare(b.total, a.total), cmp.Compare(a.tag.Name, b.tag.Name))
	})
	tags := make([]TrendingTag, 0, min(len(all), trendingTagsKept))
	for _, r := range all[:min(len(all), trendingTagsKept)] {
		tags = append(tags, r.tag)
	}
	statuses, err := s.store.MostSharedStatuses(ctx, from, trendingStatusCandidates)
	if err != nil {
		return nil, nil, err
	}
	t.tags, t.statuses, t.builtAt = tags, statuses, now
	return tags, statuses, nil
}

// TrendingTags is a page of the trending hashtags (offset, limit), none
// while discovery.trends is off.
func (s *Service) TrendingTags(ctx context.Context, offset, limit int) ([]TrendingTag, error) {
	if !s.cfg.Discovery.Trends {
		return nil, nil
	}
	tags, _, err := s.rankings(ctx)
	if err != nil {
		return nil, err
	}
	return window(tags, offset, limit), nil
}

// TrendingStatuses is a page of the trending statuses as viewer may see
// them: the ranking's statuses that pass the visibility and mute rules
// for viewer, in the ranking's order. None while discovery.trends is off.
func (s *Service) TrendingStatuses(ctx context.Context, viewer int64, offset, limit int) ([]int64, error) {
	if !s.cfg.Discovery.Trends {
		return nil, nil
	}
	_, ids, err := s.rankings(ctx)
	if err != nil {
		return nil, err
	}
	visible, err := s.store.VisibleAmong(ctx, viewer, ids)
	if err != nil {
		return nil, err
	}
	return window(visible, offset, limit), nil
}

func window[T any](all []T, offset, limit int) []T {
	if offset >= len(all) || limit <= 0 {
		return nil
	}
	return all[offset:min(len(all), offset+limit)]
}
