// Package api is the Mastodon client API and the OAuth endpoints apps call
// directly (token, revoke, metadata), plus NodeInfo. Handlers translate HTTP
// to calls on the services (accounts, oauth) and back to Mastodon's JSON
// entities; they hold no rules of their own.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/moderation"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/push"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// Deps are the services the API uses.
type Deps struct {
	Config   *config.Config
	Log      *slog.Logger
	Store    *store.Store
	Accounts *accounts.Service
	OAuth    *oauth.Service
	Social   *social.Service
	Media    *media.Service
	Push     *push.Service // nil: no Web Push
}

// API serves the client API.
type API struct {
	cfg      *config.Config
	log      *slog.Logger
	store    *store.Store
	accounts *accounts.Service
	oauth    *oauth.Service
	social   *social.Service
	media    *media.Service
	push     *push.Service
	// mod is the staff's actions (the admin API), built here from
	// the store and accounts: it needs nothing else.
	mod      *moderation.Service
	uploads  chan struct{} // uploads being read and processed at once
	instance instanceDocs
	requests requestLimits
	startup  startupState
}

// concurrentUploads bounds the uploads read and processed at once.
const concurrentUploads = 4

// New builds the API.
func New(d Deps) *API {
	return &API{cfg: d.Config, log: d.Log, store: d.Store, accounts: d.Accounts, oauth: d.OAuth, social: d.Social, media: d.Media, push: d.Push,
		mod:     moderation.New(d.Store, d.Accounts, d.Log),
		uploads: make(chan struct{}, concurrentUploads), instance: instanceDocs{now: time.Now}, requests: newRequestLimits(d.Config),
		startup: startupState{loadedAt: time.Now()}}
}

// Register mounts the API on mux, every route behind CORS.
func (a *API) Register(mux *http.ServeMux) {
	h := cors(a.limitRequests(a.routes()))
	for _, prefix := range paths {
		mux.Handle(prefix, h)
	}
}

// unrouted is the pattern of the API's answer to a path it does not serve.
const unrouted = "/api/"

