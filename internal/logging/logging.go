// Package logging builds the process logger: JSON in prod (for journald and
// log shippers), text in dev (for people), at the configured level.
package logging

import (
	"io"
	"log/slog"

	"github.com/rampart-social/rampart/internal/config"
)

// New returns the logger for cfg, writing to w through a batching writer,
// and the function that writes what is still pending and stops it: call it
// before the process exits.
func New(cfg *config.Config, w io.Writer) (*slog.Logger, func()) {
	bw := newBatchWriter(w)
	return newLogger(cfg, bw), func() { _ = bw.Close() }
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.Log.Format
	if format == "" {
		format = "json"
		if cfg.IsDev() {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
