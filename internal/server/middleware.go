package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"
)

type ctxKey int

const requestIDKey ctxKey = iota

// RequestID returns the id given to the request being served ("" outside one).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// statusWriter remembers the status and size for the log line.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection over (a WebSocket's handshake, which writes
// its 101 on the connection itself) and logs it as 101.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

// logRequests gives each request an id and writes one log line when it ends:
// method, path without query (queries can carry tokens), status, duration.
func logRequests(log *slog.Logger, hosts HostRouter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("origin", hosts.Classify(r.Host).String()),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("request_id", id),
		)
	})
}

// recoverPanics turns a handler panic into a 500 and a log line with the
// stack. It sits inside the security layer, so the 500 carries its headers.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v) // the handler asked to abort the connection
			}
			log.Error("handler panic", "request_id", RequestID(r.Context()), "path", r.URL.Path,
				"panic", v, "stack", string(debug.Stack()))
			http.Error(w, "Internal Server Error (request "+RequestID(r.Context())+")", http.StatusInternalServerError)
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies; reading past the cap fails and the handler
// answers 413. A declared length over the cap is answered here, in the
// client's form (errs).
func limitBody(errs errorWriter, limit func(*http.Request) int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		max := limit(r)
		if r.ContentLength > max {
			errs.write(w, r, http.StatusRequestEntityTooLarge, "The request body is too large: at most "+strconv.FormatInt(max, 10)+" bytes are accepted here.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}