// routes is the API's own mux: every route of the client API, and
// Mastodon's 404 for any other path under /api/.
func (a *API) routes() *http.ServeMux {
	api := http.NewServeMux()
	api.HandleFunc("POST /api/v1/apps", a.createApp)
	api.HandleFunc("GET /api/v1/apps/verify_credentials", a.auth(anyToken, a.verifyApp, "read", "write", "follow", "push", "profile"))
	api.HandleFunc("POST /oauth/token", a.token)
	api.HandleFunc("POST /oauth/revoke", a.revoke)
	api.HandleFunc("GET /.well-known/oauth-authorization-server", a.oauthMetadata)

	api.HandleFunc("POST /api/v1/accounts", a.auth(anyToken, a.register, "write:accounts"))
	api.HandleFunc("GET /api/v1/accounts/verify_credentials", a.auth(userToken, a.verifyCredentials, "read:accounts", "profile"))
	api.HandleFunc("PATCH /api/v1/accounts/update_credentials", a.auth(userToken, a.updateCredentials, "write:accounts"))
	api.HandleFunc("GET /api/v1/accounts/lookup", a.lookupAccount)
	api.HandleFunc("GET /api/v1/accounts/{id}", a.getAccount)
	api.HandleFunc("GET /api/v1/accounts/relationships", a.auth(userToken, a.relationships, "read:follows"))
	api.HandleFunc("GET /api/v1/accounts/search", a.auth(userToken, a.searchAccounts, "read:accounts"))
	api.HandleFunc("GET /api/v1/accounts/{id}/statuses", a.auth(optional, a.accountStatuses, "read:statuses"))
	api.HandleFunc("GET /api/v1/accounts/{id}/followers", a.auth(optional, a.relatedAccounts(store.Follows, true, false), "read:accounts"))
	api.HandleFunc("GET /api/v1/accounts/{id}/following", a.auth(optional, a.relatedAccounts(store.Follows, false, false), "read:accounts"))
	api.HandleFunc("POST /api/v1/accounts/{id}/follow", a.auth(userToken, a.relationAction(a.follow), "write:follows"))
	api.HandleFunc("POST /api/v1/accounts/{id}/unfollow", a.auth(userToken, a.relationAction(func(r *http.Request, c *Caller, id int64) error {
		return a.social.Unfollow(r.Context(), c.Account, id)
	}), "write:follows"))
	api.HandleFunc("POST /api/v1/accounts/{id}/block", a.auth(userToken, a.relationAction(func(r *http.Request, c *Caller, id int64) error {
		return a.social.Block(r.Context(), c.Account, id)
	}), "write:blocks"))
	api.HandleFunc("POST /api/v1/accounts/{id}/unblock", a.auth(userToken, a.relationAction(func(r *http.Request, c *Caller, id int64) error {
		return a.social.Unrelate(r.Context(), c.Account, store.Blocks, id)
	}), "write:blocks"))
	api.HandleFunc("POST /api/v1/accounts/{id}/mute", a.auth(userToken, a.relationAction(a.mute), "write:mutes"))
	api.HandleFunc("POST /api/v1/accounts/{id}/unmute", a.auth(userToken, a.relationAction(func(r *http.Request, c *Caller, id int64) error {
		return a.social.Unrelate(r.Context(), c.Account, store.Mutes, id)
	}), "write:mutes"))
	api.HandleFunc("GET /api/v1/follow_requests", a.auth(userToken, a.relatedAccounts(store.FollowRequests, true, true), "read:follows"))
	api.HandleFunc("POST /api/v1/follow_requests/{id}/authorize", a.auth(userToken, a.relationAction(func(r *http.Request, c *Caller, id int64) error {
		return a.social.AuthorizeFollow(r.Context(), c.Account, id)
	}), "write:follows"))
	api.HandleFunc("POST /api/v1/follow_requests/{id}/reject", a.auth(userToken, a.relationAction(func(r *http.Request, c *Caller, id int64) error {
		return a.social.RejectFollow(r.Context(), c.Account, id)
	}), "write:follows"))
	api.HandleFunc("GET /api/v1/blocks", a.auth(userToken, a.relatedAccounts(store.Blocks, false, true), "read:blocks"))
	api.HandleFunc("GET /api/v1/mutes", a.auth(userToken, a.relatedAccounts(store.Mutes, false, true), "read:mutes"))

	api.HandleFunc("POST /api/v1/statuses", a.auth(userToken, a.postStatus, "write:statuses"))
	api.HandleFunc("GET /api/v1/statuses/{id}", a.auth(optional, a.getStatus, "read:statuses"))
	api.HandleFunc("PUT /api/v1/statuses/{id}", a.auth(userToken, a.editStatus, "write:statuses"))
	api.HandleFunc("DELETE /api/v1/statuses/{id}", a.auth(userToken, a.deleteStatus, "write:statuses"))
	api.HandleFunc("GET /api/v1/statuses/{id}/source", a.auth(userToken, a.statusSource, "read:statuses"))
	api.HandleFunc("GET /api/v1/statuses/{id}/history", a.auth(optional, a.statusHistory, "read:statuses"))
	api.HandleFunc("GET /api/v1/statuses/{id}/context", a.auth(optional, a.statusContext, "read:statuses"))
	api.HandleFunc("GET /api/v1/statuses/{id}/favourited_by", a.auth(optional, a.statusAccounts(false), "read:accounts"))
	api.HandleFunc("GET /api/v1/statuses/{id}/reblogged_by", a.auth(optional, a.statusAccounts(true), "read:accounts"))
	actions := a.statusActionsFor()
	for action, scope := range map[string]string{"favourite": "write:favourites", "unfavourite": "write:favourites",
		"reblog": "write:statuses", "unreblog": "write:statuses", "bookmark": "write:bookmarks", "unbookmark": "write:bookmarks",
		"pin": "write:accounts", "unpin": "write:accounts"} {
		api.HandleFunc("POST /api/v1/statuses/{id}/"+action, a.auth(userToken, a.statusAction(actions[action]), scope))
	}
	api.HandleFunc("GET /api/v1/bookmarks", a.auth(userToken, a.markedStatuses(store.Bookmark), "read:bookmarks"))
	api.HandleFunc("GET /api/v1/favourites", a.auth(userToken, a.markedStatuses(store.Favourite), "read:favourites"))

	api.HandleFunc("GET /api/v1/timelines/home", a.auth(userToken, a.homeTimeline, "read:statuses"))
	api.HandleFunc("GET /api/v1/timelines/public", a.auth(optional, a.publicTimeline, "read:statuses"))
	api.HandleFunc("GET /api/v1/timelines/tag/{hashtag}", a.auth(optional, a.tagTimeline, "read:statuses"))

	api.HandleFunc("GET /api/v1/notifications", a.auth(userToken, a.notifications, "read:notifications"))
	api.HandleFunc("GET /api/v1/notifications/{id}", a.auth(userToken, a.notification, "read:notifications"))
	api.HandleFunc("POST /api/v1/notifications/clear", a.auth(userToken, a.clearNotifications, "write:notifications"))
	api.HandleFunc("POST /api/v1/notifications/{id}/dismiss", a.auth(userToken, a.dismissNotification, "write:notifications"))

	api.HandleFunc("GET /api/v2/search", a.auth(optional, a.search, "read:search"))

	api.HandleFunc("POST /api/v1/media", a.auth(userToken, a.upload(false), "write:media"))
	api.HandleFunc("POST /api/v2/media", a.auth(userToken, a.upload(true), "write:media"))
	api.HandleFunc("GET /api/v1/media/{id}", a.auth(userToken, a.getMedia, "write:media"))
	api.HandleFunc("PUT /api/v1/media/{id}", a.auth(userToken, a.updateMedia, "write:media"))

	api.HandleFunc("GET /api/v1/instance", a.instanceV1)
	api.HandleFunc("GET /api/v2/instance", a.instanceV2)
	api.HandleFunc("GET /.well-known/nodeinfo", a.nodeinfoLinks)
	api.HandleFunc("GET /nodeinfo/{version}", a.nodeinfo)

	a.registerStatusesMulti(api)
	a.registerEmojisAndAnnouncements(api)
	a.registerTags(api)
	a.registerStartup(api)
	a.registerPolls(api)
	a.registerNotificationGroups(api)
	a.registerScheduled(api)
	a.registerConversations(api)
	a.registerFilters(api)
	a.registerExtras(api)
	a.registerReports(api)
	a.registerLists(api)
	a.registerPush(api)
	api.HandleFunc(unrouted, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Record not found")
	})
	return api
}

