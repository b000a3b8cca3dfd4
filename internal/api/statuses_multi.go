package api

import "net/http"

// registerStatusesMulti mounts GET /api/v1/statuses?id[]= (Mastodon 4.3):
// several statuses at once, each as GET /api/v1/statuses/:id would answer
// it; those the caller may not see are left out.
func (a *API) registerStatusesMulti(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/statuses", a.auth(optional, a.getStatuses, "read:statuses"))
}

func (a *API) getStatuses(w http.ResponseWriter, r *http.Request, c *Caller) {
	ids, err := a.social.Statuses(r.Context(), viewerID(c), idList(r, "id"))
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	list, err := a.renderStatuses(r.Context(), viewerID(c), ids)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}
