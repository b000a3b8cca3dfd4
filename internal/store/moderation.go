package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// What the staff reads and changes: reports (beside reports.go) and
// accounts as Mastodon's admin API lists them.

// ReportByID loads one report.
func (s *Store) ReportByID(ctx context.Context, id int64) (*Report, error) {
	return scanReport(s.read.QueryRowContext(ctx, `SELECT `+reportCols+` FROM reports r WHERE r.id = ?`, id))
}

// ReportFilter selects reports for the admin list; zero values select all.
type ReportFilter struct {
	Resolved  *bool
	AccountID int64 // the reporter
	TargetID  int64
}

// AdminReports pages through reports, newest first.
func (s *Store) AdminReports(ctx context.Context, f ReportFilter, p Page) ([]Report, error) {
	where, args, order := pageSQL("r.id", p)
	if f.Resolved != nil {
		if *f.Resolved {
			where += ` AND r.resolved_at != 0`
		} else {
			where += ` AND r.resolved_at = 0`
		}
	}
	if f.AccountID > 0 {
		where += ` AND r.account_id = ?`
		args = append(args, f.AccountID)
	}
	if f.TargetID > 0 {
		where += ` AND r.target_account_id = ?`
		args = append(args, f.TargetID)
	}
	list, err := s.queryReports(ctx, `SELECT `+reportCols+` FROM reports r WHERE `+where+` ORDER BY `+order+limitSQL, append(args, limitArg(p))...)
	if err != nil {
		return nil, err
	}
	return newestFirst(p, list), nil
}

// UpdateReport sets a report's category and rules.
func (s *Store) UpdateReport(ctx context.Context, id int64, category string, ruleIDs []int64, at time.Time) error {
	rules, _ := json.Marshal(append([]int64{}, ruleIDs...))
	res, err := s.write.ExecContext(ctx, `UPDATE reports SET category = ?, rule_ids = ?, updated_at = ? WHERE id = ?`,
		category, string(rules), ms(at), id)
	return expectOne(res, err, "update report")
}

// AssignReport assigns a report to a moderator (0: to nobody).
func (s *Store) AssignReport(ctx context.Context, id, moderator int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE reports SET assigned_account_id = ?, updated_at = ? WHERE id = ?`,
		nullID(moderator), ms(at), id)
	return expectOne(res, err, "assign report")
}

// ResolveReportBy marks a report resolved by a moderator; resolving one
// already resolved keeps its first resolution.
func (s *Store) ResolveReportBy(ctx context.Context, id, moderator int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE reports SET resolved_at = CASE WHEN resolved_at = 0 THEN ? ELSE resolved_at END,
		action_taken_by_account_id = CASE WHEN resolved_at = 0 THEN ? ELSE action_taken_by_account_id END, updated_at = ? WHERE id = ?`,
		ms(at), nullID(moderator), ms(at), id)
	return expectOne(res, err, "resolve report")
}

// ReopenReport makes a report open again.
func (s *Store) ReopenReport(ctx context.Context, id int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE reports SET resolved_at = 0, action_taken_by_account_id = NULL, updated_at = ? WHERE id = ?`,
		ms(at), id)
	return expectOne(res, err, "reopen report")
}

// StaffAccountIDs lists the usable local accounts with role admin or
// moderator.
func (s *Store) StaffAccountIDs(ctx context.Context) ([]int64, error) {
	ids, err := s.queryIDs(ctx, `SELECT u.account_id FROM users u JOIN accounts a ON a.id = u.account_id
		WHERE u.role IN ('admin', 'moderator') AND u.approved = 1 AND u.disabled = 0 AND a.deleted_at = 0 AND a.suspended_at = 0
		ORDER BY u.account_id`)
	if err != nil {
		return nil, fmt.Errorf("staff: %w", err)
	}
	return ids, nil
}

// AdminAccount is an account as the staff sees it: its credentials when
// it is local (nil otherwise) and its moderation marks.
type AdminAccount struct {
	Account  *Account
	User     *User
	Silenced bool
}

// AdminAccountFilter selects accounts for the admin list; zero values
// select all.
type AdminAccountFilter struct {
	Origin      string // local, remote
	Status      string // active, pending, disabled, silenced, suspended
	Staff       bool
	Username    string // prefix, any case
	DisplayName string // part, any case
	Domain      string
	Email       string // part, any case
}

// likeEscape makes s a literal inside a LIKE pattern (escape character \).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(s))
}

const adminAccountUserCols = `COALESCE(u.account_id, 0), COALESCE(u.email, ''), COALESCE(u.role, ''), COALESCE(u.approved, 0),
	COALESCE(u.disabled, 0), COALESCE(u.locale, ''), COALESCE(u.signup_reason, ''), COALESCE(u.created_at, 0), a.silenced`

func scanAdminAccount(row scanner) (*AdminAccount, error) {
	var u User
	var created int64
	var approved, disabled, silenced int64
	a, err := scanAccount(row, &u.AccountID, &u.Email, &u.Role, &approved, &disabled, &u.Locale, &u.SignupReason, &created, &silenced)
	if err != nil {
		return nil, err
	}
	out := &AdminAccount{Account: a, Silenced: silenced != 0}
	if u.AccountID != 0 {
		u.Approved, u.Disabled, u.CreatedAt = approved != 0, disabled != 0, fromMs(created)
		out.User = &u
	}
	return out, nil
}

// AdminAccountByID loads one account (local or remote, not deleted) as the
// staff sees it.
func (s *Store) AdminAccountByID(ctx context.Context, id int64) (*AdminAccount, error) {
	return scanAdminAccount(s.read.QueryRowContext(ctx, `SELECT `+accountCols+`, `+adminAccountUserCols+`
		FROM accounts a LEFT JOIN users u ON u.account_id = a.id WHERE a.id = ? AND a.deleted_at = 0`, id))
}

// AdminAccounts pages through accounts (not deleted ones), newest first.
func (s *Store) AdminAccounts(ctx context.Context, f AdminAccountFilter, p Page) ([]AdminAccount, error) {
	where, args, order := pageSQL("a.id", p)
	where += ` AND a.deleted_at = 0`
	switch f.Origin {
	case "local":
		where += ` AND a.domain = ''`
	case "remote":
		where += ` AND a.domain != ''`
	}
	switch f.Status {
	case "active":
		where += ` AND a.suspended_at = 0 AND (u.account_id IS NULL OR (u.approved = 1 AND u.disabled = 0))`
	case "pending":
		where += ` AND u.approved = 0`
	case "disabled":
		where += ` AND u.disabled = 1`
	case "silenced":
		where += ` AND a.silenced = 1`
	case "suspended":
		where += ` AND a.suspended_at <> 0`
	}
	if f.Staff {
		where += ` AND u.role IN ('admin', 'moderator')`
	}
	if f.Username != "" {
		where += ` AND lower(a.username) LIKE ? ESCAPE '\'`
		args = append(args, likeEscape(f.Username)+"%")
	}
	if f.DisplayName != "" {
		where += ` AND lower(a.display_name) LIKE ? ESCAPE '\'`
		args = append(args, "%"+likeEscape(f.DisplayName)+"%")
	}
	if f.Domain != "" {
		where += ` AND a.domain = ?`
		args = append(args, strings.ToLower(f.Domain))
	}
	if f.Email != "" {
		where += ` AND lower(u.email) LIKE ? ESCAPE '\'`
		args = append(args, "%"+likeEscape(f.Email)+"%")
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+accountCols+`, `+adminAccountUserCols+`
		FROM accounts a LEFT JOIN users u ON u.account_id = a.id WHERE `+where+` ORDER BY `+order+limitSQL, append(args, limitArg(p))...)
	if err != nil {
		return nil, fmt.Errorf("admin accounts: %w", err)
	}
	defer rows.Close()
	var out []AdminAccount
	for rows.Next() {
		x, err := scanAdminAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("admin accounts: %w", err)
		}
		out = append(out, *x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("admin accounts: %w", err)
	}
	return newestFirst(p, out), nil
}

