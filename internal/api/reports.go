package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rampart-social/rampart/internal/moderation"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// Report is Mastodon's Report entity: what the reporter sees of a report.
type Report struct {
	ID            string   `json:"id"`
	ActionTaken   bool     `json:"action_taken"`
	ActionTakenAt *string  `json:"action_taken_at"`
	Category      string   `json:"category"`
	Comment       string   `json:"comment"`
	Forwarded     bool     `json:"forwarded"`
	CreatedAt     string   `json:"created_at"`
	StatusIDs     []string `json:"status_ids"`
	RuleIDs       []string `json:"rule_ids"` // null without rules, as Mastodon
	TargetAccount Account  `json:"target_account"`
}

// AdminReport is Mastodon's Admin::Report entity.
type AdminReport struct {
	ID                   string        `json:"id"`
	ActionTaken          bool          `json:"action_taken"`
	ActionTakenAt        *string       `json:"action_taken_at"`
	Category             string        `json:"category"`
	Comment              string        `json:"comment"`
	Forwarded            bool          `json:"forwarded"`
	CreatedAt            string        `json:"created_at"`
	UpdatedAt            string        `json:"updated_at"`
	Account              AdminAccount  `json:"account"`
	TargetAccount        AdminAccount  `json:"target_account"`
	AssignedAccount      *AdminAccount `json:"assigned_account"`
	ActionTakenByAccount *AdminAccount `json:"action_taken_by_account"`
	Statuses             []Status      `json:"statuses"`
	Rules                []any         `json:"rules"`
}

// AdminAccount is Mastodon's Admin::Account entity. Rampart keeps no
// sign-in addresses, so ip is null and ips empty; e-mail is confirmed at
// sign-up or not asked for, so a local account is confirmed.
type AdminAccount struct {
	ID            string  `json:"id"`
	Username      string  `json:"username"`
	Domain        *string `json:"domain"`
	CreatedAt     string  `json:"created_at"`
	Email         *string `json:"email"`
	IP            *string `json:"ip"`
	IPs           []any   `json:"ips"`
	Locale        *string `json:"locale"`
	InviteRequest *string `json:"invite_request"`
	Role          *Role   `json:"role"`
	Confirmed     bool    `json:"confirmed"`
	Approved      bool    `json:"approved"`
	Disabled      bool    `json:"disabled"`
	Silenced      bool    `json:"silenced"`
	Suspended     bool    `json:"suspended"`
	Sensitized    bool    `json:"sensitized"`
	Account       Account `json:"account"`
}

func idStrings(ids []int64) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, idString(id))
	}
	return out
}

func actionTakenAt(r *store.Report) *string {
	if r.ResolvedAt.IsZero() {
		return nil
	}
	t := timestamp(r.ResolvedAt)
	return &t
}

// registerReports mounts the reports routes: the users' and the admin API.
func (a *API) registerReports(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/reports", a.auth(userToken, a.createReport, "write:reports"))

	read, write := "admin:read:reports", "admin:write:reports"
	mux.HandleFunc("GET /api/v1/admin/reports", a.auth(userToken, a.staff(a.adminReports), read))
	mux.HandleFunc("GET /api/v1/admin/reports/{id}", a.auth(userToken, a.staff(a.adminReport), read))
	mux.HandleFunc("PUT /api/v1/admin/reports/{id}", a.auth(userToken, a.staff(a.updateAdminReport), write))
	for _, action := range []string{"assign_to_self", "unassign", "resolve", "reopen"} {
		mux.HandleFunc("POST /api/v1/admin/reports/{id}/"+action, a.auth(userToken, a.staff(a.adminReportAction(action)), write))
	}

	read, write = "admin:read:accounts", "admin:write:accounts"
	mux.HandleFunc("GET /api/v1/admin/accounts", a.auth(userToken, a.staff(a.adminAccounts(false)), read))
	mux.HandleFunc("GET /api/v2/admin/accounts", a.auth(userToken, a.staff(a.adminAccounts(true)), read))
	mux.HandleFunc("GET /api/v1/admin/accounts/{id}", a.auth(userToken, a.staff(a.adminAccount), read))
	for _, action := range []string{"approve", "reject", "enable", "unsilence", "unsuspend", "unsensitive"} {
		mux.HandleFunc("POST /api/v1/admin/accounts/{id}/"+action, a.auth(userToken, a.staff(a.adminAccountAction(action)), write))
	}
	mux.HandleFunc("POST /api/v1/admin/accounts/{id}/action", a.auth(userToken, a.staff(a.adminAccountTakeAction), write))
	mux.HandleFunc("DELETE /api/v1/admin/accounts/{id}", a.auth(userToken, a.staff(a.adminDeleteAccount), write))
}

