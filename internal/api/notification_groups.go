package api

import (
	"net/http"
	"strconv"

	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// Mastodon 4.3's notification API: unread counts, the notification policy
// with its requests, and grouped notifications (/api/v2/notifications).

func (a *API) registerNotificationGroups(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/notifications/unread_count", a.auth(userToken, a.unreadCount(false), "read:notifications"))
	mux.HandleFunc("GET /api/v2/notifications/policy", a.auth(userToken, a.notificationPolicy, "read:notifications"))
	mux.HandleFunc("PATCH /api/v2/notifications/policy", a.auth(userToken, a.updateNotificationPolicy, "write:notifications"))
	mux.HandleFunc("GET /api/v1/notifications/requests", a.auth(userToken, a.notificationRequests, "read:notifications"))
	mux.HandleFunc("GET /api/v1/notifications/requests/merged", a.auth(userToken, a.notificationRequestsMerged, "read:notifications"))
	mux.HandleFunc("GET /api/v1/notifications/requests/{id}", a.auth(userToken, a.notificationRequest, "read:notifications"))
	for action, accept := range map[string]bool{"accept": true, "dismiss": false} {
		mux.HandleFunc("POST /api/v1/notifications/requests/{id}/"+action, a.auth(userToken, a.settleNotificationRequest(accept), "write:notifications"))
		mux.HandleFunc("POST /api/v1/notifications/requests/"+action, a.auth(userToken, a.settleNotificationRequests(accept), "write:notifications"))
	}
	mux.HandleFunc("GET /api/v2/notifications", a.auth(userToken, a.groupedNotifications, "read:notifications"))
	mux.HandleFunc("GET /api/v2/notifications/unread_count", a.auth(userToken, a.unreadCount(true), "read:notifications"))
	mux.HandleFunc("GET /api/v2/notifications/{group_key}", a.auth(userToken, a.notificationGroup, "read:notifications"))
	mux.HandleFunc("POST /api/v2/notifications/{group_key}/dismiss", a.auth(userToken, a.dismissNotificationGroup, "write:notifications"))
	// Mastodon's documentation says write:notifications; its code checks read:notifications.
	mux.HandleFunc("GET /api/v2/notifications/{group_key}/accounts", a.auth(userToken, a.notificationGroupAccounts, "read:notifications"))
}

// notificationFilter reads types[], exclude_types[], account_id and
// include_filtered; ok is false when they select nothing at all.
func notificationFilter(r *http.Request) (f store.NotificationFilter, ok bool) {
	q := r.URL.Query()
	f.ExcludeTypes = knownTypes(list(q, "exclude_types"))
	if types := list(q, "types"); len(types) > 0 {
		if f.Types = knownTypes(types); len(f.Types) == 0 {
			return f, false
		}
	}
	if q.Get("account_id") != "" {
		ids := idList(r, "account_id")
		if len(ids) == 0 {
			return f, false
		}
		f.FromAccount = ids[0]
	}
	f.IncludeFiltered = truthy(q.Get("include_filtered"))
	return f, true
}

// groupedTypes reads grouped_types[]: nil when absent (every groupable type).
func groupedTypes(r *http.Request) []string {
	q := r.URL.Query()
	if _, ok := q["grouped_types[]"]; !ok {
		if _, ok := q["grouped_types"]; !ok {
			return nil
		}
	}
	return append([]string{}, list(q, "grouped_types")...)
}

// Unread counts: limit 100 by default, at most 1000 (Mastodon's).
const (
	unreadDefault = 100
	unreadMax     = 1000
)

func (a *API) unreadCount(grouped bool) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		f, ok := notificationFilter(r)
		if !ok {
			writeJSON(w, http.StatusOK, map[string]int{"count": 0})
			return
		}
		limit := unreadDefault
		if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
			limit = min(n, unreadMax)
		}
		var gt []string
		if grouped {
			gt = groupedTypes(r)
		}
		n, err := a.social.UnreadNotifications(r.Context(), viewerID(c), f, limit, grouped, gt)
		if err != nil {
			a.serviceError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"count": n})
	}
}

