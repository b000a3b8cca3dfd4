package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
}

// Handler assembles the request path: request log → client address → Host split → security
// layer → panic recovery → body cap → the origin's handler.
func Handler(cfg *config.Config, log *slog.Logger, sec *httpsec.Layer, h Handlers) http.Handler {
	hosts := NewHostRouter(cfg)
	app := sec.App(recoverPanics(log, limitBody(bodyLimit(cfg), h.App)))
	mediaHost := sec.Media(recoverPanics(log, limitBody(func(*http.Request) int64 { return int64(cfg.HTTP.MaxBodyBytes) }, h.Media)))
	other := sec.App(recoverPanics(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/livez" || r.URL.Path == "/readyz" {
			h.Health.ServeHTTP(w, r)
			return
		}
		http.Error(w, fmt.Sprintf("Misdirected Request: this server answers for %s (and its media host), not for the host this request named",
			cfg.InstanceURL().Host), http.StatusMisdirectedRequest)
	})))
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
}

// bodyLimit is the one table of request body caps per route class.
func bodyLimit(cfg *config.Config) func(*http.Request) int64 {
	small, upload := int64(cfg.HTTP.MaxBodyBytes), media.MaxBytes(cfg)
	return func(r *http.Request) int64 {
		// Only a multipart body carries a file; JSON or a form on the same route gets the small cap.
		if uploadRoutes[r.Method+" "+r.URL.Path] && strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/form-data") {
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
	}
}

// Serve runs srv on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish within http.shutdown_timeout and
// returns nil on a clean stop.
func Serve(ctx context.Context, cfg *config.Config, log *slog.Logger, srv *http.Server, ln net.Listener) error {
	errc := safely.NewGroup(log).Go("serving HTTP", func() error { return srv.Serve(ln) })
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
