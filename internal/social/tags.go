package social

import (
	"context"
	"errors"
	"time"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/text"
)

// The rules of hashtags followed and featured, of familiar followers and of
// the profile directory. Followed tags reach the home timeline through the
// store's fan-out (store.fanOutTags), under the home timeline's rules.

const (
	// MaxFeaturedTags is how many tags a profile features (Mastodon's limit).
	MaxFeaturedTags = 10
	// tagSuggestions is how many tags the suggestions list.
	tagSuggestions = 10
	// MaxFamiliarTargets bounds the accounts one familiar-followers request
	// asks about, and familiarPerTarget the accounts answered for each.
	MaxFamiliarTargets = 40
	familiarPerTarget  = 10
	// MaxDirectoryOffset bounds how far into the directory a page starts:
	// a page walks its offset's rows first.
	MaxDirectoryOffset = 10000
	// HistoryDays is how many days a tag's history shows, today included.
	HistoryDays = 7
)

// tagName is name as a stored tag, or ErrNotFound when it is none (as
// Mastodon answers a name that cannot be a hashtag).
func tagName(name string) (string, error) {
	n, ok := text.TagName(name)
	if !ok {
		return "", ErrNotFound
	}
	return n, nil
}

// Tag is the tag name as viewer sees it: a tag nothing used yet is shown
// all the same (ID 0), as Mastodon shows one.
func (s *Service) Tag(ctx context.Context, viewer int64, name string) (*store.TagInfo, error) {
	n, err := tagName(name)
	if err != nil {
		return nil, err
	}
	t, err := s.store.TagByName(ctx, viewer, n)
	if errors.Is(err, store.ErrNotFound) {
		return &store.TagInfo{Tag: store.Tag{Name: n}}, nil
	}
	return t, err
}

// FollowTag makes viewer follow the tag name: its public statuses fanned
// out from now on enter viewer's home timeline.
func (s *Service) FollowTag(ctx context.Context, viewer *store.Account, name string) (*store.TagInfo, error) {
	n, err := tagName(name)
	if err != nil {
		return nil, err
	}
	if err := s.store.FollowTag(ctx, s.ids.Next(), viewer.ID, n, s.now().UTC()); err != nil {
		return nil, err
	}
	return s.Tag(ctx, viewer.ID, n)
}

// UnfollowTag ends viewer's follow of the tag name.
func (s *Service) UnfollowTag(ctx context.Context, viewer *store.Account, name string) (*store.TagInfo, error) {
	n, err := tagName(name)
	if err != nil {
		return nil, err
	}
	if err := s.store.UnfollowTag(ctx, viewer.ID, n); err != nil {
		return nil, err
	}
	return s.Tag(ctx, viewer.ID, n)
}

// FollowedTags lists the tags viewer follows, newest follow first.
func (s *Service) FollowedTags(ctx context.Context, viewer int64, p store.Page) ([]store.TagFollow, error) {
	return s.store.FollowedTags(ctx, viewer, p)
}

// TagHistory is each tag's use over the last HistoryDays UTC days, newest
// day first, a day without use included with zeros (Mastodon's history).
func (s *Service) TagHistory(ctx context.Context, tags []int64) (map[int64][]store.TagDay, error) {
	now := s.now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	first := today.AddDate(0, 0, -(HistoryDays - 1))
	var known []int64 // a tag not stored yet (id 0) has no uses to read
	for _, t := range tags {
		if t != 0 {
			known = append(known, t)
		}
	}
	used, err := s.store.TagHistory(ctx, known, id.Floor(first))
	if err != nil {
		return nil, err
	}
	out := make(map[int64][]store.TagDay, len(tags))
	for _, t := range tags {
		byDay := map[int64]store.TagDay{}
		for _, d := range used[t] {
			byDay[d.Day] = d
		}
		week := make([]store.TagDay, 0, HistoryDays)
		for i := range HistoryDays {
			day := today.AddDate(0, 0, -i).UnixMilli()
			d := byDay[day]
			d.Day = day
			week = append(week, d)
		}
		out[t] = week
	}
	return out, nil
}

// FeaturedTags lists the tags account features, for viewer: none when
// account blocks viewer; ErrNotFound for an account no one may see.
func (s *Service) FeaturedTags(ctx context.Context, viewer, account int64) ([]store.FeaturedTag, error) {
	if _, err := s.usableAccount(ctx, account); err != nil {
		return nil, err
	}
	if viewer != 0 && viewer != account {
		rel, err := s.store.Relationships(ctx, viewer, []int64{account})
		if err != nil {
			return nil, err
		}
		if rel[account].BlockedBy {
			return nil, nil
		}
	}
	return s.store.FeaturedTags(ctx, account)
}

// FeatureTag features the tag name on viewer's profile (at most
// MaxFeaturedTags); featuring it again returns the one featured.
func (s *Service) FeatureTag(ctx context.Context, viewer *store.Account, name string) (*store.FeaturedTag, error) {
	n, ok := text.TagName(name)
	if !ok {
		return nil, invalid("name", "is not a valid hashtag")
	}
	fid, err := s.store.FeatureTag(ctx, s.ids.Next(), viewer.ID, n, MaxFeaturedTags, s.now().UTC())
	if errors.Is(err, store.ErrTooMany) {
		return nil, invalid("name", "You can only feature up to %d hashtags", MaxFeaturedTags)
	}
	if err != nil {
		return nil, err
	}
	all, err := s.store.FeaturedTags(ctx, viewer.ID)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].ID == fid {
			return &all[i], nil
		}
	}
	return nil, ErrNotFound // removed meanwhile
}

// UnfeatureTag removes viewer's featured tag id.
func (s *Service) UnfeatureTag(ctx context.Context, viewer *store.Account, fid int64) error {
	return s.store.UnfeatureTag(ctx, viewer.ID, fid)
}

// TagSuggestions lists the tags viewer used most of late and does not
// feature.
func (s *Service) TagSuggestions(ctx context.Context, viewer int64) ([]store.Tag, error) {
	return s.store.TagSuggestions(ctx, viewer, tagSuggestions)
}

// FamiliarFollowers lists, for each of targets (the first
// MaxFamiliarTargets), the accounts viewer follows that follow it.
func (s *Service) FamiliarFollowers(ctx context.Context, viewer int64, targets []int64) (map[int64][]int64, error) {
	if len(targets) > MaxFamiliarTargets {
		targets = targets[:MaxFamiliarTargets]
	}
	return s.store.FamiliarFollowers(ctx, viewer, targets, familiarPerTarget)
}

// Directory lists the profile directory's accounts for viewer.
func (s *Service) Directory(ctx context.Context, viewer int64, f store.DirectoryFilter) ([]int64, error) {
	f.Offset = min(max(f.Offset, 0), MaxDirectoryOffset)
	return s.store.Directory(ctx, viewer, f)
}
