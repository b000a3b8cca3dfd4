package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Announcement is an admin's notice to the instance's users. Content is
// Text rendered as a status's is; StartsAt and EndsAt are zero when unset.
type Announcement struct {
	ID          int64
	Text        string
	Content     string
	MentionIDs  []int64  // local accounts the text mentions
	Tags        []string // lower case
	StartsAt    time.Time
	EndsAt      time.Time
	AllDay      bool
	PublishedAt time.Time
	UpdatedAt   time.Time
}

// AnnouncementReaction is one reaction's tally on an announcement.
type AnnouncementReaction struct {
	Name  string
	Count int64
	Me    bool // the viewer reacted so
}

const announcementCols = `id, text, content, mentions, tags, starts_at, ends_at, all_day, published_at, updated_at`

func scanAnnouncement(row scanner) (*Announcement, error) {
	var a Announcement
	var mentions, tags string
	var starts, ends, published, updated int64
	var allDay int
	err := row.Scan(&a.ID, &a.Text, &a.Content, &mentions, &tags, &starts, &ends, &allDay, &published, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load announcement: %w", err)
	}
	_ = json.Unmarshal([]byte(mentions), &a.MentionIDs)
	_ = json.Unmarshal([]byte(tags), &a.Tags)
	if starts != 0 {
		a.StartsAt = fromMs(starts)
	}
	if ends != 0 {
		a.EndsAt = fromMs(ends)
	}
	a.AllDay, a.PublishedAt, a.UpdatedAt = allDay != 0, fromMs(published), fromMs(updated)
	return &a, nil
}

func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// CreateAnnouncement stores an announcement.
func (s *Store) CreateAnnouncement(ctx context.Context, a *Announcement) error {
	mentions, _ := json.Marshal(append([]int64{}, a.MentionIDs...))
	tags, _ := json.Marshal(append([]string{}, a.Tags...))
	_, err := s.write.ExecContext(ctx, `INSERT INTO announcements (`+announcementCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Text, a.Content, string(mentions), string(tags), msOrZero(a.StartsAt), msOrZero(a.EndsAt), boolInt(a.AllDay),
		ms(a.PublishedAt), ms(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create announcement: %w", err)
	}
	return nil
}

// DeleteAnnouncement deletes an announcement with its dismissals and reactions.
func (s *Store) DeleteAnnouncement(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM announcements WHERE id = ?`, id)
	return expectOne(res, err, "delete announcement")
}

// CurrentAnnouncement loads an announcement that is published and has not
// ended at now; others are ErrNotFound.
func (s *Store) CurrentAnnouncement(ctx context.Context, id int64, now time.Time) (*Announcement, error) {
	return scanAnnouncement(s.read.QueryRowContext(ctx, `SELECT `+announcementCols+` FROM announcements
		WHERE id = ? AND published_at <= ? AND (ends_at = 0 OR ends_at > ?)`, id, ms(now), ms(now)))
}

// maxAnnouncements bounds a list of announcements: admins write a few.
const maxAnnouncements = 200

// Announcements lists announcements in Mastodon's order (by start, else
// publication): with current, only those published and not ended at now.
func (s *Store) Announcements(ctx context.Context, current bool, now time.Time) ([]Announcement, error) {
	q := `SELECT ` + announcementCols + ` FROM announcements`
	args := []any{}
	if current {
		q += ` WHERE published_at <= ? AND (ends_at = 0 OR ends_at > ?)`
		args = append(args, ms(now), ms(now))
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY CASE WHEN starts_at != 0 THEN starts_at ELSE published_at END, id LIMIT ?`,
		append(args, maxAnnouncements)...)
	if err != nil {
		return nil, fmt.Errorf("announcements: %w", err)
	}
	defer rows.Close()
	out := []Announcement{}
	for rows.Next() {
		a, err := scanAnnouncement(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// DismissAnnouncement marks an announcement read by account (again: no change).
func (s *Store) DismissAnnouncement(ctx context.Context, id, account int64) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO announcement_dismissals (announcement_id, account_id) VALUES (?, ?)
		ON CONFLICT DO NOTHING`, id, account)
	if err != nil {
		return fmt.Errorf("dismiss announcement: %w", err)
	}
	return nil
}

// DismissedAnnouncements reports which of ids account has dismissed.
func (s *Store) DismissedAnnouncements(ctx context.Context, account int64, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(ids) == 0 || account == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := s.read.QueryContext(ctx, `SELECT announcement_id FROM announcement_dismissals WHERE account_id = ? AND announcement_id IN `+in,
		append([]any{account}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("dismissed announcements: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// ErrTooManyReactions means an announcement has as many different
// reactions as it may, and this one is new.
var ErrTooManyReactions = errors.New("too many different reactions")

// AddAnnouncementReaction records account's reaction name (again: no
// change). A name no one has used on it yet is refused with
// ErrTooManyReactions once it has limit different ones.
func (s *Store) AddAnnouncementReaction(ctx context.Context, id, account int64, name string, limit int, now time.Time) error {
	res, err := s.write.ExecContext(ctx, `INSERT INTO announcement_reactions (announcement_id, account_id, name, created_at)
		SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM announcement_reactions WHERE announcement_id = ? AND name = ?)
			OR (SELECT COUNT(DISTINCT name) FROM announcement_reactions WHERE announcement_id = ?) < ?
		ON CONFLICT DO NOTHING`, id, account, name, ms(now), id, name, id, limit)
	if err != nil {
		return fmt.Errorf("react to announcement: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Either it was there already, or the limit refused it.
		var mine int
		err := s.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM announcement_reactions WHERE announcement_id = ? AND account_id = ? AND name = ?`,
			id, account, name).Scan(&mine)
		if err != nil {
			return fmt.Errorf("react to announcement: %w", err)
		}
		if mine == 0 {
			return ErrTooManyReactions
		}
	}
	return nil
}

// RemoveAnnouncementReaction takes account's reaction name back (none: no change).
func (s *Store) RemoveAnnouncementReaction(ctx context.Context, id, account int64, name string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM announcement_reactions WHERE announcement_id = ? AND account_id = ? AND name = ?`,
		id, account, name)
	if err != nil {
		return fmt.Errorf("remove announcement reaction: %w", err)
	}
	return nil
}

// AnnouncementReactions tallies the reactions to each of ids, in the order
// each name was first used, with whether viewer (0: none) reacted so.
func (s *Store) AnnouncementReactions(ctx context.Context, viewer int64, ids []int64) (map[int64][]AnnouncementReaction, error) {
	out := map[int64][]AnnouncementReaction{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := s.read.QueryContext(ctx, `SELECT announcement_id, name, COUNT(*), MAX(CASE WHEN account_id = ? THEN 1 ELSE 0 END), MIN(created_at) AS first
		FROM announcement_reactions WHERE announcement_id IN `+in+` GROUP BY announcement_id, name ORDER BY announcement_id, first, name`,
		append([]any{viewer}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("announcement reactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, first int64
		var r AnnouncementReaction
		var me int
		if err := rows.Scan(&id, &r.Name, &r.Count, &me, &first); err != nil {
			return nil, err
		}
		r.Me = me != 0
		out[id] = append(out[id], r)
	}
	return out, rows.Err()
}
