package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CustomEmoji is a local custom emoji: its image on the media origin
// (FileKey, as uploaded and re-encoded; StaticKey, a still PNG, the same
// key when the image is one).
type CustomEmoji struct {
	ID              int64
	Shortcode       string
	FileKey         string
	StaticKey       string
	ContentType     string
	Category        string
	VisibleInPicker bool
	CreatedAt       time.Time
}

const emojiCols = `id, shortcode, file_key, static_key, content_type, category, visible_in_picker, created_at`

func scanEmoji(row scanner) (*CustomEmoji, error) {
	var e CustomEmoji
	var visible int
	var created int64
	err := row.Scan(&e.ID, &e.Shortcode, &e.FileKey, &e.StaticKey, &e.ContentType, &e.Category, &visible, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load custom emoji: %w", err)
	}
	e.VisibleInPicker, e.CreatedAt = visible != 0, fromMs(created)
	return &e, nil
}

// CreateCustomEmoji stores a custom emoji; a shortcode taken already
// (without regard to case) gives ErrConflict.
func (s *Store) CreateCustomEmoji(ctx context.Context, e *CustomEmoji) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO custom_emojis (`+emojiCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.Shortcode, e.FileKey, e.StaticKey, e.ContentType, e.Category, boolInt(e.VisibleInPicker), ms(e.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("custom emoji :%s:: %w", e.Shortcode, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create custom emoji: %w", err)
	}
	return nil
}

// DeleteCustomEmoji deletes the emoji of exactly shortcode and returns it
// (its files are the caller's to delete); ErrNotFound if there is none.
func (s *Store) DeleteCustomEmoji(ctx context.Context, shortcode string) (*CustomEmoji, error) {
	return scanEmoji(s.write.QueryRowContext(ctx, `DELETE FROM custom_emojis WHERE shortcode = ? RETURNING `+emojiCols, shortcode))
}

// CustomEmojis lists every custom emoji by shortcode.
func (s *Store) CustomEmojis(ctx context.Context) ([]CustomEmoji, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+emojiCols+` FROM custom_emojis ORDER BY shortcode`)
	if err != nil {
		return nil, fmt.Errorf("custom emojis: %w", err)
	}
	defer rows.Close()
	out := []CustomEmoji{}
	for rows.Next() {
		e, err := scanEmoji(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// CustomEmojisNamed loads the custom emojis of these shortcodes (exactly,
// case and all; repeats counted once), in one query; codes with none are
// absent.
func (s *Store) CustomEmojisNamed(ctx context.Context, codes []string) (map[string]CustomEmoji, error) {
	out := map[string]CustomEmoji{}
	seen := make(map[string]bool, len(codes))
	unique := codes[:0:0]
	for _, c := range codes {
		if !seen[c] {
			seen[c] = true
			unique = append(unique, c)
		}
	}
	if len(unique) == 0 {
		return out, nil
	}
	in, args := inStrings(unique)
	rows, err := s.read.QueryContext(ctx, `SELECT `+emojiCols+` FROM custom_emojis WHERE shortcode IN `+in, args...)
	if err != nil {
		return nil, fmt.Errorf("custom emojis: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEmoji(rows)
		if err != nil {
			return nil, err
		}
		out[e.Shortcode] = *e
	}
	return out, rows.Err()
}

// inStrings is inList for strings: padded to a power of two so the
// statement's text is one of a few.
func inStrings(v []string) (string, []any) {
	n := 1
	for n < len(v) {
		n *= 2
	}
	if len(v) > maxPaddedList {
		n = len(v)
	}
	args := make([]any, n)
	for i := range args {
		args[i] = v[min(i, len(v)-1)]
	}
	return "(" + placeholders(n) + ")", args
}
