package api

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/text"
)

// The "start-up set": what apps call when they open an account.
// Preferences and markers are the caller's; the instance's rules, peers,
// activity and descriptions are public; trends and suggestions are the
// admin's choice ([discovery]), empty lists while off.

func (a *API) registerStartup(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/preferences", a.auth(userToken, a.preferences, "read:accounts"))
	mux.HandleFunc("GET /api/v1/markers", a.auth(userToken, a.markers, "read:statuses"))
	mux.HandleFunc("POST /api/v1/markers", a.auth(userToken, a.saveMarkers, "write:statuses"))

	mux.HandleFunc("GET /api/v1/instance/rules", a.instanceRules)
	mux.HandleFunc("GET /api/v1/instance/peers", a.instancePeers)
	mux.HandleFunc("GET /api/v1/instance/activity", a.instanceActivity)
	mux.HandleFunc("GET /api/v1/instance/extended_description", a.extendedDescription)
	mux.HandleFunc("GET /api/v1/instance/translation_languages", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string][]string{}) // no translation service
	})

	mux.HandleFunc("GET /api/v1/trends", a.trendingTags) // Mastodon's older name for trends/tags
	mux.HandleFunc("GET /api/v1/trends/tags", a.trendingTags)
	mux.HandleFunc("GET /api/v1/trends/statuses", a.auth(optional, a.trendingStatuses, "read", "read:statuses"))
	mux.HandleFunc("GET /api/v1/trends/links", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []struct{}{}) // no link previews are fetched, so no links trend
	})
	mux.HandleFunc("GET /api/v2/suggestions", a.auth(userToken, a.suggestions(true), "read", "read:accounts"))
	mux.HandleFunc("GET /api/v1/suggestions", a.auth(userToken, a.suggestions(false), "read", "read:accounts")) // deprecated: accounts only
	// Mastodon's documentation asks "read" for the removal; its code asks
	// write:accounts. Either is accepted.
	mux.HandleFunc("DELETE /api/v1/suggestions/{account_id}", a.auth(userToken, a.dismissSuggestion, "read", "write", "write:accounts"))
}

// startupState is the API's state for the start-up set.
type startupState struct {
	// loadedAt stands for when the config was loaded (the API was built):
	// extended_description's updated_at.
	loadedAt time.Time

	mu   sync.Mutex
	docs map[string]cachedDoc // peers, activity
}

type cachedDoc struct {
	builtAt time.Time
	body    []byte
}

// publicDocMaxAge is how stale the peers and activity documents may be:
// they need no token, so each is built from the store at most this often.
const publicDocMaxAge = 10 * time.Minute

// servePublicDoc serves a document built by build at most once per
// publicDocMaxAge (concurrent callers wait for the one build).
func (a *API) servePublicDoc(w http.ResponseWriter, r *http.Request, name string, build func(ctx context.Context) (any, error)) {
	s := &a.startup
	s.mu.Lock()
	now := a.instance.now()
	d, ok := s.docs[name]
	if !ok || now.Sub(d.builtAt) >= publicDocMaxAge || now.Before(d.builtAt) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
		v, err := build(ctx)
		cancel()
		var body []byte
		if err == nil {
			body, err = encodeJSON(v)
		}
		if err != nil {
			s.mu.Unlock()
			a.serviceError(w, r, err)
			return
		}
		if s.docs == nil {
			s.docs = map[string]cachedDoc{}
		}
		d = cachedDoc{builtAt: now, body: body}
		s.docs[name] = d
	}
	s.mu.Unlock()
	h := w.Header()
	setShared(h, "Content-Type", jsonContentType)
	setShared(h, "Cache-Control", noStore)
	h.Set("Content-Length", strconv.Itoa(len(d.body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(d.body)
}

// preferences is Mastodon's Preferences: the posting defaults the account
// keeps (update_credentials' source), and the reading ones Rampart does not
// store, at Mastodon's defaults.
func (a *API) preferences(w http.ResponseWriter, r *http.Request, c *Caller) {
	var lang *string
	if c.User.DefaultLanguage != "" {
		l := c.User.DefaultLanguage
		lang = &l
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"posting:default:visibility": c.User.DefaultPrivacy,
		"posting:default:sensitive":  c.User.DefaultSensitive,
		"posting:default:language":   lang,
		"reading:expand:media":       "default",
		"reading:expand:spoilers":    false,
	})
}

// Marker is Mastodon's Marker entity.
type Marker struct {
	LastReadID string `json:"last_read_id"`
	Version    int64  `json:"version"`
	UpdatedAt  string `json:"updated_at"`
}

func markerEntities(ms map[string]store.Marker) map[string]Marker {
	out := make(map[string]Marker, len(ms))
	for name, m := range ms {
		out[name] = Marker{LastReadID: idString(m.LastReadID), Version: m.Version, UpdatedAt: timestamp(m.UpdatedAt)}
	}
	return out
}

// markers answers the timelines asked for (timeline[]) that have a marker:
// {} for none, as Mastodon answers.
func (a *API) markers(w http.ResponseWriter, r *http.Request, c *Caller) {
	ms, err := a.social.Markers(r.Context(), c.Account.ID, list(r.URL.Query(), "timeline"))
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, markerEntities(ms))
}

