package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/rampart-social/rampart/internal/clientip"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/ratelimit"
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
// A bearer value that is no token still counts under itself: it is answered
// 401 by auth at the cost of one lookup, as without this limit.
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
		next.ServeHTTP(qw, r.WithContext(ctx))
	})
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
