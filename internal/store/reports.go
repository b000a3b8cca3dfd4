package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
	// Category is spam, legal, violation or other; RuleIDs the instance
	// rules a violation names.
	Category  string
	RuleIDs   []int64
	Forwarded bool
	// AssignedID is the moderator handling it, ResolvedBy the one who
	// resolved it (0: none).
	AssignedID int64
	ResolvedBy int64
	UpdatedAt  time.Time
}

// CreateReport stores a report; one with a uri already stored is not
// stored twice.
func (s *Store) CreateReport(ctx context.Context, r *Report) error {
	ids, _ := json.Marshal(append([]int64{}, r.StatusIDs...))
	rules, _ := json.Marshal(append([]int64{}, r.RuleIDs...))
	category := r.Category
	if category == "" {
		category = "other"
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO reports (id, uri, account_id, target_account_id, status_ids, comment, created_at,
			category, rule_ids, forwarded, updated_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE ? = '' OR NOT EXISTS (SELECT 1 FROM reports WHERE uri = ?)`,
		r.ID, r.URI, r.AccountID, r.TargetID, string(ids), r.Comment, ms(r.CreatedAt),
		category, string(rules), boolInt(r.Forwarded), ms(r.CreatedAt), r.URI, r.URI)
	if err != nil {
		return fmt.Errorf("create report: %w", err)
	}
	return nil
}

// Reports lists reports, newest first: the open ones, or all.
func (s *Store) Reports(ctx context.Context, all bool, limit int) ([]Report, error) {
	q := `SELECT ` + reportCols + ` FROM reports r`
	if !all {
		q += ` WHERE r.resolved_at = 0`
	}
	return s.queryReports(ctx, q+` ORDER BY r.id DESC LIMIT ?`, limit)
}

const reportCols = `r.id, r.uri, r.account_id, r.target_account_id, r.status_ids, r.comment, r.created_at, r.resolved_at,
	r.category, r.rule_ids, r.forwarded, COALESCE(r.assigned_account_id, 0), COALESCE(r.action_taken_by_account_id, 0), r.updated_at`

func scanReport(row scanner) (*Report, error) {
	var r Report
	var ids, rules string
	var created, resolved, updated int64
	err := row.Scan(&r.ID, &r.URI, &r.AccountID, &r.TargetID, &ids, &r.Comment, &created, &resolved,
		&r.Category, &rules, &r.Forwarded, &r.AssignedID, &r.ResolvedBy, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	_ = json.Unmarshal([]byte(ids), &r.StatusIDs)
	_ = json.Unmarshal([]byte(rules), &r.RuleIDs)
	r.CreatedAt, r.UpdatedAt = fromMs(created), fromMs(max(updated, created))
	if resolved != 0 {
		r.ResolvedAt = fromMs(resolved)
	}
	return &r, nil
}

func (s *Store) queryReports(ctx context.Context, q string, args ...any) ([]Report, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// ResolveReport marks a report resolved; ErrNotFound when there is no
// open report with that id.
func (s *Store) ResolveReport(ctx context.Context, id int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE reports SET resolved_at = ?, updated_at = ? WHERE id = ? AND resolved_at = 0`, ms(at), ms(at), id)
	return expectOne(res, err, "resolve report")
}
