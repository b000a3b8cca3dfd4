package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/rampart-social/rampart/internal/social"
)

// ScheduledStatus is Mastodon's ScheduledStatus entity.
type ScheduledStatus struct {
	ID               string                 `json:"id"`
	ScheduledAt      string                 `json:"scheduled_at"`
	Params           social.ScheduledParams `json:"params"`
	MediaAttachments []Attachment           `json:"media_attachments"`
}

func (a *API) registerScheduled(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/scheduled_statuses", a.auth(userToken, a.listScheduled, "read:statuses"))
	mux.HandleFunc("GET /api/v1/scheduled_statuses/{id}", a.auth(userToken, a.getScheduled, "read:statuses"))
	mux.HandleFunc("PUT /api/v1/scheduled_statuses/{id}", a.auth(userToken, a.updateScheduled, "write:statuses"))
	mux.HandleFunc("DELETE /api/v1/scheduled_statuses/{id}", a.auth(userToken, a.deleteScheduled, "write:statuses"))
}

// renderScheduled builds the entities of a list in two queries' worth: the
// held uploads of all of them at once.
func (a *API) renderScheduled(ctx context.Context, list []*social.Scheduled) ([]ScheduledStatus, error) {
	ids := make([]int64, len(list))
	for i, sc := range list {
		ids[i] = sc.ID
	}
	media, err := a.store.ScheduledMedia(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]ScheduledStatus, 0, len(list))
	for _, sc := range list {
		e := ScheduledStatus{ID: idString(sc.ID), ScheduledAt: timestamp(sc.ScheduledAt), Params: sc.Params, MediaAttachments: []Attachment{}}
		for i := range media[sc.ID] {
			e.MediaAttachments = append(e.MediaAttachments, a.attachment(&media[sc.ID][i]))
		}
		out = append(out, e)
	}
	return out, nil
}

func (a *API) writeScheduled(w http.ResponseWriter, r *http.Request, sc *social.Scheduled, err error) {
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	out, err := a.renderScheduled(r.Context(), []*social.Scheduled{sc})
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out[0])
}

// scheduledAt reads scheduled_at as ISO 8601; ok is false (answered) when
// it is not a date.
func scheduledAt(w http.ResponseWriter, p url.Values) (time.Time, bool) {
	at, err := time.Parse(time.RFC3339Nano, p.Get("scheduled_at"))
	if err != nil {
		writeValidation(w, "scheduled_at", "ERR_INVALID", "must be an ISO 8601 date and time")
		return time.Time{}, false
	}
	return at, true
}

// schedulePost answers POST /api/v1/statuses with scheduled_at: a
// ScheduledStatus instead of a Status.
func (a *API) schedulePost(w http.ResponseWriter, r *http.Request, c *Caller, p url.Values, post social.PostParams) {
	at, ok := scheduledAt(w, p)
	if !ok {
		return
	}
	o := social.ScheduleOptions{WithRateLimit: truthy(p.Get("with_rate_limit"))}
	sc, err := a.social.Schedule(r.Context(), c.Account, c.User, post, at, o)
	a.writeScheduled(w, r, sc, err)
}

func (a *API) listScheduled(w http.ResponseWriter, r *http.Request, c *Caller) {
	page := pageFrom(r, 40)
	list, err := a.social.ScheduledStatuses(r.Context(), c.Account, page)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	out, err := a.renderScheduled(r.Context(), list)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	cursors := make([]int64, len(list))
	for i, sc := range list {
		cursors[i] = sc.ID
	}
	a.setLink(w, r, page, cursors)
	writeJSON(w, http.StatusOK, out)
}

func (a *API) getScheduled(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	sc, err := a.social.ScheduledStatus(r.Context(), c.Account, id)
	a.writeScheduled(w, r, sc, err)
}

func (a *API) updateScheduled(w http.ResponseWriter, r *http.Request, c *Caller) {
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
	if !p.Has("scheduled_at") {
		// Nothing to change: the status as it is.
		sc, err := a.social.ScheduledStatus(r.Context(), c.Account, id)
		a.writeScheduled(w, r, sc, err)
		return
	}
	at, ok := scheduledAt(w, p)
	if !ok {
		return
	}
	sc, err := a.social.Reschedule(r.Context(), c.Account, id, at)
	a.writeScheduled(w, r, sc, err)
}

func (a *API) deleteScheduled(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	if err := a.social.CancelScheduled(r.Context(), c.Account, id); err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
