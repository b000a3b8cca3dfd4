package api

import (
	"context"
	"net/http"

	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// Notification is Mastodon's Notification entity.
type Notification struct {
	ID        string  `json:"id"`
	Type      string  `json:"type"`
	GroupKey  string  `json:"group_key"`
	CreatedAt string  `json:"created_at"`
	Account   Account `json:"account"`
	Status    *Status `json:"status,omitempty"`
	Report    *Report `json:"report,omitempty"` // admin.report's
}

func (a *API) renderNotifications(ctx context.Context, viewer int64, list []store.Notification) ([]Notification, error) {
	var statusIDs, accountIDs, reportNotes []int64
	for _, n := range list {
		accountIDs = append(accountIDs, n.FromAccountID)
		if n.StatusID != 0 {
			statusIDs = append(statusIDs, n.StatusID)
		}
		if n.Type == "admin.report" {
			reportNotes = append(reportNotes, n.ID)
		}
	}
	reports, err := a.store.NotificationReports(ctx, reportNotes)
	if err != nil {
		return nil, err
	}
	for _, r := range reports {
		accountIDs = append(accountIDs, r.TargetID)
	}
	b, err := a.load(ctx, viewer, statusIDs, accountIDs)
	if err != nil {
		return nil, err
	}
	out := make([]Notification, 0, len(list))
	for _, n := range list {
		acc, ok := b.accounts[n.FromAccountID]
		if !ok {
			continue
		}
		key := n.GroupKey
		if key == "" {
			key = social.UngroupedKey(n.ID)
		}
		e := Notification{ID: idString(n.ID), Type: n.Type, GroupKey: key, CreatedAt: timestamp(n.CreatedAt), Account: a.accountFrom(b, acc)}
		if n.StatusID != 0 {
			st, ok := b.statuses[n.StatusID]
			if !ok || a.hidden(b, st, social.FilterNotifications) {
				continue
			}
			se, ok := a.statusFrom(b, st, viewer)
			if !ok {
				continue
			}
			e.Status = &se
		}
		if n.Type == "admin.report" {
			r, ok := reports[n.ID]
			if !ok {
				continue // the report went with its account
			}
			target, ok := b.accounts[r.TargetID]
			if !ok {
				continue
			}
			e.Report = reportEntity(r, a.accountFrom(b, target))
		}
		out = append(out, e)
	}
	return out, nil
}

// knownTypes keeps only Mastodon notification types Rampart emits.
func knownTypes(in []string) []string {
	var out []string
	for _, t := range in {
		for _, k := range social.NotificationTypes {
			if t == k {
				out = append(out, t)
			}
		}
	}
	return out
}

func (a *API) notifications(w http.ResponseWriter, r *http.Request, c *Caller) {
	f, ok := notificationFilter(r)
	if !ok {
		writeJSON(w, http.StatusOK, []Notification{})
		return
	}
	p := pageFrom(r, accountsLimit)
	list, err := a.social.Notifications(r.Context(), viewerID(c), f, p)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	out, err := a.renderNotifications(r.Context(), viewerID(c), list)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	cursors := make([]int64, len(list))
	for i, n := range list {
		cursors[i] = n.ID
	}
	a.setLink(w, r, p, cursors)
	writeJSON(w, http.StatusOK, out)
}

func (a *API) notification(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	n, err := a.social.Notification(r.Context(), viewerID(c), id)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	out, err := a.renderNotifications(r.Context(), viewerID(c), []store.Notification{*n})
	if err != nil || len(out) == 0 {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	writeJSON(w, http.StatusOK, out[0])
}

func (a *API) clearNotifications(w http.ResponseWriter, r *http.Request, c *Caller) {
	if err := a.social.Dismiss(r.Context(), viewerID(c), 0); err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (a *API) dismissNotification(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	if err := a.social.Dismiss(r.Context(), viewerID(c), id); err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}
