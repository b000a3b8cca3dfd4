package api

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// FilterRef is Mastodon's Filter entity as a FilterResult carries it:
// without its keywords and statuses.
type FilterRef struct {
	ID           string   `json:"id"`
	Title        string   `json:"title"`
	Context      []string `json:"context"`
	ExpiresAt    *string  `json:"expires_at"`
	FilterAction string   `json:"filter_action"`
}

// Filter is Mastodon's (v2) Filter entity.
type Filter struct {
	FilterRef
	Keywords []FilterKeyword `json:"keywords"`
	Statuses []FilterStatus  `json:"statuses"`
}

// FilterKeyword is Mastodon's FilterKeyword entity.
type FilterKeyword struct {
	ID        string `json:"id"`
	Keyword   string `json:"keyword"`
	WholeWord bool   `json:"whole_word"`
}

// FilterStatus is Mastodon's FilterStatus entity.
type FilterStatus struct {
	ID       string `json:"id"`
	StatusID string `json:"status_id"`
}

// FilterResult is Mastodon's FilterResult entity (Status.filtered[]).
type FilterResult struct {
	Filter         FilterRef `json:"filter"`
	KeywordMatches []string  `json:"keyword_matches"`
	StatusMatches  []string  `json:"status_matches"`
}

// filterList is Status.filtered (a name as short as the Status fields'
// other types).
type filterList = []FilterResult

// V1Filter is Mastodon's V1::Filter entity: one keyword of a v2 filter.
type V1Filter struct {
	ID           string   `json:"id"`
	Phrase       string   `json:"phrase"`
	Context      []string `json:"context"`
	WholeWord    bool     `json:"whole_word"`
	ExpiresAt    *string  `json:"expires_at"`
	Irreversible bool     `json:"irreversible"`
}

func filterRef(f *store.Filter) FilterRef {
	out := FilterRef{ID: idString(f.ID), Title: f.Title, Context: social.FilterContextNames(f.Contexts), FilterAction: "warn"}
	if f.Hide {
		out.FilterAction = "hide"
	}
	if !f.ExpiresAt.IsZero() {
		e := timestamp(f.ExpiresAt)
		out.ExpiresAt = &e
	}
	return out
}

func filterEntity(f *store.Filter) Filter {
	out := Filter{FilterRef: filterRef(f), Keywords: make([]FilterKeyword, 0, len(f.Keywords)), Statuses: make([]FilterStatus, 0, len(f.Statuses))}
	for _, k := range f.Keywords {
		out.Keywords = append(out.Keywords, filterKeyword(&k))
	}
	for _, s := range f.Statuses {
		out.Statuses = append(out.Statuses, filterStatus(&s))
	}
	return out
}

func filterKeyword(k *store.FilterKeyword) FilterKeyword {
	return FilterKeyword{ID: idString(k.ID), Keyword: k.Keyword, WholeWord: k.WholeWord}
}

func filterStatus(s *store.FilterStatus) FilterStatus {
	return FilterStatus{ID: idString(s.ID), StatusID: idString(s.StatusID)}
}

func v1Filter(f *social.V1Filter) V1Filter {
	ref := filterRef(f.Filter)
	return V1Filter{ID: idString(f.Keyword.ID), Phrase: f.Keyword.Keyword, Context: ref.Context, WholeWord: f.Keyword.WholeWord,
		ExpiresAt: ref.ExpiresAt, Irreversible: f.Filter.Hide}
}

// filterResults renders matches as Status.filtered.
func filterResults(matches []social.FilterMatch) []FilterResult {
	out := make([]FilterResult, 0, len(matches))
	for _, m := range matches {
		r := FilterResult{Filter: filterRef(m.Filter), KeywordMatches: m.Keywords}
		for _, id := range m.StatusIDs {
			r.StatusMatches = append(r.StatusMatches, idString(id))
		}
		out = append(out, r)
	}
	return out
}

