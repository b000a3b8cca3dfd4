// Package safely is the one way Rampart runs work that must not take the
// process down. A panic in a goroutine that nothing recovers ends the whole
// server (and, under systemd, every restart with it if the same input comes
// back), so every goroutine Rampart starts goes through Group.Go, and work on
// untrusted bytes can go through Do: a panic is recovered, logged at ERROR
// with its stack, and returned as a *PanicError so the caller can mark its
// work failed.
package safely

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
)

// PanicError is a recovered panic. Its message is safe to show a user: it
// names the work, not the panic's value or stack (those go to the log).
type PanicError struct {
	Work  string
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return "internal error in " + e.Work }

// Do calls fn and turns a panic in it into a *PanicError, logged at ERROR
// with the stack. work names what fn does, for the log and the error.
func Do(log *slog.Logger, work string, fn func() error) (err error) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		pe := &PanicError{Work: work, Value: v, Stack: debug.Stack()}
		log.Error("recovered panic", "work", work, "panic", fmt.Sprint(v), "stack", string(pe.Stack))
		err = pe
	}()
	return fn()
}

// Group runs goroutines that recover from panics and can be waited for.
// The zero value is not usable: build one with NewGroup.
type Group struct {
	log *slog.Logger
	wg  sync.WaitGroup
}

// NewGroup returns a group that logs to log.
func NewGroup(log *slog.Logger) *Group { return &Group{log: log} }

// Go runs fn in a new goroutine. A panic is recovered and logged (see Do).
// fn's result — nil, its error, or the *PanicError — is sent on the
// returned channel, which has room for it, so a caller that does not care
// may drop the channel; errors fn expects are fn's (or the caller's) to log.
func (g *Group) Go(work string, fn func() error) <-chan error {
	done := make(chan error, 1)
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		done <- Do(g.log, work, fn)
	}()
	return done
}

// Wait blocks until every goroutine started by Go has returned.
func (g *Group) Wait() { g.wg.Wait() }