// paths are the mux patterns the API answers: a pattern ending in "/" is a
// prefix, any other one path.
var paths = []string{"/api/", "/oauth/token", "/oauth/revoke", "/.well-known/", "/nodeinfo/"}

// IsPath reports whether the API answers path, so that an error there is
// Mastodon's JSON whoever raised it.
func IsPath(path string) bool {
	for _, p := range paths {
		if path == p || strings.HasSuffix(p, "/") && strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// cors lets browser apps on any origin call the API with bearer tokens.
// Credentials (cookies) are never allowed: the API authenticates by token
// only, so a page elsewhere cannot act as a signed-in visitor.
// Header values every API response carries. Set on each response as shared
// slices capped at their length (as httpsec does: Add then appends to a new
// array, Set replaces the slice), which saves the canonicalising and an
// allocation per header on the hottest path.
var (
	corsAnyOrigin   = []string{"*"}
	corsExposed     = []string{"Link, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, X-Request-Id"}
	jsonContentType = []string{"application/json; charset=utf-8"}
	noStore         = []string{"no-store"}
)

// setShared sets a canonical header key to one of the shared values above.
func setShared(h http.Header, canonicalKey string, v []string) { h[canonicalKey] = v[:len(v):len(v)] }

// CORS is cors for routes mounted outside the API's mux (streaming).
func CORS(next http.Handler) http.Handler { return cors(next) }

func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		setShared(h, "Access-Control-Allow-Origin", corsAnyOrigin)
		setShared(h, "Access-Control-Expose-Headers", corsExposed)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key")
			h.Set("Access-Control-Max-Age", "3600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	setShared(w.Header(), "Content-Type", jsonContentType)
	writeJSONStatus(w, status, v)
}

// writeJSONKeepType writes 200 with the Content-Type already set.
func writeJSONKeepType(w http.ResponseWriter, v any) { writeJSONStatus(w, http.StatusOK, v) }

// encodeJSON encodes v as writeJSON does, for a document kept and served later.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	setShared(w.Header(), "Cache-Control", noStore)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// WriteError answers Mastodon's error shape, {"error": "..."}: the API's own
// errors, and those the request path raises on the API's paths
// (server.Handlers.APIError).
func WriteError(w http.ResponseWriter, status int, msg string) { writeError(w, status, msg) }

// writeError answers Mastodon's error shape: {"error": "..."}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// writeRateLimited answers 429 with Retry-After in whole seconds.
func writeRateLimited(w http.ResponseWriter, limited *ratelimit.WaitError) {
	secs := strconv.Itoa(limited.Seconds())
	w.Header().Set("Retry-After", secs)
	writeError(w, http.StatusTooManyRequests, "Too many requests; try again in "+secs+" s")
}

// writeValidation answers 422 with Mastodon's per-field details.
func writeValidation(w http.ResponseWriter, field, code, desc string) {
	msg := "Validation failed: " + humanField(field) + " " + desc
	if field == "base" { // the record as a whole: Mastodon names no field
		msg = "Validation failed: " + desc
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"error": msg,
		"details": map[string]any{
			field: []map[string]string{{"error": code, "description": desc}},
		},
	})
}

func humanField(f string) string {
	f = strings.ReplaceAll(f, "_", " ")
	if f == "" {
		return f
	}
	return strings.ToUpper(f[:1]) + f[1:]
}

// serviceError maps service errors to responses; unknown errors are 500s
// that reveal nothing.
func (a *API) serviceError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *accounts.ValidationError
	var ae *oauth.ValidationError
	var tooLarge *bodyTooLargeError
	var limited *ratelimit.WaitError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
	case errors.As(err, &limited):
		writeRateLimited(w, limited)
	case errors.Is(err, accounts.ErrRegistrationsClosed):
		writeError(w, http.StatusForbidden, "Registrations are closed on this instance")
	case errors.As(err, &ve):
		writeValidation(w, ve.Field, ve.Code, ve.Msg)
	case errors.As(err, &ae):
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "Validation failed: " + ae.Msg})
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "Record not found")
	default:
		a.log.Error("api", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "Internal server error")
	}
}