// NotificationPolicy is Mastodon's NotificationPolicy entity (v2).
type NotificationPolicy struct {
	ForNotFollowing    string                    `json:"for_not_following"`
	ForNotFollowers    string                    `json:"for_not_followers"`
	ForNewAccounts     string                    `json:"for_new_accounts"`
	ForPrivateMentions string                    `json:"for_private_mentions"`
	ForLimitedAccounts string                    `json:"for_limited_accounts"`
	Summary            NotificationPolicySummary `json:"summary"`
}

// NotificationPolicySummary is NotificationPolicy.summary.
type NotificationPolicySummary struct {
	PendingRequestsCount      int64 `json:"pending_requests_count"`
	PendingNotificationsCount int64 `json:"pending_notifications_count"`
}

func notificationPolicy(p *social.NotificationPolicySummary) NotificationPolicy {
	return NotificationPolicy{ForNotFollowing: p.ForNotFollowing, ForNotFollowers: p.ForNotFollowers, ForNewAccounts: p.ForNewAccounts,
		ForPrivateMentions: p.ForPrivateMentions, ForLimitedAccounts: p.ForLimitedAccounts,
		Summary: NotificationPolicySummary{PendingRequestsCount: p.PendingRequests, PendingNotificationsCount: p.PendingNotifications}}
}

func (a *API) notificationPolicy(w http.ResponseWriter, r *http.Request, c *Caller) {
	p, err := a.social.NotificationPolicy(r.Context(), viewerID(c))
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, notificationPolicy(p))
}

func (a *API) updateNotificationPolicy(w http.ResponseWriter, r *http.Request, c *Caller) {
	v, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	changes := map[string]string{}
	for _, k := range []string{"for_not_following", "for_not_followers", "for_new_accounts", "for_private_mentions", "for_limited_accounts"} {
		if s := optString(v, k); s != nil {
			changes[k] = *s
		}
	}
	p, err := a.social.UpdateNotificationPolicy(r.Context(), viewerID(c), changes)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, notificationPolicy(p))
}

// NotificationRequest is Mastodon's NotificationRequest entity.
type NotificationRequest struct {
	ID                 string  `json:"id"`
	CreatedAt          string  `json:"created_at"`
	UpdatedAt          string  `json:"updated_at"`
	Account            Account `json:"account"`
	NotificationsCount string  `json:"notifications_count"`
	LastStatus         *Status `json:"last_status"`
}

func (a *API) renderNotificationRequests(r *http.Request, viewer int64, list []store.NotificationRequest) ([]NotificationRequest, error) {
	var statusIDs, accountIDs []int64
	for _, q := range list {
		accountIDs = append(accountIDs, q.FromAccountID)
		if q.LastStatusID != 0 {
			statusIDs = append(statusIDs, q.LastStatusID)
		}
	}
	b, err := a.load(r.Context(), viewer, statusIDs, accountIDs)
	if err != nil {
		return nil, err
	}
	out := make([]NotificationRequest, 0, len(list))
	for _, q := range list {
		acc, ok := b.accounts[q.FromAccountID]
		if !ok {
			continue
		}
		e := NotificationRequest{ID: idString(q.ID), CreatedAt: timestamp(q.CreatedAt), UpdatedAt: timestamp(q.UpdatedAt),
			Account: a.accountFrom(b, acc), NotificationsCount: strconv.FormatInt(q.Count, 10)}
		if st, ok := b.statuses[q.LastStatusID]; ok {
			if se, ok := a.statusFrom(b, st, viewer); ok {
				e.LastStatus = &se
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func (a *API) notificationRequests(w http.ResponseWriter, r *http.Request, c *Caller) {
	p := pageFrom(r, accountsLimit)
	list, err := a.social.NotificationRequests(r.Context(), viewerID(c), 0, p)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	out, err := a.renderNotificationRequests(r, viewerID(c), list)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	cursors := make([]int64, len(list))
	for i, q := range list {
		cursors[i] = q.ID
	}
	a.setLink(w, r, p, cursors)
	writeJSON(w, http.StatusOK, out)
}

func (a *API) notificationRequest(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	list, err := a.social.NotificationRequests(r.Context(), viewerID(c), id, store.Page{})
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	out, err := a.renderNotificationRequests(r, viewerID(c), list)
	if err != nil || len(out) == 0 {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	writeJSON(w, http.StatusOK, out[0])
}

// notificationRequestsMerged answers whether accepted requests' notifications
// have joined the list: accepting merges them at once, so always.
func (a *API) notificationRequestsMerged(w http.ResponseWriter, r *http.Request, c *Caller) {
	writeJSON(w, http.StatusOK, map[string]bool{"merged": true})
}

func (a *API) settleNotificationRequest(accept bool) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		id, ok := pathID(r, "id")
		if !ok {
			writeError(w, http.StatusNotFound, "Record not found")
			return
		}
		if err := a.social.SettleNotificationRequests(r.Context(), viewerID(c), []int64{id}, accept, true); err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{})
	}
}

// maxSettledRequests bounds the ids one bulk accept or dismiss takes.
const maxSettledRequests = 80

func (a *API) settleNotificationRequests(accept bool) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		v, err := params(r)
		if err != nil {
			writeParamsError(w, err)
			return
		}
		var ids []int64
		for _, s := range list(v, "id") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && len(ids) < maxSettledRequests {
				ids = append(ids, n)
			}
		}
		if err := a.social.SettleNotificationRequests(r.Context(), viewerID(c), ids, accept, false); err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{})
	}
}

