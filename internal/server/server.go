package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/rampart-social/rampart/internal/clientip"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/httpsec"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/safely"
)

// Handlers are what the server routes to.
type Handlers struct {
	App    http.Handler // the instance host
	Media  http.Handler // the media host
	Health http.Handler // /livez and /readyz, answered on any host for probes
	// ErrorPage renders the site's HTML page for an error a browser gets on
	// the instance host (nil: plain text).
	ErrorPage ErrorPage
	// IsAPI reports the paths of the client API, whose errors are always
	// Mastodon's JSON (nil: none).
	IsAPI func(path string) bool
	// APIError writes Mastodon's JSON error, as the API does (nil: plain text).
	APIError func(w http.ResponseWriter, status int, msg string)
}

// Handler assembles the request path: request log → client address → Host split → security
// layer → request framing → panic recovery → client-form errors → body cap → the origin's handler.
func Handler(cfg *config.Config, log *slog.Logger, sec *httpsec.Layer, h Handlers) http.Handler {
	hosts := NewHostRouter(cfg)
	errs := errorWriter{page: h.ErrorPage, json: h.APIError, isAPI: h.IsAPI}
	app := sec.App(refuseAmbiguousFraming(recoverPanics(log, clientErrors(errs, limitBody(errs, bodyLimit(cfg), h.App)))))
	mediaHost := sec.Media(refuseAmbiguousFraming(recoverPanics(log,
		limitBody(errorWriter{}, func(*http.Request) int64 { return int64(cfg.HTTP.MaxBodyBytes) }, h.Media))))
	misdirected := fmt.Sprintf("This server answers for %s (and its media host), not for the host this request named.", cfg.InstanceURL().Host)
	other := sec.App(refuseAmbiguousFraming(recoverPanics(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/livez" || r.URL.Path == "/readyz":
			h.Health.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/static/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			// The public assets, so that the 421 page a browser gets here is styled.
			clientErrors(errs, h.App).ServeHTTP(w, r)
		default:
			errs.write(w, r, http.StatusMisdirectedRequest, misdirected)
		}
	}))))
	return logRequests(log, hosts, clientip.Middleware(cfg.TrustedProxies(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch hosts.Classify(r.Host) {
		case OriginApp:
			app.ServeHTTP(w, r)
		case OriginMedia:
			mediaHost.ServeHTTP(w, r)
		default:
			other.ServeHTTP(w, r)
		}
	})))
}

// uploadRoutes take media-sized bodies; every other route the small default.
var uploadRoutes = map[string]bool{
	"POST /api/v1/media":                        true,
	"POST /api/v2/media":                        true,
	"PATCH /api/v1/accounts/update_credentials": true,
	"POST /settings/profile":                    true, // the settings page's avatar and header (internal/web/settings.go)
}

// bodyLimit is the one table of request body caps per route class.
func bodyLimit(cfg *config.Config) func(*http.Request) int64 {
	small, upload := int64(cfg.HTTP.MaxBodyBytes), media.MaxBytes(cfg)
	return func(r *http.Request) int64 {
		// Only a multipart body carries a file; JSON or a form on the same
		// route gets the small cap. The type is parsed as the handlers parse
		// it: a Content-Type that only begins like multipart
		// ("multipart/form-data,x") parses as none, which the API reads
		// whole as a form without an upload slot.
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); uploadRoutes[r.Method+" "+r.URL.Path] && ct == "multipart/form-data" {
			return upload
		}
		return small
	}
}

// NewHTTPServer applies the configured timeouts and header limit.
func NewHTTPServer(cfg *config.Config, log *slog.Logger, handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout.D(),
		ReadTimeout:       cfg.HTTP.ReadTimeout.D(),
		WriteTimeout:      cfg.HTTP.WriteTimeout.D(),
		IdleTimeout:       cfg.HTTP.IdleTimeout.D(),
		MaxHeaderBytes:    int(cfg.HTTP.MaxHeaderBytes),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ConnContext:       withFraming,
		ConnState:         stopFramingWhenHijacked,
		// "OPTIONS *" goes to Rampart's handler like any request, so that its
		// answer carries the security headers.
		DisableGeneralOptionsHandler: true,
	}
}

// Serve runs srv on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish within http.shutdown_timeout and
// returns nil on a clean stop.
func Serve(ctx context.Context, cfg *config.Config, log *slog.Logger, srv *http.Server, ln net.Listener) error {
	framed := framingListener{Listener: ln, maxHeaderBytes: srv.MaxHeaderBytes}
	errc := safely.NewGroup(log).Go("serving HTTP", func() error { return srv.Serve(framed) })
	log.Info("listening", "addr", describeAddr(ln), "instance", cfg.InstanceURL().String(), "media", cfg.MediaOrigin().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: no new connections; waiting for in-flight requests", "bound", cfg.HTTP.ShutdownTimeout.D().String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout.D())
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: requests still running after %s were cut off: %w", cfg.HTTP.ShutdownTimeout.D(), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func describeAddr(ln net.Listener) string {
	a := ln.Addr()
	if a.Network() == "unix" {
		return config.UnixPrefix + a.String()
	}
	return strings.TrimPrefix(a.String(), "tcp:")
}