// saveMarkers saves home[last_read_id] and notifications[last_read_id]
// (form or JSON) and answers the markers saved.
func (a *API) saveMarkers(w http.ResponseWriter, r *http.Request, c *Caller) {
	v, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	last := map[string]int64{}
	for _, name := range store.MarkerTimelines {
		key := name + "[last_read_id]"
		if _, ok := v[key]; !ok {
			continue
		}
		id, err := strconv.ParseInt(v.Get(key), 10, 64)
		if err != nil || id < 0 {
			writeValidation(w, "last_read_id", "ERR_INVALID", "is not an id")
			return
		}
		last[name] = id
	}
	ms, err := a.social.SaveMarkers(r.Context(), c.Account.ID, last)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, markerEntities(ms))
}

// Rule is Mastodon's Rule entity.
type Rule struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	Hint string `json:"hint"`
}

// rules are instance.rules as entities, ids counting from 1 in order: the
// same list in /instance/rules and in both instance documents.
func (a *API) rules() []Rule {
	out := make([]Rule, 0, len(a.cfg.Instance.Rules))
	for i, t := range a.cfg.Instance.Rules {
		out = append(out, Rule{ID: strconv.Itoa(i + 1), Text: t, Hint: ""})
	}
	return out
}

func (a *API) instanceRules(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.rules())
}

func (a *API) instancePeers(w http.ResponseWriter, r *http.Request) {
	a.servePublicDoc(w, r, "peers", func(ctx context.Context) (any, error) { return a.store.Peers(ctx) })
}

// activityWeeks is how many weeks /instance/activity reports, as Mastodon.
const activityWeeks = 12

// instanceActivity is Mastodon's weekly activity, newest week first: the
// weeks start on Monday 00:00 UTC, the current one included; every figure
// a string.
func (a *API) instanceActivity(w http.ResponseWriter, r *http.Request) {
	a.servePublicDoc(w, r, "activity", func(ctx context.Context) (any, error) {
		today := a.instance.now().UTC().Truncate(24 * time.Hour)
		monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
		starts := make([]time.Time, activityWeeks)
		for i := range starts {
			starts[i] = monday.AddDate(0, 0, -7*(activityWeeks-1-i))
		}
		weeks, err := a.store.Activity(ctx, starts)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]string, 0, len(weeks))
		for i := len(weeks) - 1; i >= 0; i-- {
			wk := weeks[i]
			out = append(out, map[string]string{"week": strconv.FormatInt(wk.Week.Unix(), 10),
				"statuses": strconv.FormatInt(wk.Statuses, 10), "logins": strconv.FormatInt(wk.Logins, 10),
				"registrations": strconv.FormatInt(wk.Registrations, 10)})
		}
		return out, nil
	})
}

// extendedDescription is instance.extended_description as escaped
// paragraphs (plain text: no markup from the config reaches a client).
func (a *API) extendedDescription(w http.ResponseWriter, r *http.Request) {
	var updated *string
	content := text.NoteHTML(a.cfg.Instance.ExtendedDescription)
	if content != "" {
		at := timestamp(a.startup.loadedAt)
		updated = &at
	}
	writeJSON(w, http.StatusOK, map[string]any{"updated_at": updated, "content": content})
}

// Trend list sizes, as Mastodon's: tags 10 by default and at most 20,
// statuses 20 and 40.
const (
	trendTagsDefault, trendTagsMax         = 10, 20
	trendStatusesDefault, trendStatusesMax = 20, 40
)