// GroupedNotificationsResults is Mastodon's GroupedNotificationsResults.
type GroupedNotificationsResults struct {
	Accounts           []Account           `json:"accounts"`
	PartialAccounts    *[]PartialAccount   `json:"partial_accounts,omitempty"`
	Statuses           []Status            `json:"statuses"`
	NotificationGroups []NotificationGroup `json:"notification_groups"`
}

// PartialAccount is Mastodon's PartialAccountWithAvatar.
type PartialAccount struct {
	ID           string `json:"id"`
	Acct         string `json:"acct"`
	URL          string `json:"url"`
	Avatar       string `json:"avatar"`
	AvatarStatic string `json:"avatar_static"`
	Locked       bool   `json:"locked"`
	Bot          bool   `json:"bot"`
}

// NotificationGroup is Mastodon's NotificationGroup entity.
type NotificationGroup struct {
	GroupKey                 string   `json:"group_key"`
	NotificationsCount       int64    `json:"notifications_count"`
	Type                     string   `json:"type"`
	MostRecentNotificationID string   `json:"most_recent_notification_id"`
	PageMinID                *string  `json:"page_min_id,omitempty"`
	PageMaxID                *string  `json:"page_max_id,omitempty"`
	LatestPageNotificationAt *string  `json:"latest_page_notification_at,omitempty"`
	SampleAccountIDs         []string `json:"sample_account_ids"`
	StatusID                 *string  `json:"status_id,omitempty"`
}

// renderGroups renders groups with their accounts and statuses in a fixed
// number of queries. With partial, only each group's most recent account
// is rendered in full; the others are partial accounts. A group whose
// status or most recent account is gone meanwhile is left out.
func (a *API) renderGroups(r *http.Request, viewer int64, groups []social.NotificationGroup, partial bool) (*GroupedNotificationsResults, error) {
	var statusIDs, accountIDs []int64
	for _, g := range groups {
		accountIDs = append(accountIDs, g.Samples...)
		if g.StatusID != 0 {
			statusIDs = append(statusIDs, g.StatusID)
		}
	}
	b, err := a.load(r.Context(), viewer, statusIDs, accountIDs)
	if err != nil {
		return nil, err
	}
	out := &GroupedNotificationsResults{Accounts: []Account{}, Statuses: []Status{}, NotificationGroups: []NotificationGroup{}}
	if partial {
		out.PartialAccounts = &[]PartialAccount{}
	}
	full, part, statuses := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
	for _, g := range groups {
		if _, ok := b.accounts[g.Samples[0]]; !ok {
			continue
		}
		e := NotificationGroup{GroupKey: g.Key, NotificationsCount: g.Count, Type: g.Type,
			MostRecentNotificationID: idString(g.MostRecentID), SampleAccountIDs: []string{}}
		if g.StatusID != 0 {
			st, ok := b.statuses[g.StatusID]
			if !ok || a.hidden(b, st, social.FilterNotifications) {
				continue
			}
			se, ok := a.statusFrom(b, st, viewer)
			if !ok {
				continue
			}
			if !statuses[g.StatusID] {
				statuses[g.StatusID] = true
				out.Statuses = append(out.Statuses, se)
			}
			e.StatusID = optID(g.StatusID)
		}
		if g.Paged {
			lo, hi, at := idString(g.PageMinID), idString(g.MostRecentID), timestamp(g.LatestAt)
			e.PageMinID, e.PageMaxID, e.LatestPageNotificationAt = &lo, &hi, &at
		}
		for i, id := range g.Samples {
			acc, ok := b.accounts[id]
			if !ok {
				continue
			}
			e.SampleAccountIDs = append(e.SampleAccountIDs, idString(id))
			switch {
			case full[id]:
			case i == 0 || !partial:
				full[id] = true
				out.Accounts = append(out.Accounts, a.accountFrom(b, acc))
			case !part[id]:
				part[id] = true
				ae := a.account(acc)
				*out.PartialAccounts = append(*out.PartialAccounts, PartialAccount{ID: ae.ID, Acct: ae.Acct, URL: ae.URL,
					Avatar: ae.Avatar, AvatarStatic: ae.AvatarStatic, Locked: ae.Locked, Bot: ae.Bot})
			}
		}
		out.NotificationGroups = append(out.NotificationGroups, e)
	}
	if partial { // an account rendered in full need not be partial too
		kept := (*out.PartialAccounts)[:0]
		for _, p := range *out.PartialAccounts {
			if id, _ := strconv.ParseInt(p.ID, 10, 64); !full[id] {
				kept = append(kept, p)
			}
		}
		*out.PartialAccounts = kept
	}
	return out, nil
}

