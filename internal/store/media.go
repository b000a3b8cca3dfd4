package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Media is an uploaded attachment.
type Media struct {
	ID          int64
	AccountID   int64
	StatusID    int64 // 0: not attached
	Kind        string
	ContentType string
	FileKey     string
	PreviewKey  string
	FileSize    int64
	Meta        string // JSON, Mastodon's meta object
	Blurhash    string
	Description string
	FocusX      float64
	FocusY      float64
	State       string // processing, ready, failed
	Failure     string
	CreatedAt   time.Time
}

const mediaCols = `m.id, m.account_id, COALESCE(m.status_id, 0), m.kind, m.content_type, m.file_key, m.preview_key, m.file_size, m.meta,
	m.blurhash, m.description, m.focus_x, m.focus_y, m.state, m.failure, m.created_at`

func scanMedia(row scanner) (*Media, error) {
	var m Media
	var created int64
	err := row.Scan(&m.ID, &m.AccountID, &m.StatusID, &m.Kind, &m.ContentType, &m.FileKey, &m.PreviewKey, &m.FileSize, &m.Meta,
		&m.Blurhash, &m.Description, &m.FocusX, &m.FocusY, &m.State, &m.Failure, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load media: %w", err)
	}
	m.CreatedAt = fromMs(created)
	return &m, nil
}

// CreateMedia stores a new attachment row.
func (s *Store) CreateMedia(ctx context.Context, m *Media) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO media_attachments (id, account_id, kind, content_type, file_key, preview_key, file_size,
		meta, blurhash, description, focus_x, focus_y, state, failure, created_at, processed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.AccountID, m.Kind, m.ContentType, m.FileKey, m.PreviewKey, m.FileSize, m.Meta, m.Blurhash, m.Description,
		m.FocusX, m.FocusY, m.State, m.Failure, ms(m.CreatedAt), s.Process())
	if err != nil {
		return fmt.Errorf("create media: %w", err)
	}
	return nil
}

// FinishMedia records the outcome of processing.
func (s *Store) FinishMedia(ctx context.Context, m *Media) error {
	res, err := s.write.ExecContext(ctx, `UPDATE media_attachments SET content_type = ?, file_key = ?, preview_key = ?, file_size = ?, meta = ?,
		blurhash = ?, state = ?, failure = ? WHERE id = ?`, m.ContentType, m.FileKey, m.PreviewKey, m.FileSize, m.Meta, m.Blurhash, m.State, m.Failure, m.ID)
	return expectOne(res, err, "finish media")
}

// MediaByID loads one attachment.
func (s *Store) MediaByID(ctx context.Context, id int64) (*Media, error) {
	return scanMedia(s.read.QueryRowContext(ctx, `SELECT `+mediaCols+` FROM media_attachments m WHERE m.id = ?`, id))
}

// DescribeMedia sets the description and focal point.
func (s *Store) DescribeMedia(ctx context.Context, id int64, description string, fx, fy float64) error {
	res, err := s.write.ExecContext(ctx, `UPDATE media_attachments SET description = ?, focus_x = ?, focus_y = ? WHERE id = ?`, description, fx, fy, id)
	return expectOne(res, err, "describe media")
}

