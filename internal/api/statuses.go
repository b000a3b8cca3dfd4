package api

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// viewerID is the caller's account id, 0 when anonymous or app-only.
func viewerID(c *Caller) int64 {
	if c == nil || c.Account == nil {
		return 0
	}
	return c.Account.ID
}

// socialError maps the social service's errors; the rest go to serviceError.
func (a *API) socialError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *social.ValidationError
	switch {
	case errors.As(err, &ve):
		writeValidation(w, ve.Field, "ERR_INVALID", ve.Msg)
	case errors.Is(err, social.ErrForbidden):
		writeError(w, http.StatusForbidden, "This action is not allowed")
	case errors.Is(err, social.ErrSearchPagingNeedsSignIn):
		writeError(w, http.StatusUnauthorized, err.Error())
	default:
		a.serviceError(w, r, err)
	}
}

func (a *API) writeStatus(w http.ResponseWriter, r *http.Request, c *Caller, st *store.Status, err error) {
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	e, err := a.renderStatus(r.Context(), viewerID(c), st)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// statusForm reads what posting and editing share: the parameters and the
// media ids. It answers the request itself and returns false on bad input.
func statusForm(w http.ResponseWriter, r *http.Request) (url.Values, []int64, bool) {
	p, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return nil, nil, false
	}
	mediaIDs, ok := mediaIDList(p)
	if !ok {
		writeValidation(w, "media_ids", "ERR_INVALID", "must be ids of your uploads")
		return nil, nil, false
	}
	return p, mediaIDs, true
}

func (a *API) postStatus(w http.ResponseWriter, r *http.Request, c *Caller) {
	p, mediaIDs, ok := statusForm(w, r)
	if !ok {
		return
	}
	var err error
	poll, ok := pollParams(w, p)
	if !ok {
		return
	}
	var reply int64
	if v := p.Get("in_reply_to_id"); v != "" {
		if reply, err = strconv.ParseInt(v, 10, 64); err != nil {
			writeError(w, http.StatusNotFound, "Record not found")
			return
		}
	}
	post := social.PostParams{
		Text: p.Get("status"), SpoilerText: p.Get("spoiler_text"), InReplyToID: reply, Sensitive: optBool(p, "sensitive"),
		Visibility: p.Get("visibility"), Language: p.Get("language"), IdempotencyKey: r.Header.Get("Idempotency-Key"),
		ApplicationID: c.App.ID, MediaIDs: mediaIDs, Poll: poll,
	}
	if p.Get("scheduled_at") != "" {
		a.schedulePost(w, r, c, p, post)
		return
	}
	st, err := a.social.Post(r.Context(), c.Account, c.User, post)
	a.writeStatus(w, r, c, st, err)
}

func (a *API) editStatus(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	p, mediaIDs, ok := statusForm(w, r)
	if !ok {
		return
	}
	poll, ok := pollParams(w, p)
	if !ok {
		return
	}
	edit := social.EditParams{Text: p.Get("status"), SpoilerText: p.Get("spoiler_text"),
		Sensitive: truthy(p.Get("sensitive")), Language: p.Get("language"), Poll: poll}
	if _, sent := p["media_ids[]"]; sent || p.Has("media_ids") {
		edit.MediaIDs = append([]int64{}, mediaIDs...) // sent, maybe empty: replace
	}
	st, err := a.social.Edit(r.Context(), c.Account, id, edit)
	a.writeStatus(w, r, c, st, err)
}

func (a *API) deleteStatus(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	ctx := r.Context()
	st, err := a.social.Own(ctx, c.Account, id)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	// Render before deleting: the answer carries the source text, for "delete and redraft".
	e, err := a.renderStatus(ctx, viewerID(c), st)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	if _, err := a.social.Delete(ctx, c.Account, id); err != nil {
		a.socialError(w, r, err)
		return
	}
	text := st.Text
	e.Text = &text
	writeJSON(w, http.StatusOK, e)
}

func (a *API) getStatus(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	st, err := a.social.Status(r.Context(), viewerID(c), id)
	a.writeStatus(w, r, c, st, err)
}

func (a *API) statusSource(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	st, err := a.social.Status(r.Context(), viewerID(c), id)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	if st.AccountID != viewerID(c) {
		writeError(w, http.StatusForbidden, "This action is not allowed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": idString(st.ID), "text": st.Text, "spoiler_text": st.SpoilerText})
}

