// Package moderation is what the staff (local users with role admin or
// moderator) may do to reports and accounts: Mastodon's admin API below
// HTTP. Who is staff is decided here (Staff), and every action checks it
// and logs one INFO line: who, what, on whom. Local accounts change through
// accounts.(*Service) (approval, disabling, deletion), so their rules stay
// there. No HTTP.
package moderation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/store"
)

// Service holds the moderation rules.
type Service struct {
	store    *store.Store
	accounts *accounts.Service
	log      *slog.Logger
	now      func() time.Time
}

// New builds the service.
func New(st *store.Store, acc *accounts.Service, log *slog.Logger) *Service {
	return &Service{store: st, accounts: acc, log: log, now: time.Now}
}

// Errors the API maps to status codes.
var (
	// ErrForbidden: not staff, or not an action the account allows (403).
	ErrForbidden = errors.New("this action is not allowed")
	// ErrNotFound: no such report or account (404).
	ErrNotFound = store.ErrNotFound
)

// UnsupportedError is an action Rampart does not do yet (422, naming it).
type UnsupportedError struct{ What string }

func (e *UnsupportedError) Error() string { return e.What + " is not supported yet" }

// ValidationError is a bad input (422).
type ValidationError struct{ Field, Msg string }

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

// Moderator is who acts: a local account and its user.
type Moderator struct {
	Account *store.Account
	User    *store.User
}

// Staff reports whether a user may moderate: a usable local user with role
// admin or moderator.
func Staff(u *store.User) bool {
	return u != nil && accounts.Usable(u) == nil && (u.Role == accounts.RoleAdmin || u.Role == accounts.RoleModerator)
}

func (s *Service) check(m Moderator) error {
	if m.Account == nil || !Staff(m.User) {
		return ErrForbidden
	}
	return nil
}

// logAction is the one INFO line of every change the staff makes.
func (s *Service) logAction(m Moderator, action string, target ...any) {
	s.log.Info("admin action", append([]any{"moderator", m.Account.Username, "moderator_id", m.Account.ID, "action", action}, target...)...)
}

// ---- reports

// Report loads one report.
func (s *Service) Report(ctx context.Context, m Moderator, id int64) (*store.Report, error) {
	if err := s.check(m); err != nil {
		return nil, err
	}
	return s.store.ReportByID(ctx, id)
}

// Reports pages through reports.
func (s *Service) Reports(ctx context.Context, m Moderator, f store.ReportFilter, p store.Page) ([]store.Report, error) {
	if err := s.check(m); err != nil {
		return nil, err
	}
	return s.store.AdminReports(ctx, f, p)
}

// ReportCategories are Mastodon's.
var ReportCategories = []string{"spam", "legal", "violation", "other"}

// UpdateReport changes a report's category and rules; nil leaves one as it
// is. This instance has no rules yet, so rule ids and violation are refused.
func (s *Service) UpdateReport(ctx context.Context, m Moderator, id int64, category *string, ruleIDs []int64) (*store.Report, error) {
	r, err := s.Report(ctx, m, id)
	if err != nil {
		return nil, err
	}
	if category != nil {
		if !slices.Contains(ReportCategories, *category) {
			return nil, &ValidationError{"category", "is not one of spam, legal, violation, other"}
		}
		r.Category = *category
	}
	if len(ruleIDs) > 0 || r.Category == "violation" {
		return nil, &ValidationError{"rule_ids", "does not reference valid rules"}
	}
	if err := s.store.UpdateReport(ctx, id, r.Category, r.RuleIDs, s.now()); err != nil {
		return nil, err
	}
	s.logAction(m, "report.update", "report", id, "category", r.Category)
	return s.store.ReportByID(ctx, id)
}

// AssignReport assigns a report to the moderator (self) or to nobody.
func (s *Service) AssignReport(ctx context.Context, m Moderator, id int64, self bool) (*store.Report, error) {
	if _, err := s.Report(ctx, m, id); err != nil {
		return nil, err
	}
	to, action := int64(0), "report.unassign"
	if self {
		to, action = m.Account.ID, "report.assign_to_self"
	}
	if err := s.store.AssignReport(ctx, id, to, s.now()); err != nil {
		return nil, err
	}
	s.logAction(m, action, "report", id)
	return s.store.ReportByID(ctx, id)
}

// ResolveReport marks a report resolved by the moderator.
func (s *Service) ResolveReport(ctx context.Context, m Moderator, id int64) (*store.Report, error) {
	if _, err := s.Report(ctx, m, id); err != nil {
		return nil, err
	}
	if err := s.store.ResolveReportBy(ctx, id, m.Account.ID, s.now()); err != nil {
		return nil, err
	}
	s.logAction(m, "report.resolve", "report", id)
	return s.store.ReportByID(ctx, id)
}

// ReopenReport makes a resolved report open again.
func (s *Service) ReopenReport(ctx context.Context, m Moderator, id int64) (*store.Report, error) {
	if _, err := s.Report(ctx, m, id); err != nil {
		return nil, err
	}
	if err := s.store.ReopenReport(ctx, id, s.now()); err != nil {
		return nil, err
	}
	s.logAction(m, "report.reopen", "report", id)
	return s.store.ReportByID(ctx, id)
}