// expandPartial reads expand_accounts: full (the default) or partial_avatars.
func expandPartial(w http.ResponseWriter, r *http.Request) (partial, ok bool) {
	switch v := r.URL.Query().Get("expand_accounts"); v {
	case "", "full":
		return false, true
	case "partial_avatars":
		return true, true
	default:
		writeError(w, http.StatusBadRequest, "Invalid value for 'expand_accounts': '"+v+"', allowed values are 'full' and 'partial_avatars'")
		return false, false
	}
}

func (a *API) groupedNotifications(w http.ResponseWriter, r *http.Request, c *Caller) {
	partial, ok := expandPartial(w, r)
	if !ok {
		return
	}
	empty := &GroupedNotificationsResults{Accounts: []Account{}, Statuses: []Status{}, NotificationGroups: []NotificationGroup{}}
	if partial {
		empty.PartialAccounts = &[]PartialAccount{}
	}
	f, ok := notificationFilter(r)
	if !ok {
		writeJSON(w, http.StatusOK, empty)
		return
	}
	p := pageFrom(r, accountsLimit)
	page, err := a.social.GroupedNotifications(r.Context(), viewerID(c), f, p, groupedTypes(r))
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	if len(page.Groups) == 0 {
		writeJSON(w, http.StatusOK, empty)
		return
	}
	out, err := a.renderGroups(r, viewerID(c), page.Groups, partial)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	// setLink names the next page only for a full page of cursors.
	cursors, lp := []int64{page.Prev}, store.Page{Limit: 2}
	if page.Next != 0 {
		cursors = append(cursors, page.Next)
	}
	a.setLink(w, r, lp, cursors)
	writeJSON(w, http.StatusOK, out)
}

func (a *API) notificationGroup(w http.ResponseWriter, r *http.Request, c *Caller) {
	g, err := a.social.NotificationGroup(r.Context(), viewerID(c), r.PathValue("group_key"))
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	out, err := a.renderGroups(r, viewerID(c), []social.NotificationGroup{*g}, false)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	if len(out.NotificationGroups) == 0 {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) dismissNotificationGroup(w http.ResponseWriter, r *http.Request, c *Caller) {
	if err := a.social.DismissNotificationGroup(r.Context(), viewerID(c), r.PathValue("group_key")); err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (a *API) notificationGroupAccounts(w http.ResponseWriter, r *http.Request, c *Caller) {
	p := pageFrom(r, accountsLimit)
	ids, cursors, err := a.social.NotificationGroupAccounts(r.Context(), viewerID(c), r.PathValue("group_key"), p)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	out, err := a.renderAccounts(r.Context(), ids)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	a.setLink(w, r, p, cursors)
	writeJSON(w, http.StatusOK, out)
}