// createReport is POST /api/v1/reports.
func (a *API) createReport(w http.ResponseWriter, r *http.Request, c *Caller) {
	p, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	target, err := strconv.ParseInt(p.Get("account_id"), 10, 64)
	if err != nil || target <= 0 {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	rp := social.ReportParams{TargetID: target, Comment: p.Get("comment"), Category: p.Get("category")}
	if f := optBool(p, "forward"); f != nil {
		rp.Forward = *f
	}
	if rp.StatusIDs, err = numbers(p, "status_ids"); err != nil {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	if rp.RuleIDs, err = numbers(p, "rule_ids"); err != nil {
		writeValidation(w, "rule_ids", "ERR_INVALID", "does not reference valid rules")
		return
	}
	rep, err := a.social.Report(r.Context(), c.Account, rp)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	accs, err := a.renderAccounts(r.Context(), []int64{rep.TargetID})
	if err != nil || len(accs) == 0 {
		a.serviceError(w, r, errors.Join(err, store.ErrNotFound))
		return
	}
	writeJSON(w, http.StatusOK, reportEntity(rep, accs[0]))
}

// reportEntity renders a Report with its target account rendered.
func reportEntity(rep *store.Report, target Account) *Report {
	e := &Report{ID: idString(rep.ID), ActionTaken: !rep.ResolvedAt.IsZero(), ActionTakenAt: actionTakenAt(rep),
		Category: rep.Category, Comment: rep.Comment, Forwarded: rep.Forwarded, CreatedAt: timestamp(rep.CreatedAt),
		StatusIDs: idStrings(rep.StatusIDs), TargetAccount: target}
	if len(rep.RuleIDs) > 0 {
		e.RuleIDs = idStrings(rep.RuleIDs)
	}
	return e
}

// numbers reads key[] (or key) as ids; one that is not an id is an error.
func numbers(p url.Values, key string) ([]int64, error) {
	var out []int64
	for _, v := range list(p, key) {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n <= 0 {
			return nil, errors.New("not an id")
		}
		out = append(out, n)
	}
	return out, nil
}

// staff lets only moderators and admins through, as Mastodon: anyone else
// is told the action is not allowed, whatever the token's scopes.
func (a *API) staff(h func(http.ResponseWriter, *http.Request, *Caller, moderation.Moderator)) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		if !moderation.Staff(c.User) {
			writeError(w, http.StatusForbidden, "This action is not allowed")
			return
		}
		h(w, r, c, moderation.Moderator{Account: c.Account, User: c.User})
	}
}

func (a *API) moderationError(w http.ResponseWriter, r *http.Request, err error) {
	var unsupported *moderation.UnsupportedError
	var ve *moderation.ValidationError
	switch {
	case errors.Is(err, moderation.ErrForbidden):
		writeError(w, http.StatusForbidden, "This action is not allowed")
	case errors.As(err, &unsupported):
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: "+unsupported.Error())
	case errors.As(err, &ve):
		writeValidation(w, ve.Field, "ERR_INVALID", ve.Msg)
	default:
		a.socialError(w, r, err)
	}
}

// adminPage is the admin lists' page: 100 by default, 200 at most.
func adminPage(r *http.Request) store.Page {
	p := pageFrom(r, 200)
	if r.URL.Query().Get("limit") == "" {
		p.Limit = 100
	}
	return p
}

func (a *API) adminReports(w http.ResponseWriter, r *http.Request, _ *Caller, m moderation.Moderator) {
	q := r.URL.Query()
	// Open reports unless resolved is true, as Mastodon's ReportFilter.
	resolved := truthy(q.Get("resolved"))
	f := store.ReportFilter{Resolved: &resolved}
	f.AccountID, _ = strconv.ParseInt(q.Get("account_id"), 10, 64)
	f.TargetID, _ = strconv.ParseInt(q.Get("target_account_id"), 10, 64)
	p := adminPage(r)
	list, err := a.mod.Reports(r.Context(), m, f, p)
	if err != nil {
		a.moderationError(w, r, err)
		return
	}
	out, err := a.renderAdminReports(r.Context(), m, list)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	cursors := make([]int64, 0, len(list))
	for _, rep := range list {
		cursors = append(cursors, rep.ID)
	}
	a.setLink(w, r, p, cursors)
	writeJSON(w, http.StatusOK, out)
}

func (a *API) writeAdminReport(w http.ResponseWriter, r *http.Request, m moderation.Moderator, rep *store.Report, err error) {
	if err != nil {
		a.moderationError(w, r, err)
		return
	}
	out, err := a.renderAdminReports(r.Context(), m, []store.Report{*rep})
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out[0])
}

