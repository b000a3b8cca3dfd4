package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// KindPublishScheduled is the job that posts a scheduled status at its
// time: run_at is the scheduled_at it was enqueued for, its payload
// ScheduledPayload. A rescheduled status gets a new job; the old one finds
// the status not yet due and does nothing (social.(*Service).PublishScheduledJob).
const KindPublishScheduled = "status.scheduled"

// ScheduledPayload is a KindPublishScheduled job's.
type ScheduledPayload struct {
	ID int64 `json:"id"`
}

// ScheduledStatus is a post waiting for its time.
type ScheduledStatus struct {
	ID          int64
	AccountID   int64
	ScheduledAt time.Time
	Params      string  // JSON, the poster's parameters (social.ScheduledParams); opaque here
	Idempotency string  // the request's Idempotency-Key, "" for none
	MediaIDs    []int64 // the uploads held for it, in order
	CreatedAt   time.Time
}

// ScheduledLimits bound an account's scheduled statuses.
type ScheduledLimits struct {
	Total int // pending at once
	Daily int // scheduled for the same UTC day
}

// Errors of scheduling beyond the limits.
var (
	ErrScheduledTotal = errors.New("too many scheduled statuses")
	ErrScheduledDaily = errors.New("too many scheduled statuses for that day")
)

func scheduledJob(id int64, at time.Time) NewJob {
	payload, _ := json.Marshal(ScheduledPayload{ID: id})
	return NewJob{Kind: KindPublishScheduled, Payload: payload, RunAt: at}
}

// checkScheduledLimits counts the account's scheduled statuses (but
// except) against lim, for one at.
func checkScheduledLimits(ctx context.Context, tx *writeTx, account, except int64, at time.Time, lim ScheduledLimits) error {
	var total, daily int
	day := at.UTC().Truncate(24 * time.Hour)
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE scheduled_at >= ? AND scheduled_at < ?)
		FROM scheduled_statuses WHERE account_id = ? AND id <> ?`, ms(day), ms(day.Add(24*time.Hour)), account, except).Scan(&total, &daily)
	if err != nil {
		return fmt.Errorf("count scheduled statuses: %w", err)
	}
	if lim.Total > 0 && total >= lim.Total {
		return ErrScheduledTotal
	}
	if lim.Daily > 0 && daily >= lim.Daily {
		return ErrScheduledDaily
	}
	return nil
}

// ErrDuplicateScheduled is a scheduling request repeated (the same
// Idempotency-Key within an hour): ID is the status it scheduled.
type ErrDuplicateScheduled struct{ ID int64 }

func (e *ErrDuplicateScheduled) Error() string {
	return fmt.Sprintf("already scheduled as %d", e.ID)
}

// CreateScheduledStatus keeps sc within lim, holds its uploads for it
// (the author's own, ready and not attached nor held elsewhere; else
// ErrMediaUnavailable) and enqueues the job that publishes it at its time,
// all in one transaction. A repeated request is *ErrDuplicateScheduled.
func (s *Store) CreateScheduledStatus(ctx context.Context, sc *ScheduledStatus, lim ScheduledLimits) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("schedule status: %w", err)
	}
	defer tx.Rollback()
	if sc.Idempotency != "" {
		var existing int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM scheduled_statuses WHERE account_id = ? AND idempotency = ? AND created_at > ?`,
			sc.AccountID, sc.Idempotency, ms(sc.CreatedAt.Add(-time.Hour))).Scan(&existing)
		if err == nil {
			return &ErrDuplicateScheduled{ID: existing}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("schedule status: %w", err)
		}
	}
	if err := checkScheduledLimits(ctx, tx, sc.AccountID, 0, sc.ScheduledAt, lim); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO scheduled_statuses (id, account_id, scheduled_at, params, idempotency, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		sc.ID, sc.AccountID, ms(sc.ScheduledAt), sc.Params, sc.Idempotency, ms(sc.CreatedAt)); err != nil {
		return fmt.Errorf("schedule status: %w", err)
	}
	for i, mid := range sc.MediaIDs {
		res, err := tx.ExecContext(ctx, `UPDATE media_attachments SET scheduled_status_id = ?, position = ? WHERE id = ? AND account_id = ?
			AND status_id IS NULL AND scheduled_status_id IS NULL AND state = 'ready'`, sc.ID, i, mid, sc.AccountID)
		if err != nil {
			return fmt.Errorf("hold media: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("media %d: %w", mid, ErrMediaUnavailable)
		}
	}
	if err := enqueue(ctx, tx, scheduledJob(sc.ID, sc.ScheduledAt), time.Now()); err != nil {
		return err
	}
	return tx.Commit()
}