// DeleteUnusedUpload deletes an upload row that nothing uses — not attached
// to a status, and no account's avatar or header — and reports whether it
// did. Its caller then deletes the files: an upload that turned out to be in
// use keeps both.
func (s *Store) DeleteUnusedUpload(ctx context.Context, id int64) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM media_attachments WHERE id = ? AND status_id IS NULL AND scheduled_status_id IS NULL
		AND NOT EXISTS (SELECT 1 FROM accounts a WHERE (a.avatar_key != '' AND a.avatar_key IN (media_attachments.file_key, media_attachments.preview_key))
			OR (a.header_key != '' AND a.header_key IN (media_attachments.file_key, media_attachments.preview_key)))`, id)
	if err != nil {
		return false, fmt.Errorf("delete upload: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("delete upload: %w", err)
	}
	return n == 1, nil
}

// attachMedia ties the owner's unattached, ready uploads to a status, in
// order: not those held for a scheduled status, but the one (scheduled,
// else 0) it publishes.
func attachMedia(ctx context.Context, tx *writeTx, statusID, owner, scheduled int64, ids []int64) error {
	for i, mid := range ids {
		res, err := tx.ExecContext(ctx, `UPDATE media_attachments SET status_id = ?, position = ?, scheduled_status_id = NULL, detached_at = 0
			WHERE id = ? AND account_id = ? AND (status_id IS NULL OR status_id = ?) AND state = 'ready'
			AND (scheduled_status_id IS NULL OR scheduled_status_id = ?)`, statusID, i, mid, owner, statusID, scheduled)
		if err != nil {
			return fmt.Errorf("attach media: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("media %d: %w", mid, ErrMediaUnavailable)
		}
	}
	return nil
}

// ErrMediaUnavailable means a media id is not the poster's, is attached elsewhere, or is not processed.
var ErrMediaUnavailable = errors.New("not an unattached, processed upload of yours")

// MediaForStatuses loads the attachments of each status, in order.
func (s *Store) MediaForStatuses(ctx context.Context, ids []int64) (map[int64][]Media, error) {
	out := map[int64][]Media{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := s.read.QueryContext(ctx, `SELECT `+mediaCols+` FROM media_attachments m WHERE m.status_id IN `+in+`
		ORDER BY m.status_id, m.position`, args...)
	if err != nil {
		return nil, fmt.Errorf("status media: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMedia(rows)
		if err != nil {
			return nil, err
		}
		out[m.StatusID] = append(out[m.StatusID], *m)
	}
	return out, rows.Err()
}

// ServedFile is what the media origin may serve for a key.
type ServedFile struct {
	ContentType string
	Kind        string
}

// ServableKey reports whether a stored file is referenced by a live, ready
// attachment (or a profile image) of a usable account, or by a custom
// emoji, and what type it was sniffed as. Files of deleted statuses and of disabled accounts stop being
// served at once, before the cleaner runs.
func (s *Store) ServableKey(ctx context.Context, key string) (*ServedFile, error) {
	var f ServedFile
	err := s.read.QueryRowContext(ctx, `SELECT CASE WHEN m.file_key = ? THEN m.content_type ELSE 'image/jpeg' END, m.kind
		FROM media_attachments m WHERE (m.file_key = ? OR m.preview_key = ?) AND m.state = 'ready' AND (m.status_id IS NOT NULL OR m.detached_at = 0)
		AND `+accountShownSQL("m.account_id")+`
		UNION ALL SELECT CASE WHEN e.file_key = ? THEN e.content_type ELSE 'image/png' END, 'image'
		FROM custom_emojis e WHERE e.file_key = ? OR e.static_key = ?
		LIMIT 1`, key, key, key, key, key, key).Scan(&f.ContentType, &f.Kind)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("media key: %w", err)
	}
	return &f, nil
}

// ExpiredUploads deletes unattached uploads older than before (that are not
// a profile image, nor held for a scheduled status, nor let go by a status
// deleted since before) and stuck processing rows, returning the keys they
// used.
func (s *Store) ExpiredUploads(ctx context.Context, before time.Time) (keys []string, rows int64, err error) {
	q := `DELETE FROM media_attachments WHERE created_at < ? AND (state != 'ready' OR (status_id IS NULL
		AND scheduled_status_id IS NULL AND detached_at < ?
		AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.avatar_key IN (media_attachments.file_key, media_attachments.preview_key)
			OR a.header_key IN (media_attachments.file_key, media_attachments.preview_key))))
		RETURNING file_key, preview_key`
	r, err := s.write.QueryContext(ctx, q, ms(before), ms(before))
	if err != nil {
		return nil, 0, fmt.Errorf("expire uploads: %w", err)
	}
	defer r.Close()
	for r.Next() {
		var f, p string
		if err := r.Scan(&f, &p); err != nil {
			return nil, 0, err
		}
		rows++
		for _, k := range []string{f, p} {
			if k != "" {
				keys = append(keys, k)
			}
		}
	}
	return keys, rows, r.Err()
}

// ReferencedKeys is every storage key some row still names.
func (s *Store) ReferencedKeys(ctx context.Context) (map[string]bool, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT file_key FROM media_attachments UNION SELECT preview_key FROM media_attachments
		UNION SELECT avatar_key FROM accounts UNION SELECT header_key FROM accounts
		UNION SELECT file_key FROM custom_emojis UNION SELECT static_key FROM custom_emojis`)
	if err != nil {
		return nil, fmt.Errorf("referenced media: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		if k != "" {
			out[k] = true
		}
	}
	return out, rows.Err()
}

// FailureServerStopped is the failure of an upload whose processing the
// server's stop cut short: at shutdown (media.(*Service).Stop), or by a
// kill or crash that FailStaleUploads finds afterwards.
const FailureServerStopped = "the server stopped before this upload was processed; upload it again"

// FailureStuck is the failure of an upload still "processing" long after
// processing's own time limit: whatever was handling it is gone.
const FailureStuck = "processing did not finish; upload it again"

// FailStaleUploads marks uploads still "processing" that were created before
// the cut-off as failed with reason: the process that was handling them is
// gone (killed or restarted) or stuck, and a client polling
// GET /api/v1/media/:id must get an answer rather than 206 forever.
// FailOrphanedUploads fails the uploads in processing whose process is
// gone: its id worker lease (id_workers) has ended, so nothing will finish
// them. Other live processes' uploads, and this one's, are left alone.
func (s *Store) FailOrphanedUploads(ctx context.Context, now time.Time, reason string) (int64, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE media_attachments SET state = 'failed', failure = ?
		WHERE state = 'processing' AND processed_by <> ?
		AND NOT EXISTS (SELECT 1 FROM id_workers w WHERE w.holder = media_attachments.processed_by AND w.expires_at > ?)`,
		reason, s.Process(), ms(now))
	if err != nil {
		return 0, fmt.Errorf("fail orphaned uploads: %w", err)
	}
	return res.RowsAffected()
}

func (s *Store) FailStaleUploads(ctx context.Context, before time.Time, reason string) (int64, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE media_attachments SET state = 'failed', failure = ?
		WHERE state = 'processing' AND created_at < ?`, reason, ms(before))
	if err != nil {
		return 0, fmt.Errorf("fail stale uploads: %w", err)
	}
	return res.RowsAffected()
}