func (a *API) adminReport(w http.ResponseWriter, r *http.Request, _ *Caller, m moderation.Moderator) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	rep, err := a.mod.Report(r.Context(), m, id)
	a.writeAdminReport(w, r, m, rep, err)
}

func (a *API) updateAdminReport(w http.ResponseWriter, r *http.Request, _ *Caller, m moderation.Moderator) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	p, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	rules, err := numbers(p, "rule_ids")
	if err != nil {
		writeValidation(w, "rule_ids", "ERR_INVALID", "does not reference valid rules")
		return
	}
	rep, err := a.mod.UpdateReport(r.Context(), m, id, optString(p, "category"), rules)
	a.writeAdminReport(w, r, m, rep, err)
}

func (a *API) adminReportAction(action string) func(http.ResponseWriter, *http.Request, *Caller, moderation.Moderator) {
	return func(w http.ResponseWriter, r *http.Request, _ *Caller, m moderation.Moderator) {
		id, ok := pathID(r, "id")
		if !ok {
			writeError(w, http.StatusNotFound, "Record not found")
			return
		}
		var rep *store.Report
		var err error
		switch action {
		case "assign_to_self":
			rep, err = a.mod.AssignReport(r.Context(), m, id, true)
		case "unassign":
			rep, err = a.mod.AssignReport(r.Context(), m, id, false)
		case "resolve":
			rep, err = a.mod.ResolveReport(r.Context(), m, id)
		case "reopen":
			rep, err = a.mod.ReopenReport(r.Context(), m, id)
		}
		a.writeAdminReport(w, r, m, rep, err)
	}
}

