package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL's LISTEN/NOTIFY, for what several processes sharing one
// database must hear of at once (the streaming events). The store offers the
// two primitives only; what crosses, and in what form, is its caller's.

// errNotPostgres: LISTEN/NOTIFY are PostgreSQL's alone.
var errNotPostgres = errors.New("LISTEN/NOTIFY need PostgreSQL")

// ListenerName is the application_name of a listening connection, so that
// pg_stat_activity tells it from the pools' connections.
const ListenerName = "rampart listener"

// Notify sends payloads on channel (pg_notify). Several are sent in one
// transaction: every listener gets all of them, together and in order, or
// none. A payload must be shorter than 8000 bytes (the server refuses it
// otherwise), and PostgreSQL delivers a payload repeated within one
// transaction once only.
func (s *Store) Notify(ctx context.Context, channel string, payloads ...string) error {
	if s.dialect != dialectPostgres {
		return errNotPostgres
	}
	// The writer's *sql.DB itself: a notification takes no write lock
	// (lockWrites) and is not one of the statements the store counts.
	db := s.write.db
	if len(payloads) == 1 {
		if _, err := db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, payloads[0]); err != nil {
			return fmt.Errorf("notify %s: %w", channel, pgError(err))
		}
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("notify %s: %w", channel, pgError(err))
	}
	defer tx.Rollback()
	for _, p := range payloads {
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, p); err != nil {
			return fmt.Errorf("notify %s: %w", channel, pgError(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("notify %s: %w", channel, pgError(err))
	}
	return nil
}

// Listening backs off between attempts to listen again, from listenRetryMin
// doubling to listenRetryMax; a connection that listened resets it.
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 10 * time.Second
)

// A listening connection that has heard nothing for listenIdle is pinged,
// within listenPing: a connection the network dropped without a word would
// otherwise wait for ever.
const (
	listenIdle = 30 * time.Second
	listenPing = 10 * time.Second
)

// Listen holds one connection LISTENing on channel until ctx ends, and calls
// handle with each payload, in the order the server delivers them (commit
// order, across every process on the database). listening is called each
// time the connection is listening: at first, and again after a lost
// connection was replaced. Notifications sent while no connection listened
// are not delivered: the gap is logged. handle and listening run on
// Listen's goroutine, so they must not wait on anything slow. It returns
// nil when ctx ends; on SQLite, an error at once.
//
// The connection is one of the reader pool's, held for as long as it
// listens and then closed (never handed back while it LISTENs), so the
// process stays within database.max_connections.
func (s *Store) Listen(ctx context.Context, channel string, listening func(), handle func(payload string)) error {
	if s.dialect != dialectPostgres {
		return errNotPostgres
	}
	retry := listenRetryMin
	var lost time.Time // when the last listening connection was lost
	for {
		listened, err := s.listenOnce(ctx, channel, listenIdle, func() {
			if !lost.IsZero() {
				s.log.Warn("listening again: notifications sent while no connection listened were missed",
					"channel", channel, "gap", time.Since(lost).Round(time.Millisecond))
			}
			listening()
		}, handle)
		if ctx.Err() != nil {
			return nil
		}
		if listened {
			lost, retry = time.Now(), listenRetryMin
		}
		s.log.Warn("listening connection lost; reconnecting", "channel", channel, "err", err, "retry_in", retry)
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		retry = min(2*retry, listenRetryMax)
	}
}

// listenOnce listens on one connection until it fails or ctx ends; listened
// says whether it got as far as listening.
func (s *Store) listenOnce(ctx context.Context, channel string, idle time.Duration, listening func(), handle func(string)) (listened bool, err error) {
	conn, err := s.read.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("listen: %w", pgError(err))
	}
	defer conn.Close()
	rawErr := conn.Raw(func(dc any) error {
		// Every way out returns driver.ErrBadConn, so that database/sql
		// closes the connection instead of pooling it: it LISTENs, and
		// would buffer notifications nobody reads.
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			err = fmt.Errorf("listen: unexpected driver connection %T", dc)
			return driver.ErrBadConn
		}
		pc := c.Conn()
		if _, err = pc.Exec(ctx, `SET application_name = '`+ListenerName+`'`); err != nil {
			err = fmt.Errorf("listen: %w", pgError(err))
			return driver.ErrBadConn
		}
		if _, err = pc.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
			err = fmt.Errorf("listen: %w", pgError(err))
			return driver.ErrBadConn
		}
		listened = true
		listening()
		err = wait(ctx, pc, idle, handle)
		return driver.ErrBadConn
	})
	if err == nil && !errors.Is(rawErr, driver.ErrBadConn) {
		err = rawErr
	}
	return listened, err
}

// wait hands each notification on pc to handle until pc fails or ctx ends,
// pinging the server after each idle spell without one.
func wait(ctx context.Context, pc *pgx.Conn, idle time.Duration, handle func(string)) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, idle)
		n, err := pc.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			handle(n.Payload)
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("wait for notifications: %w", pgError(err))
		}
		// Idle: a timed-out wait leaves the connection usable; prove the
		// server is still there.
		pctx, cancel := context.WithTimeout(ctx, listenPing)
		err = pc.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("ping the listening connection: %w", pgError(err))
		}
	}
}