// mediaIDList reads media_ids[] as numbers; ok is false when one is not a number.
func mediaIDList(p url.Values) ([]int64, bool) {
	var out []int64
	for _, v := range list(p, "media_ids") {
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

// StatusEdit is Mastodon's StatusEdit entity.
type StatusEdit struct {
	Content          string       `json:"content"`
	SpoilerText      string       `json:"spoiler_text"`
	Sensitive        bool         `json:"sensitive"`
	CreatedAt        string       `json:"created_at"`
	Account          Account      `json:"account"`
	MediaAttachments []Attachment `json:"media_attachments"`
	Emojis           []struct{}   `json:"emojis"`
}

func (a *API) statusHistory(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	ctx := r.Context()
	st, err := a.social.Status(ctx, viewerID(c), id)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	edits, err := a.store.StatusEdits(ctx, st.ID)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	accs, err := a.renderAccounts(ctx, []int64{st.AccountID})
	if err != nil || len(accs) == 0 {
		a.serviceError(w, r, errors.Join(err, store.ErrNotFound))
		return
	}
	current := st.CreatedAt
	if !st.EditedAt.IsZero() {
		current = st.EditedAt
	}
	edits = append(edits, store.StatusEdit{Content: st.Content, SpoilerText: st.SpoilerText, Sensitive: st.Sensitive, CreatedAt: current})
	out := make([]StatusEdit, 0, len(edits))
	for _, e := range edits {
		out = append(out, StatusEdit{Content: e.Content, SpoilerText: e.SpoilerText, Sensitive: e.Sensitive, CreatedAt: timestamp(e.CreatedAt),
			Account: accs[0], MediaAttachments: []Attachment{}, Emojis: []struct{}{}})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) statusContext(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	ctx := r.Context()
	up, down, err := a.social.Context(ctx, viewerID(c), id)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	// One render for both sides, so the viewer's filters load once; the
	// thread's filters hide what they match (the status asked for stays).
	all, err := a.renderStatusesIn(ctx, viewerID(c), append(append([]int64{}, up...), down...), social.FilterThread)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	byID := make(map[string]Status, len(all))
	for _, e := range all {
		byID[e.ID] = e
	}
	side := func(ids []int64) []Status {
		out := make([]Status, 0, len(ids))
		for _, id := range ids {
			if e, ok := byID[idString(id)]; ok {
				out = append(out, e)
			}
		}
		return out
	}
	writeJSON(w, http.StatusOK, map[string][]Status{"ancestors": side(up), "descendants": side(down)})
}

// statusActions are the POST /api/v1/statuses/:id/<action> endpoints.
func (a *API) statusActionsFor() map[string]func(r *http.Request, c *Caller, id int64) (*store.Status, error) {
	return map[string]func(r *http.Request, c *Caller, id int64) (*store.Status, error){
		"favourite": func(r *http.Request, c *Caller, id int64) (*store.Status, error) {
			return a.social.Favourite(r.Context(), c.Account, id)
		},
		"unfavourite": func(r *http.Request, c *Caller, id int64) (*store.Status, error) {
			return a.social.Unmark(r.Context(), c.Account, store.Favourite, id)
		},
		"reblog": func(r *http.Request, c *Caller, id int64) (*store.Status, error) {
			p, err := params(r)
			if err != nil {
				return nil, paramsFailure(err)
			}
			vis := p.Get("visibility")
			if vis == "" { // the reblogger's default, as on Mastodon; a reblog cannot be direct
				if vis = c.User.DefaultPrivacy; vis == "direct" {
					vis = "private"
				}
			}
			return a.social.Reblog(r.Context(), c.Account, id, vis)
		},
		"unreblog": func(r *http.Request, c *Caller, id int64) (*store.Status, error) {
			return a.social.Unreblog(r.Context(), c.Account, id)
		},
		"bookmark": func(r *http.Request, c *Caller, id int64) (*store.Status, error) {
			return a.social.Bookmark(r.Context(), c.Account, id)
		},
		"unbookmark": func(r *http.Request, c *Caller, id int64) (*store.Status, error) {
			return a.social.Unmark(r.Context(), c.Account, store.Bookmark, id)
		},
		"pin": func(r *http.Request, c *Caller, id int64) (*store.Status, error) {
			return a.social.Pin(r.Context(), c.Account, id)
		},
		"unpin": func(r *http.Request, c *Caller, id int64) (*store.Status, error) {
			return a.social.Unmark(r.Context(), c.Account, store.Pin, id)
		},
	}
}

// statusAction runs one of the POST /api/v1/statuses/:id/<action> endpoints.
func (a *API) statusAction(do func(r *http.Request, c *Caller, id int64) (*store.Status, error)) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		id, ok := pathID(r, "id")
		if !ok {
			writeError(w, http.StatusNotFound, "Record not found")
			return
		}
		st, err := do(r, c, id)
		a.writeStatus(w, r, c, st, err)
	}
}

func (a *API) statusAccounts(reblogs bool) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		id, ok := pathID(r, "id")
		if !ok {
			writeError(w, http.StatusNotFound, "Record not found")
			return
		}
		p := pageFrom(r, accountsLimit)
		ids, cursors, err := a.social.StatusAccounts(r.Context(), viewerID(c), id, reblogs, p)
		a.writeAccountList(w, r, p, ids, cursors, err)
	}
}

func (a *API) writeAccountList(w http.ResponseWriter, r *http.Request, p store.Page, ids, cursors []int64, err error) {
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

func (a *API) writeStatusList(w http.ResponseWriter, r *http.Request, c *Caller, p store.Page, ids, cursors []int64, err error) {
	a.writeTimeline(w, r, c, 0, p, ids, cursors, err)
}

// writeTimeline is writeStatusList for a timeline where the viewer's
// filters of context fctx apply (social.FilterHome for home and list
// timelines): what they hide is left out, and the Link header still pages
// from the underlying page's cursors, so a page hidden whole still leads on.
func (a *API) writeTimeline(w http.ResponseWriter, r *http.Request, c *Caller, fctx social.FilterContext, p store.Page, ids, cursors []int64, err error) {
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	out, err := a.renderStatusesIn(r.Context(), viewerID(c), ids, fctx)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	a.setLink(w, r, p, cursors)
	writeJSON(w, http.StatusOK, out)
}