// renderAdminReports renders reports in a fixed number of statements: the
// accounts they name, as the staff sees them, in one read; their statuses
// in one batch, shown to the moderator as reported (the reporter could see
// each when reporting: social.(*Service).Report).
func (a *API) renderAdminReports(ctx context.Context, m moderation.Moderator, list []store.Report) ([]AdminReport, error) {
	var accountIDs, statusIDs []int64
	for _, rep := range list {
		accountIDs = append(accountIDs, rep.AccountID, rep.TargetID)
		if rep.AssignedID != 0 {
			accountIDs = append(accountIDs, rep.AssignedID)
		}
		if rep.ResolvedBy != 0 {
			accountIDs = append(accountIDs, rep.ResolvedBy)
		}
		statusIDs = append(statusIDs, rep.StatusIDs...)
	}
	admins, err := a.store.AdminAccountsByIDs(ctx, accountIDs)
	if err != nil {
		return nil, err
	}
	b, err := a.load(ctx, m.Account.ID, statusIDs, accountIDs)
	if err != nil {
		return nil, err
	}
	one := func(id int64) *AdminAccount {
		x, ok := admins[id]
		if !ok {
			return nil
		}
		e := a.adminAccountFrom(b, x)
		return &e
	}
	out := make([]AdminReport, 0, len(list))
	for i := range list {
		rep := &list[i]
		e := AdminReport{ID: idString(rep.ID), ActionTaken: !rep.ResolvedAt.IsZero(), ActionTakenAt: actionTakenAt(rep),
			Category: rep.Category, Comment: rep.Comment, Forwarded: rep.Forwarded, CreatedAt: timestamp(rep.CreatedAt),
			UpdatedAt: timestamp(rep.UpdatedAt), Statuses: []Status{}, Rules: []any{},
			AssignedAccount: one(rep.AssignedID), ActionTakenByAccount: one(rep.ResolvedBy)}
		reporter, target := one(rep.AccountID), one(rep.TargetID)
		if reporter == nil || target == nil {
			continue // an account deleted since: the report goes with it
		}
		e.Account, e.TargetAccount = *reporter, *target
		for _, id := range rep.StatusIDs {
			if st, ok := b.statuses[id]; ok {
				if s, ok := a.statusFrom(b, st, m.Account.ID); ok {
					e.Statuses = append(e.Statuses, s)
				}
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// adminAccountFrom renders an Admin::Account; b holds its counters.
func (a *API) adminAccountFrom(b *batch, x *store.AdminAccount) AdminAccount {
	acc := x.Account
	e := AdminAccount{ID: idString(acc.ID), Username: acc.Username, CreatedAt: timestamp(acc.CreatedAt), IPs: []any{},
		Silenced: x.Silenced, Suspended: !acc.SuspendedAt.IsZero(), Sensitized: !acc.SensitizedAt.IsZero()}
	if full, ok := b.accounts[acc.ID]; ok {
		e.Account = a.accountFrom(b, full)
	} else {
		e.Account = a.account(acc)
	}
	if acc.Domain != "" {
		d := acc.Domain
		e.Domain = &d
	}
	if u := x.User; u != nil {
		email, locale := u.Email, u.Locale
		e.Email = &email
		if locale != "" {
			e.Locale = &locale
		}
		if u.SignupReason != "" {
			reason := u.SignupReason
			e.InviteRequest = &reason
		}
		role := roles[u.Role]
		e.Role = &role
		e.Confirmed, e.Approved, e.Disabled = true, u.Approved, u.Disabled
		e.CreatedAt = timestamp(u.CreatedAt)
	}
	return e
}

// adminAccounts is GET /api/v1/admin/accounts (v1 filters) and
// /api/v2/admin/accounts (origin, status, permissions).
func (a *API) adminAccounts(v2 bool) func(http.ResponseWriter, *http.Request, *Caller, moderation.Moderator) {
	return func(w http.ResponseWriter, r *http.Request, _ *Caller, m moderation.Moderator) {
		q := r.URL.Query()
		f := store.AdminAccountFilter{Username: q.Get("username"), DisplayName: q.Get("display_name"), Email: q.Get("email")}
		if v2 {
			f.Origin, f.Status, f.Domain = q.Get("origin"), q.Get("status"), q.Get("by_domain")
			f.Staff = q.Get("permissions") == "staff"
		} else {
			switch {
			case truthy(q.Get("local")):
				f.Origin = "local"
			case truthy(q.Get("remote")):
				f.Origin = "remote"
			}
			for _, s := range []string{"active", "pending", "disabled", "silenced", "suspended"} {
				if truthy(q.Get(s)) {
					f.Status = s
				}
			}
			f.Domain, f.Staff = q.Get("by_domain"), truthy(q.Get("staff"))
		}
		p := adminPage(r)
		list, err := a.mod.Accounts(r.Context(), m, f, p)
		if err != nil {
			a.moderationError(w, r, err)
			return
		}
		ids := make([]int64, 0, len(list))
		for _, x := range list {
			ids = append(ids, x.Account.ID)
		}
		b, err := a.load(r.Context(), 0, nil, ids)
		if err != nil {
			a.serviceError(w, r, err)
			return
		}
		out := make([]AdminAccount, 0, len(list))
		for i := range list {
			out = append(out, a.adminAccountFrom(b, &list[i]))
		}
		a.setLink(w, r, p, ids)
		writeJSON(w, http.StatusOK, out)
	}
}

func (a *API) writeAdminAccount(w http.ResponseWriter, r *http.Request, x *store.AdminAccount, err error) {
	if err != nil {
		a.moderationError(w, r, err)
		return
	}
	b, err := a.load(r.Context(), 0, nil, []int64{x.Account.ID})
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.adminAccountFrom(b, x))
}

func (a *API) adminAccount(w http.ResponseWriter, r *http.Request, _ *Caller, m moderation.Moderator) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	x, err := a.mod.Account(r.Context(), m, id)
	a.writeAdminAccount(w, r, x, err)
}

func (a *API) adminAccountAction(action string) func(http.ResponseWriter, *http.Request, *Caller, moderation.Moderator) {
	return func(w http.ResponseWriter, r *http.Request, _ *Caller, m moderation.Moderator) {
		id, ok := pathID(r, "id")
		if !ok {
			writeError(w, http.StatusNotFound, "Record not found")
			return
		}
		var x *store.AdminAccount
		var err error
		switch action {
		case "approve":
			x, err = a.mod.Approve(r.Context(), m, id)
		case "reject":
			x, err = a.mod.Reject(r.Context(), m, id)
		case "enable":
			x, err = a.mod.Enable(r.Context(), m, id)
		default:
			x, err = a.mod.Undo(r.Context(), m, id, action)
		}
		a.writeAdminAccount(w, r, x, err)
	}
}

// adminAccountTakeAction is POST /api/v1/admin/accounts/:id/action: an
// empty object on success, as Mastodon.
func (a *API) adminAccountTakeAction(w http.ResponseWriter, r *http.Request, _ *Caller, m moderation.Moderator) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	p, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	ap := moderation.ActionParams{Type: p.Get("type"), Text: p.Get("text")}
	if ap.Type == "" {
		ap.Type = "none"
	}
	if v := p.Get("report_id"); v != "" {
		if ap.ReportID, err = strconv.ParseInt(v, 10, 64); err != nil || ap.ReportID <= 0 {
			writeError(w, http.StatusNotFound, "Record not found")
			return
		}
	}
	if err := a.mod.Action(r.Context(), m, id, ap); err != nil {
		a.moderationError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (a *API) adminDeleteAccount(w http.ResponseWriter, r *http.Request, _ *Caller, m moderation.Moderator) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	x, err := a.mod.Delete(r.Context(), m, id)
	a.writeAdminAccount(w, r, x, err)
}
