package social

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/text"
)

// MaxAnnouncementReactions is how many different reactions one
// announcement may carry (Mastodon's limit).
const MaxAnnouncementReactions = 8

// maxAnnouncementText bounds an announcement's text, in characters.
const maxAnnouncementText = 5000

// NewAnnouncement is what an admin writes. StartsAt and EndsAt are
// optional (zero); once EndsAt has passed, the announcement is no longer
// listed.
type NewAnnouncement struct {
	Text     string
	StartsAt time.Time
	EndsAt   time.Time
	AllDay   bool
}

// AddAnnouncement publishes an announcement at once. Its text is rendered
// as a status's is (internal/text: escaped, with links, hashtags and local
// mentions).
func (s *Service) AddAnnouncement(ctx context.Context, p NewAnnouncement) (*store.Announcement, error) {
	body := strings.TrimSpace(p.Text)
	if body == "" {
		return nil, invalid("text", "can't be blank")
	}
	if !utf8.ValidString(body) {
		return nil, invalid("text", "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(body); n > maxAnnouncementText {
		return nil, invalid("text", "is %d characters; at most %d are accepted", n, maxAnnouncementText)
	}
	now := s.now().UTC()
	if !p.EndsAt.IsZero() {
		if !p.StartsAt.IsZero() && !p.EndsAt.After(p.StartsAt) {
			return nil, invalid("ends_at", "must be after starts_at")
		}
		if !p.EndsAt.After(now) {
			return nil, invalid("ends_at", "is in the past: the announcement would never show")
		}
	}
	base := s.cfg.InstanceURL().String()
	html, mentions, tags := text.Render(body, func(tag string) string { return base + "/tags/" + tag },
		func(m text.MentionRef) (text.Resolved, bool) {
			// Local accounts only: an announcement fetches nothing.
			if m.Domain != "" && !s.isLocalHost(m.Domain) {
				return text.Resolved{}, false
			}
			acc, err := s.store.AccountByUsername(ctx, m.Username, "")
			if err != nil {
				return text.Resolved{}, false
			}
			if _, err := s.usableAccount(ctx, acc.ID); err != nil {
				return text.Resolved{}, false
			}
			return text.Resolved{ID: acc.ID, URL: acc.URL, Acct: acc.Username}, true
		})
	a := &store.Announcement{ID: s.ids.Next(), Text: body, Content: html, MentionIDs: mentions, Tags: tags,
		StartsAt: p.StartsAt.UTC(), EndsAt: p.EndsAt.UTC(), AllDay: p.AllDay, PublishedAt: now, UpdatedAt: now}
	if p.StartsAt.IsZero() {
		a.StartsAt = time.Time{}
	}
	if p.EndsAt.IsZero() {
		a.EndsAt = time.Time{}
	}
	if err := s.store.CreateAnnouncement(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// RemoveAnnouncement deletes an announcement, its dismissals and reactions.
func (s *Service) RemoveAnnouncement(ctx context.Context, id int64) error {
	return s.store.DeleteAnnouncement(ctx, id)
}

// AllAnnouncements lists every announcement, ended ones too (for admins).
func (s *Service) AllAnnouncements(ctx context.Context) ([]store.Announcement, error) {
	return s.store.Announcements(ctx, false, s.now())
}

// Announcements lists the announcements users see now: published and not
// ended.
func (s *Service) Announcements(ctx context.Context) ([]store.Announcement, error) {
	return s.store.Announcements(ctx, true, s.now())
}

// DismissAnnouncement marks a current announcement read for viewer.
func (s *Service) DismissAnnouncement(ctx context.Context, viewer, id int64) error {
	if _, err := s.store.CurrentAnnouncement(ctx, id, s.now()); err != nil {
		return err
	}
	return s.store.DismissAnnouncement(ctx, id, viewer)
}

// ReactToAnnouncement adds viewer's reaction name to a current
// announcement: name is one Unicode emoji or the shortcode of a custom
// emoji of this instance; anything else is refused, and so is a new name
// on an announcement that has MaxAnnouncementReactions already.
func (s *Service) ReactToAnnouncement(ctx context.Context, viewer, id int64, name string) error {
	if _, err := s.store.CurrentAnnouncement(ctx, id, s.now()); err != nil {
		return err
	}
	if err := s.checkReaction(ctx, name); err != nil {
		return err
	}
	err := s.store.AddAnnouncementReaction(ctx, id, viewer, name, MaxAnnouncementReactions, s.now())
	if errors.Is(err, store.ErrTooManyReactions) {
		return invalid("name", "is a new reaction, and the announcement has %d different ones already", MaxAnnouncementReactions)
	}
	return err
}

// UnreactToAnnouncement takes viewer's reaction name back (none: no change).
func (s *Service) UnreactToAnnouncement(ctx context.Context, viewer, id int64, name string) error {
	if _, err := s.store.CurrentAnnouncement(ctx, id, s.now()); err != nil {
		return err
	}
	return s.store.RemoveAnnouncementReaction(ctx, id, viewer, name)
}

func (s *Service) checkReaction(ctx context.Context, name string) error {
	if text.IsEmoji(name) {
		return nil
	}
	if text.IsShortcode(name) {
		found, err := s.store.CustomEmojisNamed(ctx, []string{name})
		if err != nil {
			return err
		}
		if _, ok := found[name]; ok {
			return nil
		}
	}
	return invalid("name", "must be an emoji or the shortcode of a custom emoji of this instance")
}