// AdminAccountsByIDs loads accounts as the staff sees them, keyed by id
// (deleted ones too: a report outlives its reporter's deletion).
func (s *Store) AdminAccountsByIDs(ctx context.Context, ids []int64) (map[int64]*AdminAccount, error) {
	out := map[int64]*AdminAccount{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := s.read.QueryContext(ctx, `SELECT `+accountCols+`, `+adminAccountUserCols+`
		FROM accounts a LEFT JOIN users u ON u.account_id = a.id WHERE a.id IN `+in, args...)
	if err != nil {
		return nil, fmt.Errorf("admin accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		x, err := scanAdminAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("admin accounts: %w", err)
		}
		out[x.Account.ID] = x
	}
	return out, rows.Err()
}

// CreateReportNotifications tells each of staff of a report with an
// admin.report notification from the reporter, ids[i] being staff[i]'s.
// No block or mute holds it back: the staff must see every report.
func (s *Store) CreateReportNotifications(ctx context.Context, report, reporter int64, staff, ids []int64, at time.Time) error {
	for i, to := range staff {
		if _, err := s.write.ExecContext(ctx, `INSERT INTO notifications (id, account_id, from_account_id, type, created_at, report_id)
			VALUES (?, ?, ?, 'admin.report', ?, ?)`, ids[i], to, reporter, ms(at), report); err != nil {
			return fmt.Errorf("report notification: %w", err)
		}
	}
	return nil
}

// NotificationReports loads the reports the given notifications name,
// keyed by notification id, in one statement.
func (s *Store) NotificationReports(ctx context.Context, notifications []int64) (map[int64]*Report, error) {
	out := map[int64]*Report{}
	if len(notifications) == 0 {
		return out, nil
	}
	in, args := inList(notifications)
	rows, err := s.read.QueryContext(ctx, `SELECT n.id, `+reportCols+` FROM notifications n JOIN reports r ON r.id = n.report_id
		WHERE n.id IN `+in, args...)
	if err != nil {
		return nil, fmt.Errorf("notification reports: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var nid int64
		r, err := scanReport(prefixed{rows, &nid})
		if err != nil {
			return nil, err
		}
		out[nid] = r
	}
	return out, rows.Err()
}

// prefixed scans one leading column into first, the rest as asked.
type prefixed struct {
	row   scanner
	first any
}

func (p prefixed) Scan(dest ...any) error { return p.row.Scan(append([]any{p.first}, dest...)...) }

// SetLocalSilenced limits a local account (Mastodon's silence) or lifts
// the limit: the mark remote accounts carry from their domain's limit
// (domain_blocks.go), so the public timelines, their streams and the
// notification rules that hold silenced accounts back hold it back too.
// A remote account's mark follows its domain, so only local ones are set
// here (ErrNotFound for any other).
func (s *Store) SetLocalSilenced(ctx context.Context, id int64, silenced bool) error {
	res, err := s.write.ExecContext(ctx, `UPDATE accounts SET silenced = ? WHERE id = ? AND domain = '' AND deleted_at = 0`, boolInt(silenced), id)
	return expectOne(res, err, "silence")
}
