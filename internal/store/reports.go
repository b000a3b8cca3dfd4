package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Report is a report for the admins: an account (the reporter) flags a
// local account and some of its statuses.
type Report struct {
	ID         int64
	URI        string // the Flag's id, for one from another server
	AccountID  int64
	TargetID   int64
	StatusIDs  []int64
	Comment    string
	CreatedAt  time.Time
	ResolvedAt time.Time // zero: open
}

// CreateReport stores a report; one with a uri already stored is not
// stored twice.
func (s *Store) CreateReport(ctx context.Context, r *Report) error {
	ids, _ := json.Marshal(append([]int64{}, r.StatusIDs...))
	_, err := s.write.ExecContext(ctx, `INSERT INTO reports (id, uri, account_id, target_account_id, status_ids, comment, created_at)
		SELECT ?, ?, ?, ?, ?, ?, ? WHERE ? = '' OR NOT EXISTS (SELECT 1 FROM reports WHERE uri = ?)`,
		r.ID, r.URI, r.AccountID, r.TargetID, string(ids), r.Comment, ms(r.CreatedAt), r.URI, r.URI)
	if err != nil {
		return fmt.Errorf("create report: %w", err)
	}
	return nil
}

// Reports lists reports, newest first: the open ones, or all.
func (s *Store) Reports(ctx context.Context, all bool, limit int) ([]Report, error) {
	q := `SELECT id, uri, account_id, target_account_id, status_ids, comment, created_at, resolved_at FROM reports`
	if !all {
		q += ` WHERE resolved_at = 0`
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		var r Report
		var ids string
		var created, resolved int64
		if err := rows.Scan(&r.ID, &r.URI, &r.AccountID, &r.TargetID, &ids, &r.Comment, &created, &resolved); err != nil {
			return nil, fmt.Errorf("reports: %w", err)
		}
		_ = json.Unmarshal([]byte(ids), &r.StatusIDs)
		r.CreatedAt = fromMs(created)
		if resolved != 0 {
			r.ResolvedAt = fromMs(resolved)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ResolveReport marks a report resolved; ErrNotFound when there is no
// open report with that id.
func (s *Store) ResolveReport(ctx context.Context, id int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE reports SET resolved_at = ? WHERE id = ? AND resolved_at = 0`, ms(at), id)
	return expectOne(res, err, "resolve report")
}