// ---- accounts

// Account loads an account as the staff sees it.
func (s *Service) Account(ctx context.Context, m Moderator, id int64) (*store.AdminAccount, error) {
	if err := s.check(m); err != nil {
		return nil, err
	}
	return s.store.AdminAccountByID(ctx, id)
}

// Accounts pages through accounts.
func (s *Service) Accounts(ctx context.Context, m Moderator, f store.AdminAccountFilter, p store.Page) ([]store.AdminAccount, error) {
	if err := s.check(m); err != nil {
		return nil, err
	}
	return s.store.AdminAccounts(ctx, f, p)
}

// localTarget loads a local account the moderator may act on: not
// themselves (Mastodon refuses that too), staff only by an admin.
func (s *Service) localTarget(ctx context.Context, m Moderator, id int64) (*store.AdminAccount, error) {
	x, err := s.Account(ctx, m, id)
	if err != nil {
		return nil, err
	}
	if x.User == nil || id == m.Account.ID {
		return nil, ErrForbidden
	}
	if (x.User.Role == accounts.RoleAdmin || x.User.Role == accounts.RoleModerator) && m.User.Role != accounts.RoleAdmin {
		return nil, ErrForbidden
	}
	return x, nil
}

func acct(a *store.Account) string {
	if a.Domain == "" {
		return a.Username
	}
	return a.Username + "@" + a.Domain
}

// Approve approves a pending local account.
func (s *Service) Approve(ctx context.Context, m Moderator, id int64) (*store.AdminAccount, error) {
	x, err := s.localTarget(ctx, m, id)
	if err != nil {
		return nil, err
	}
	if x.User.Approved {
		return nil, ErrForbidden
	}
	yes := true
	if _, err := s.accounts.Modify(ctx, id, accounts.Change{Approved: &yes}); err != nil {
		return nil, err
	}
	s.logAction(m, "account.approve", "target", acct(x.Account), "target_id", id)
	return s.store.AdminAccountByID(ctx, id)
}

// Reject deletes a pending local account.
func (s *Service) Reject(ctx context.Context, m Moderator, id int64) (*store.AdminAccount, error) {
	x, err := s.localTarget(ctx, m, id)
	if err != nil {
		return nil, err
	}
	if x.User.Approved {
		return nil, ErrForbidden
	}
	if err := s.accounts.Delete(ctx, id); err != nil {
		return nil, err
	}
	s.logAction(m, "account.reject", "target", acct(x.Account), "target_id", id)
	return x, nil
}

// Enable lets a disabled local account sign in again.
func (s *Service) Enable(ctx context.Context, m Moderator, id int64) (*store.AdminAccount, error) {
	x, err := s.localTarget(ctx, m, id)
	if err != nil {
		return nil, err
	}
	no := false
	if _, err := s.accounts.Modify(ctx, id, accounts.Change{Disabled: &no}); err != nil {
		return nil, err
	}
	s.logAction(m, "account.enable", "target", acct(x.Account), "target_id", id)
	return s.store.AdminAccountByID(ctx, id)
}

// Undo lifts a mark: unsilence, unsuspend or unsensitive. A local
// account's silence is lifted; a remote account silenced by its domain's
// limit stays silenced until the limit is lifted. Unsuspending restores the
// account as it was (suspension deletes nothing); its user signs in again
// (its sessions and tokens ended with the suspension).
func (s *Service) Undo(ctx context.Context, m Moderator, id int64, what string) (*store.AdminAccount, error) {
	x, err := s.Account(ctx, m, id)
	if err != nil {
		return nil, err
	}
	switch {
	case what == "unsilence" && x.Silenced:
		if x.User == nil {
			return nil, &UnsupportedError{"lifting a silence set by a domain limit here (use rampart admin domain unblock)"}
		}
		if _, err := s.localTarget(ctx, m, id); err != nil {
			return nil, err
		}
		if err := s.store.SetLocalSilenced(ctx, id, false); err != nil {
			return nil, err
		}
	case what == "unsuspend" && !x.Account.SuspendedAt.IsZero():
		if err := s.suspend(ctx, m, x, false); err != nil {
			return nil, err
		}
	case what == "unsensitive" && !x.Account.SensitizedAt.IsZero():
		if err := s.target(ctx, m, x); err != nil {
			return nil, err
		}
		if err := s.store.SetSensitized(ctx, id, time.Time{}); err != nil {
			return nil, err
		}
	}
	s.logAction(m, "account."+what, "target", acct(x.Account), "target_id", id)
	return s.store.AdminAccountByID(ctx, id)
}

// target checks that the moderator may act on an account: a local one as
// localTarget says; any remote one.
func (s *Service) target(ctx context.Context, m Moderator, x *store.AdminAccount) error {
	if x.User == nil && x.Account.Domain != "" {
		return nil
	}
	_, err := s.localTarget(ctx, m, x.Account.ID)
	return err
}