// offsetPage reads offset and limit (Mastodon pages trends by offset).
func offsetPage(r *http.Request, def, most int) (offset, limit int) {
	q := r.URL.Query()
	offset, _ = strconv.Atoi(q.Get("offset"))
	limit, _ = strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = def
	}
	return min(max(offset, 0), 10000), min(limit, most)
}

// setOffsetLink writes the Link header of an offset-paged list: next when
// the page is full, prev when it did not start at 0.
func (a *API) setOffsetLink(w http.ResponseWriter, r *http.Request, offset, limit, n int) {
	base := a.cfg.InstanceURL().String() + r.URL.Path
	link := func(off int, rel string) string {
		q := r.URL.Query()
		q.Del("access_token")
		q.Set("offset", strconv.Itoa(off))
		return "<" + base + "?" + q.Encode() + `>; rel="` + rel + `"`
	}
	var parts []string
	if n >= limit {
		parts = append(parts, link(offset+n, "next"))
	}
	if offset > 0 {
		parts = append(parts, link(max(offset-limit, 0), "prev"))
	}
	if len(parts) > 0 {
		w.Header().Set("Link", joinLinks(parts))
	}
}

func joinLinks(parts []string) string {
	out := parts[0]
	for _, p := range parts[1:] {
		out += ", " + p
	}
	return out
}

func (a *API) trendingTags(w http.ResponseWriter, r *http.Request) {
	offset, limit := offsetPage(r, trendTagsDefault, trendTagsMax)
	tags, err := a.social.TrendingTags(r.Context(), offset, limit)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	base := a.cfg.InstanceURL().String()
	out := make([]Tag, 0, len(tags))
	for _, t := range tags {
		e := Tag{Name: t.Name, URL: base + "/tags/" + t.Name, History: make([]TagHistory, 0, len(t.History))}
		for _, d := range t.History {
			e.History = append(e.History, TagHistory{Day: strconv.FormatInt(d.Day.Unix(), 10),
				Uses: strconv.FormatInt(d.Uses, 10), Accounts: strconv.FormatInt(d.Accounts, 10)})
		}
		out = append(out, e)
	}
	a.setOffsetLink(w, r, offset, limit, len(out))
	writeJSON(w, http.StatusOK, out)
}

func (a *API) trendingStatuses(w http.ResponseWriter, r *http.Request, c *Caller) {
	offset, limit := offsetPage(r, trendStatusesDefault, trendStatusesMax)
	ids, err := a.social.TrendingStatuses(r.Context(), viewerID(c), offset, limit)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	list, err := a.renderStatuses(r.Context(), viewerID(c), ids)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	a.setOffsetLink(w, r, offset, limit, len(ids))
	writeJSON(w, http.StatusOK, list)
}

// Suggestion is Mastodon's Suggestion entity (v2): source is the 4.2
// field, sources the 4.3 one.
type Suggestion struct {
	Source  string   `json:"source"`
	Sources []string `json:"sources"`
	Account Account  `json:"account"`
}

// suggestionsLimit: Mastodon's v2 suggestions give 40 by default, at most 80.
const suggestionsDefault, suggestionsMax = 40, 80

// suggestions answers v2's Suggestion entities, or v1's bare accounts.
func (a *API) suggestions(v2 bool) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) { a.writeSuggestions(w, r, c, v2) }
}

func (a *API) writeSuggestions(w http.ResponseWriter, r *http.Request, c *Caller, v2 bool) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 {
		limit = suggestionsDefault
	}
	sg, err := a.social.Suggestions(r.Context(), c.Account.ID, min(limit, suggestionsMax))
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	ids := make([]int64, len(sg))
	for i, s := range sg {
		ids[i] = s.AccountID
	}
	accs, err := a.renderAccounts(r.Context(), ids)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	if !v2 {
		writeJSON(w, http.StatusOK, accs)
		return
	}
	byID := make(map[string]Account, len(accs))
	for _, acc := range accs {
		byID[acc.ID] = acc
	}
	out := make([]Suggestion, 0, len(sg))
	for _, s := range sg {
		acc, ok := byID[idString(s.AccountID)]
		if !ok {
			continue
		}
		e := Suggestion{Source: "global", Sources: []string{"most_followed"}, Account: acc}
		if s.FriendsOfFriends > 0 {
			e.Source, e.Sources = "past_interactions", []string{"friends_of_friends"}
		}
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, out)
}

// dismissSuggestion answers {} as Mastodon does; an unknown id is 404.
func (a *API) dismissSuggestion(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "account_id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	if err := a.social.DismissSuggestion(r.Context(), c.Account.ID, id); err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