// registerFilters mounts the v1 and v2 filter endpoints.
func (a *API) registerFilters(mux *http.ServeMux) {
	read, write := "read:filters", "write:filters"
	mux.HandleFunc("GET /api/v2/filters", a.auth(userToken, a.listFilters, read))
	mux.HandleFunc("POST /api/v2/filters", a.auth(userToken, a.createFilter, write))
	mux.HandleFunc("GET /api/v2/filters/{id}", a.auth(userToken, a.getFilter, read))
	mux.HandleFunc("PUT /api/v2/filters/{id}", a.auth(userToken, a.updateFilter, write))
	mux.HandleFunc("DELETE /api/v2/filters/{id}", a.auth(userToken, a.deleteFilter, write))
	// /api/v2/filters/{id}/keywords and /api/v2/filters/keywords/{id} (and
	// statuses) overlap as mux patterns: one route per method, dispatched here.
	mux.HandleFunc("GET /api/v2/filters/{a}/{b}", a.auth(userToken, a.filterRules(map[string]handlerFunc{
		"keywords/": a.getFilterKeyword, "statuses/": a.getFilterStatus, "/keywords": a.listFilterKeywords, "/statuses": a.listFilterStatuses}), read))
	mux.HandleFunc("POST /api/v2/filters/{a}/{b}", a.auth(userToken, a.filterRules(map[string]handlerFunc{
		"/keywords": a.addFilterKeyword, "/statuses": a.addFilterStatus}), write))
	mux.HandleFunc("PUT /api/v2/filters/{a}/{b}", a.auth(userToken, a.filterRules(map[string]handlerFunc{
		"keywords/": a.updateFilterKeyword}), write))
	mux.HandleFunc("DELETE /api/v2/filters/{a}/{b}", a.auth(userToken, a.filterRules(map[string]handlerFunc{
		"keywords/": a.deleteFilterKeyword, "statuses/": a.deleteFilterStatus}), write))

	mux.HandleFunc("GET /api/v1/filters", a.auth(userToken, a.listV1Filters, read))
	mux.HandleFunc("POST /api/v1/filters", a.auth(userToken, a.createV1Filter, write))
	mux.HandleFunc("GET /api/v1/filters/{id}", a.auth(userToken, a.getV1Filter, read))
	mux.HandleFunc("PUT /api/v1/filters/{id}", a.auth(userToken, a.updateV1Filter, write))
	mux.HandleFunc("DELETE /api/v1/filters/{id}", a.auth(userToken, a.deleteV1Filter, write))
}

type handlerFunc = func(http.ResponseWriter, *http.Request, *Caller)

// filterRules routes /api/v2/filters/{a}/{b}: "keywords/" and "statuses/"
// name a keyword or status by id (b), "/keywords" and "/statuses" a
// filter's (a). The id goes on as {id}.
func (a *API) filterRules(routes map[string]handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		first, second := r.PathValue("a"), r.PathValue("b")
		var h handlerFunc
		var id string
		switch {
		case first == "keywords" || first == "statuses":
			h, id = routes[first+"/"], second
		case second == "keywords" || second == "statuses":
			h, id = routes["/"+second], first
		}
		if h == nil {
			writeError(w, http.StatusNotFound, "Record not found")
			return
		}
		r.SetPathValue("id", id)
		h(w, r, c)
	}
}

// withID runs h with the numeric {id}; anything else is not found.
func withID(h func(http.ResponseWriter, *http.Request, *Caller, int64)) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		id, ok := pathID(r, "id")
		if !ok {
			writeError(w, http.StatusNotFound, "Record not found")
			return
		}
		h(w, r, c, id)
	}
}

// withParams runs h with the request's parameters.
func withParams(h func(http.ResponseWriter, *http.Request, *Caller, int64, url.Values)) func(http.ResponseWriter, *http.Request, *Caller) {
	return withID(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64) {
		p, err := params(r)
		if err != nil {
			writeParamsError(w, err)
			return
		}
		h(w, r, c, id, p)
	})
}

