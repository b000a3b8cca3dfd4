package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/rampart-social/rampart/internal/clientip"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/store"
)

// requestLimiterKeys bounds the keys each request limiter holds; past it,
// the oldest window is forgotten (ratelimit.Limiter), so memory stays fixed.
const requestLimiterKeys = 100_000

// requestLimits are the per-process request limits of limits.api_requests
// (per access token) and limits.api_requests_anonymous (per address).
type requestLimits struct {
	perToken, perAddress *ratelimit.Limiter // nil: off
}

func newRequestLimits(cfg *config.Config) requestLimits {
	var l requestLimits
	if n := cfg.Limits.APIRequests; n > 0 {
		l.perToken = ratelimit.New(n, config.APIRequestsWindow, requestLimiterKeys)
	}
	if n := cfg.Limits.APIRequestsAnonymous; n > 0 {
		l.perAddress = ratelimit.New(n, config.APIRequestsWindow, requestLimiterKeys)
	}
	return l
}

// limitRequests counts every API request against its token's (or, without
// one, its address's) allowance, refuses it with 429 past the limit, and has
// every answer carry X-RateLimit-*: those of the tightest limit the request's
// work took from (an account's posting limit, say), else the request limit's.
// A bearer value that is no token counts under itself and, with the
// anonymous limit on, under its address too (one lookup, which auth then
// reuses): the routes that need no token would serve it otherwise.
func (a *API) limitRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lim, key := a.requests.perAddress, ratelimit.AddressKey(clientip.From(r.Context()))
		if tok := bearer(r); tok != "" {
			lim, key = a.requests.perToken, tok
		}
		ctx, report := ratelimit.WithReport(r.Context())
		qw := &quotaWriter{ResponseWriter: w, report: report}
		if lim != nil {
			q, wait := lim.TakeQuota(key)
			qw.quota, qw.limited = q, true
			if wait > 0 {
				writeRateLimited(qw, &ratelimit.WaitError{What: "requests", RetryAfter: wait})
				return
			}
		}
		if tok := bearer(r); tok != "" && a.requests.perAddress != nil {
			// A value that is no token is no token's allowance: the
			// request is the address's. Without this, a new made-up value
			// per request would be a fresh allowance each time, and the
			// routes that need no token serve it whatever it says. The
			// lookup is auth's own, kept in the context for it.
			lk := &bearerLookup{raw: tok}
			lk.tok, lk.app, lk.lu, lk.err = a.oauth.Bearer(ctx, tok)
			if errors.Is(lk.err, oauth.ErrInvalidToken) {
				q, wait := a.requests.perAddress.TakeQuota(ratelimit.AddressKey(clientip.From(r.Context())))
				qw.quota, qw.limited = q, true
				if wait > 0 {
					writeRateLimited(qw, &ratelimit.WaitError{What: "requests", RetryAfter: wait})
					return
				}
			}
			ctx = context.WithValue(ctx, bearerLookupKey{}, lk)
		}
		next.ServeHTTP(qw, r.WithContext(ctx))
	})
}

// bearerLookup is limitRequests' lookup of a request's bearer value, which
// auth uses rather than looking the token up again.
type bearerLookup struct {
	raw string
	tok *store.Token
	app *store.App
	lu  *store.LocalUser
	err error
}

type bearerLookupKey struct{}

// lookUpBearer is a.oauth.Bearer(raw), from limitRequests' lookup when it
// made one for this value.
func (a *API) lookUpBearer(r *http.Request, raw string) (*store.Token, *store.App, *store.LocalUser, error) {
	if lk, ok := r.Context().Value(bearerLookupKey{}).(*bearerLookup); ok && lk.raw == raw {
		return lk.tok, lk.app, lk.lu, lk.err
	}
	return a.oauth.Bearer(r.Context(), raw)
}

// quotaWriter sets the X-RateLimit headers just before the answer's head
// goes out, when every limit the request took from has reported.
type quotaWriter struct {
	http.ResponseWriter
	report  *ratelimit.Report
	quota   ratelimit.Quota
	limited bool
	wrote   bool
}

func (w *quotaWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		q, ok := w.report.Quota()
		if !ok && w.limited {
			q, ok = w.quota, true
		}
		if ok {
			h := w.Header()
			h.Set("X-RateLimit-Limit", strconv.Itoa(q.Limit))
			h.Set("X-RateLimit-Remaining", strconv.Itoa(q.Remaining))
			h.Set("X-RateLimit-Reset", q.Reset.UTC().Format(time.RFC3339Nano))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *quotaWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *quotaWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