// suspend suspends an account or lifts its suspension. A local account
// changes through accounts.(*Service).Modify, which ends its sessions and
// tokens at once (its user cannot sign in while suspended: accounts.Usable);
// a remote one is marked, and its activities are dropped at the inbox.
// Either way the visibility rule hides it and all of it from everyone.
func (s *Service) suspend(ctx context.Context, m Moderator, x *store.AdminAccount, on bool) error {
	if err := s.target(ctx, m, x); err != nil {
		return err
	}
	if x.User != nil {
		if _, err := s.accounts.Modify(ctx, x.Account.ID, accounts.Change{Suspended: &on}); err != nil {
			return err
		}
		return nil
	}
	var at time.Time
	if on {
		at = s.now().UTC()
	}
	return s.store.SetSuspended(ctx, x.Account.ID, at)
}

// ActionParams is Mastodon's POST /api/v1/admin/accounts/:id/action.
type ActionParams struct {
	Type     string // none, sensitive, disable, silence, suspend
	ReportID int64  // resolved by the action; 0: none
	Text     string // the moderator's note, logged
}

// Action takes an action against an account, resolving the report named.
// disable (Modify: sessions and tokens end), silence of a local account
// (the silenced mark: out of the public timelines, noticed only by its
// followers; a remote account is silenced by its domain's limit), suspend
// (hidden from everyone, see suspend) and sensitive (all its media shown as
// sensitive) of any account. A refused action changes nothing.
func (s *Service) Action(ctx context.Context, m Moderator, id int64, p ActionParams) error {
	x, err := s.Account(ctx, m, id)
	if err != nil {
		return err
	}
	switch p.Type {
	case "none", "disable", "sensitive", "suspend":
	case "silence":
		if x.User == nil {
			return &UnsupportedError{"silencing one remote account (limit its domain: rampart admin domain block --severity silence)"}
		}
	default:
		return &ValidationError{"type", "is not one of none, sensitive, disable, silence, suspend"}
	}
	if p.ReportID != 0 {
		r, err := s.store.ReportByID(ctx, p.ReportID)
		if errors.Is(err, store.ErrNotFound) || err == nil && r.TargetID != id {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
	}
	switch p.Type {
	case "disable":
		if _, err := s.localTarget(ctx, m, id); err != nil {
			return err
		}
		yes := true
		if _, err := s.accounts.Modify(ctx, id, accounts.Change{Disabled: &yes}); err != nil {
			return fmt.Errorf("disable: %w", err)
		}
	case "silence":
		if _, err := s.localTarget(ctx, m, id); err != nil {
			return err
		}
		if err := s.store.SetLocalSilenced(ctx, id, true); err != nil {
			return fmt.Errorf("silence: %w", err)
		}
	case "suspend":
		if err := s.suspend(ctx, m, x, true); err != nil {
			return fmt.Errorf("suspend: %w", err)
		}
	case "sensitive":
		if err := s.target(ctx, m, x); err != nil {
			return err
		}
		if err := s.store.SetSensitized(ctx, id, s.now().UTC()); err != nil {
			return fmt.Errorf("sensitive: %w", err)
		}
	}
	if p.ReportID != 0 {
		if err := s.store.ResolveReportBy(ctx, p.ReportID, m.Account.ID, s.now()); err != nil {
			return err
		}
	}
	s.logAction(m, "account.action."+p.Type, "target", acct(x.Account), "target_id", id, "report", p.ReportID, "text", p.Text)
	return nil
}

// Delete deletes a suspended local account's data for good, through
// accounts.(*Service).Delete (Mastodon allows it only for a suspended
// account). A remote account's data is not deleted here: ErrForbidden, as
// for an account not suspended.
func (s *Service) Delete(ctx context.Context, m Moderator, id int64) (*store.AdminAccount, error) {
	x, err := s.Account(ctx, m, id)
	if err != nil {
		return nil, err
	}
	if x.Account.SuspendedAt.IsZero() || x.User == nil {
		return nil, ErrForbidden
	}
	if _, err := s.localTarget(ctx, m, id); err != nil {
		return nil, err
	}
	if err := s.accounts.Delete(ctx, id); err != nil {
		return nil, err
	}
	s.logAction(m, "account.delete", "target", acct(x.Account), "target_id", id)
	return x, nil
}

// SuspendByUsername suspends (on) or unsuspends a local account by its
// username: the command line's rampart admin user suspend, which acts as
// the instance itself (no moderator account), by the same rule as the
// admin API's action. It returns the account and whether it was in that
// state already (then nothing changes but its sessions and tokens, which
// suspending ends again). ErrNotFound: no such local user.
func (s *Service) SuspendByUsername(ctx context.Context, username string, on bool) (*store.Account, bool, error) {
	a, err := s.store.AccountByUsername(ctx, username, "")
	if err != nil {
		return nil, false, err
	}
	already := a.SuspendedAt.IsZero() != on
	if _, err := s.accounts.Modify(ctx, a.ID, accounts.Change{Suspended: &on}); err != nil {
		return nil, false, err
	}
	action := "account.unsuspend"
	if on {
		action = "account.action.suspend"
	}
	s.log.Info("admin action", "moderator", "(command line)", "action", action, "target", a.Username, "target_id", a.ID)
	return a, already, nil
}
