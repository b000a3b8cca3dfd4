package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rampart-social/rampart/internal/store"
)

// List sizes, as Mastodon's: statuses 20 by default, at most 40; accounts
// and notifications 40 by default, at most 80.
const (
	defaultLimit  = 20
	statusLimit   = 40
	accountsLimit = 80
)

// defaultFor is the default page size for a list whose maximum is max.
func defaultFor(max int) int {
	if max == accountsLimit {
		return 40
	}
	return defaultLimit
}

// pageFrom reads max_id, since_id, min_id and limit. A cursor that is not a
// number is ignored; a limit beyond max is clamped.
func pageFrom(r *http.Request, max int) store.Page {
	q := r.URL.Query()
	num := func(k string) int64 {
		n, err := strconv.ParseInt(q.Get(k), 10, 64)
		if err != nil || n < 0 {
			return 0
		}
		return n
	}
	limit := int(num("limit"))
	if limit <= 0 {
		limit = defaultFor(max)
	}
	return store.Page{MaxID: num("max_id"), SinceID: num("since_id"), MinID: num("min_id"), Limit: min(limit, max)}
}

// setLink writes the Link header for a page whose items have these cursors
// (newest first): next (older) from the last, prev (newer) from the first.
// The last page — fewer items than asked for — has no next.
func (a *API) setLink(w http.ResponseWriter, r *http.Request, p store.Page, cursors []int64) {
	if len(cursors) == 0 {
		return
	}
	base := a.cfg.InstanceURL().String() + r.URL.Path
	q := r.URL.Query()
	for _, k := range []string{"max_id", "since_id", "min_id", "access_token"} {
		q.Del(k)
	}
	link := func(key string, v int64, rel string) string {
		qq := url.Values{}
		for k, vs := range q {
			qq[k] = vs
		}
		qq.Set(key, strconv.FormatInt(v, 10))
		return "<" + base + "?" + qq.Encode() + `>; rel="` + rel + `"`
	}
	var parts []string
	if len(cursors) >= p.Limit {
		parts = append(parts, link("max_id", cursors[len(cursors)-1], "next"))
	}
	parts = append(parts, link("min_id", cursors[0], "prev"))
	w.Header().Set("Link", strings.Join(parts, ", "))
}

// pathID reads a numeric {id}; anything else is not found.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// ids reads id[] (or id) query values as numbers, skipping others.
func idList(r *http.Request, key string) []int64 {
	var out []int64
	q := r.URL.Query()
	for _, v := range append(q[key+"[]"], q[key]...) {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}