// answer writes v, or the error.
func (a *API) answer(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// filterParams reads a v2 filter's parameters.
func filterParams(p url.Values) social.FilterParams {
	fp := social.FilterParams{Title: optString(p, "title"), Action: optString(p, "filter_action"), ExpiresIn: optString(p, "expires_in"),
		Keywords: keywordAttributes(p)}
	if _, ok := p["context[]"]; ok || p.Has("context") {
		fp.Context = append([]string{}, list(p, "context")...)
	}
	return fp
}

// keywordAttributes reads keywords_attributes as Rails does: indexed
// (keywords_attributes[0][keyword], and JSON arrays of objects), or
// keywords_attributes[][keyword] whose values pair up in order.
func keywordAttributes(p url.Values) []social.KeywordParams {
	byIndex := map[int]*social.KeywordParams{}
	get := func(i int) *social.KeywordParams {
		k := byIndex[i]
		if k == nil {
			k = &social.KeywordParams{}
			byIndex[i] = k
		}
		return k
	}
	for key, vs := range p {
		rest, ok := strings.CutPrefix(key, "keywords_attributes[")
		if !ok || len(vs) == 0 {
			continue
		}
		idx, attr, ok := strings.Cut(rest, "][")
		if !ok {
			continue
		}
		attr = strings.TrimSuffix(attr, "]")
		var slots []int
		if idx == "" {
			for i := range vs {
				slots = append(slots, i)
			}
		} else if n, err := strconv.Atoi(idx); err == nil && n >= 0 {
			slots = []int{n}
			vs = vs[:1]
		} else {
			continue
		}
		for j, i := range slots {
			v := vs[j]
			k := get(i)
			switch attr {
			case "id":
				k.ID, _ = strconv.ParseInt(v, 10, 64)
				if k.ID <= 0 {
					k.ID = -1 // names no keyword: not found
				}
			case "keyword":
				k.Keyword = &v
			case "whole_word":
				b := truthy(v)
				k.WholeWord = &b
			case "_destroy":
				k.Destroy = truthy(v)
			}
		}
	}
	indexes := make([]int, 0, len(byIndex))
	for i := range byIndex {
		indexes = append(indexes, i)
	}
	slices.Sort(indexes)
	out := make([]social.KeywordParams, 0, len(indexes))
	for _, i := range indexes {
		out = append(out, *byIndex[i])
	}
	return out
}

func (a *API) listFilters(w http.ResponseWriter, r *http.Request, c *Caller) {
	list, err := a.social.Filters(r.Context(), viewerID(c))
	out := make([]Filter, 0, len(list))
	for i := range list {
		out = append(out, filterEntity(&list[i]))
	}
	a.answer(w, r, out, err)
}

func (a *API) createFilter(w http.ResponseWriter, r *http.Request, c *Caller) {
	p, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	f, err := a.social.CreateFilter(r.Context(), viewerID(c), filterParams(p))
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, filterEntity(f))
}

func (a *API) getFilter(w http.ResponseWriter, r *http.Request, c *Caller) {
	withID(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64) {
		f, err := a.social.Filter(r.Context(), viewerID(c), id)
		if err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, filterEntity(f))
	})(w, r, c)
}

func (a *API) updateFilter(w http.ResponseWriter, r *http.Request, c *Caller) {
	withParams(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64, p url.Values) {
		f, err := a.social.UpdateFilter(r.Context(), viewerID(c), id, filterParams(p))
		if err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, filterEntity(f))
	})(w, r, c)
}

func (a *API) deleteFilter(w http.ResponseWriter, r *http.Request, c *Caller) {
	withID(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64) {
		a.answer(w, r, map[string]any{}, a.social.DeleteFilter(r.Context(), viewerID(c), id))
	})(w, r, c)
}

func (a *API) listFilterKeywords(w http.ResponseWriter, r *http.Request, c *Caller) {
	withID(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64) {
		f, err := a.social.Filter(r.Context(), viewerID(c), id)
		if err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, filterEntity(f).Keywords)
	})(w, r, c)
}

func keywordParams(p url.Values) social.KeywordParams {
	return social.KeywordParams{Keyword: optString(p, "keyword"), WholeWord: optBool(p, "whole_word")}
}

func (a *API) addFilterKeyword(w http.ResponseWriter, r *http.Request, c *Caller) {
	withParams(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64, p url.Values) {
		k, err := a.social.AddFilterKeyword(r.Context(), viewerID(c), id, keywordParams(p))
		if err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, filterKeyword(k))
	})(w, r, c)
}

func (a *API) getFilterKeyword(w http.ResponseWriter, r *http.Request, c *Caller) {
	withID(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64) {
		k, err := a.social.FilterKeyword(r.Context(), viewerID(c), id)
		if err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, filterKeyword(k))
	})(w, r, c)
}

func (a *API) updateFilterKeyword(w http.ResponseWriter, r *http.Request, c *Caller) {
	withParams(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64, p url.Values) {
		k, err := a.social.UpdateFilterKeyword(r.Context(), viewerID(c), id, keywordParams(p))
		if err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, filterKeyword(k))
	})(w, r, c)
}

func (a *API) deleteFilterKeyword(w http.ResponseWriter, r *http.Request, c *Caller) {
	withID(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64) {
		a.answer(w, r, map[string]any{}, a.social.DeleteFilterKeyword(r.Context(), viewerID(c), id))
	})(w, r, c)
}

func (a *API) listFilterStatuses(w http.ResponseWriter, r *http.Request, c *Caller) {
	withID(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64) {
		f, err := a.social.Filter(r.Context(), viewerID(c), id)
		if err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, filterEntity(f).Statuses)
	})(w, r, c)
}

func (a *API) addFilterStatus(w http.ResponseWriter, r *http.Request, c *Caller) {
	withParams(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64, p url.Values) {
		status, err := strconv.ParseInt(p.Get("status_id"), 10, 64)
		if err != nil || status <= 0 {
			writeValidation(w, "status_id", "ERR_INVALID", "must be a status you can see")
			return
		}
		fs, err := a.social.AddFilterStatus(r.Context(), viewerID(c), id, status)
		if err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, filterStatus(fs))
	})(w, r, c)
}

func (a *API) getFilterStatus(w http.ResponseWriter, r *http.Request, c *Caller) {
	withID(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64) {
		fs, err := a.social.FilterStatus(r.Context(), viewerID(c), id)
		if err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, filterStatus(fs))
	})(w, r, c)
}

func (a *API) deleteFilterStatus(w http.ResponseWriter, r *http.Request, c *Caller) {
	withID(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64) {
		a.answer(w, r, map[string]any{}, a.social.DeleteFilterStatus(r.Context(), viewerID(c), id))
	})(w, r, c)
}

func v1FilterParams(p url.Values) social.V1FilterParams {
	fp := social.V1FilterParams{Phrase: optString(p, "phrase"), Irreversible: optBool(p, "irreversible"), WholeWord: optBool(p, "whole_word"),
		ExpiresIn: optString(p, "expires_in")}
	if _, ok := p["context[]"]; ok || p.Has("context") {
		fp.Context = append([]string{}, list(p, "context")...)
	}
	return fp
}

func (a *API) listV1Filters(w http.ResponseWriter, r *http.Request, c *Caller) {
	list, err := a.social.V1Filters(r.Context(), viewerID(c))
	out := make([]V1Filter, 0, len(list))
	for i := range list {
		out = append(out, v1Filter(&list[i]))
	}
	a.answer(w, r, out, err)
}

func (a *API) createV1Filter(w http.ResponseWriter, r *http.Request, c *Caller) {
	p, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	f, err := a.social.CreateV1Filter(r.Context(), viewerID(c), v1FilterParams(p))
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v1Filter(f))
}

func (a *API) getV1Filter(w http.ResponseWriter, r *http.Request, c *Caller) {
	withID(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64) {
		f, err := a.social.V1Filter(r.Context(), viewerID(c), id)
		if err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v1Filter(f))
	})(w, r, c)
}

func (a *API) updateV1Filter(w http.ResponseWriter, r *http.Request, c *Caller) {
	withParams(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64, p url.Values) {
		f, err := a.social.UpdateV1Filter(r.Context(), viewerID(c), id, v1FilterParams(p))
		if err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v1Filter(f))
	})(w, r, c)
}

func (a *API) deleteV1Filter(w http.ResponseWriter, r *http.Request, c *Caller) {
	withID(func(w http.ResponseWriter, r *http.Request, c *Caller, id int64) {
		a.answer(w, r, map[string]any{}, a.social.DeleteFilterKeyword(r.Context(), viewerID(c), id))
	})(w, r, c)
}
