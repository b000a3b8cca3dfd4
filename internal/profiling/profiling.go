// Package profiling serves Go's runtime profiles (net/http/pprof) on a
// listener of their own, never the app's, when debug.pprof_listen is set.
// The config accepts only loopback addresses for it, and warns about it in
// prod: it is for explaining a slow endpoint, on the machine, for a while.
package profiling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof" // its init also registers on http.DefaultServeMux, which Rampart never serves
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/safely"
)

// maxProfileTime bounds a CPU or delta profile: the server's write timeout
// must outlast the longest ?seconds= a caller may ask for.
const maxProfileTime = 2 * time.Minute

// Handler serves the profiles under /debug/pprof/, to requests that name
// a loopback host only: a web page elsewhere that points its own name at
// 127.0.0.1 (DNS rebinding) gets 421, not the profiles.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !config.IsLoopbackHost(strings.Trim(host, "[]")) {
			http.Error(w, "the profiler answers only to a loopback host", http.StatusMisdirectedRequest)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Listener is an open profiling listener.
type Listener struct {
	ln  net.Listener
	log *slog.Logger
}

// Listen opens addr (a loopback host:port, as config validated it).
func Listen(addr string, log *slog.Logger) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug.pprof_listen: %w", err)
	}
	return &Listener{ln: ln, log: log}, nil
}

// Addr is where the profiles are served.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Serve answers until ctx ends, then closes the listener and any profile in
// progress.
func (l *Listener) Serve(ctx context.Context) error {
	srv := &http.Server{Handler: Handler(), ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout: maxProfileTime + 30*time.Second, IdleTimeout: time.Minute}
	l.log.Warn("profiling listener on: Go's profiler answers on loopback", "addr", l.ln.Addr().String())
	errc := safely.NewGroup(l.log).Go("serving profiles", func() error { return srv.Serve(l.ln) })
	select {
	case err := <-errc:
		return fmt.Errorf("profiling listener: %w", err)
	case <-ctx.Done():
	}
	srv.Close()
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("profiling listener: %w", err)
	}
	return nil
}

// Close releases the listener of a Listener that will not Serve.
func (l *Listener) Close() error { return l.ln.Close() }