// RescheduleStatus moves one of account's scheduled statuses to at (within
// lim), with a job due then.
func (s *Store) RescheduleStatus(ctx context.Context, account, id int64, at time.Time, lim ScheduledLimits) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reschedule status: %w", err)
	}
	defer tx.Rollback()
	if err := checkScheduledLimits(ctx, tx, account, id, at, lim); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE scheduled_statuses SET scheduled_at = ? WHERE id = ? AND account_id = ?`, ms(at), id, account)
	if err != nil {
		return fmt.Errorf("reschedule status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if err := enqueue(ctx, tx, scheduledJob(id, at), time.Now()); err != nil {
		return err
	}
	return tx.Commit()
}

// DeleteScheduledStatus cancels one of account's scheduled statuses; its
// uploads are let go, for the sweep (or another post) to take.
func (s *Store) DeleteScheduledStatus(ctx context.Context, account, id int64) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cancel scheduled status: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM scheduled_statuses WHERE id = ? AND account_id = ?`, id, account)
	if err != nil {
		return fmt.Errorf("cancel scheduled status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, `UPDATE media_attachments SET scheduled_status_id = NULL WHERE scheduled_status_id = ?`, id); err != nil {
		return fmt.Errorf("cancel scheduled status: %w", err)
	}
	return tx.Commit()
}

// takeScheduled removes the scheduled status a post publishes, in the
// post's transaction: ErrNotFound when it is gone (cancelled, or published
// already), so that it is published once.
func takeScheduled(ctx context.Context, tx *writeTx, id, account int64) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM scheduled_statuses WHERE id = ? AND account_id = ?`, id, account)
	if err != nil {
		return fmt.Errorf("publish scheduled status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

const scheduledCols = `id, account_id, scheduled_at, params, idempotency, created_at`

func scanScheduled(row scanner) (*ScheduledStatus, error) {
	var sc ScheduledStatus
	var at, created int64
	err := row.Scan(&sc.ID, &sc.AccountID, &at, &sc.Params, &sc.Idempotency, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load scheduled status: %w", err)
	}
	sc.ScheduledAt, sc.CreatedAt = fromMs(at), fromMs(created)
	return &sc, nil
}

// ScheduledStatusByID loads a scheduled status of account's (account 0:
// anyone's, for the job that publishes it), with its uploads' ids.
func (s *Store) ScheduledStatusByID(ctx context.Context, account, id int64) (*ScheduledStatus, error) {
	q, args := `SELECT `+scheduledCols+` FROM scheduled_statuses WHERE id = ?`, []any{id}
	if account != 0 {
		q, args = q+` AND account_id = ?`, append(args, account)
	}
	sc, err := scanScheduled(s.read.QueryRowContext(ctx, q, args...))
	if err != nil {
		return nil, err
	}
	media, err := s.ScheduledMedia(ctx, []int64{sc.ID})
	if err != nil {
		return nil, err
	}
	for _, m := range media[sc.ID] {
		sc.MediaIDs = append(sc.MediaIDs, m.ID)
	}
	return sc, nil
}

// ScheduledStatuses pages account's scheduled statuses by id, newest first.
func (s *Store) ScheduledStatuses(ctx context.Context, account int64, p Page) ([]ScheduledStatus, error) {
	where, args, order := pageSQL("id", p)
	rows, err := s.read.QueryContext(ctx, `SELECT `+scheduledCols+` FROM scheduled_statuses WHERE account_id = ? AND `+where+
		` ORDER BY `+order+limitSQL, append(append([]any{account}, args...), limitArg(p))...)
	if err != nil {
		return nil, fmt.Errorf("scheduled statuses: %w", err)
	}
	defer rows.Close()
	var out []ScheduledStatus
	for rows.Next() {
		sc, err := scanScheduled(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *sc)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return newestFirst(p, out), nil
}

// ScheduledMedia loads the uploads held for each scheduled status, in order.
func (s *Store) ScheduledMedia(ctx context.Context, ids []int64) (map[int64][]Media, error) {
	out := map[int64][]Media{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := s.read.QueryContext(ctx, `SELECT m.scheduled_status_id, `+mediaCols+` FROM media_attachments m
		WHERE m.scheduled_status_id IN `+in+` ORDER BY m.scheduled_status_id, m.position`, args...)
	if err != nil {
		return nil, fmt.Errorf("scheduled media: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sid int64
		m, err := scanMedia(scanFunc(func(dest ...any) error { return rows.Scan(append([]any{&sid}, dest...)...) }))
		if err != nil {
			return nil, err
		}
		out[sid] = append(out[sid], *m)
	}
	return out, rows.Err()
}

// scanFunc adapts a function to scanner.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }
