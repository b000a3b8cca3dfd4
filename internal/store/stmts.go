package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// maxPreparedStatements bounds each pool's statement cache. The store's SQL
// texts are a fixed set (id lists come in a few lengths, inList), so this
// is only a backstop: a text past the bound is run unprepared, and memory
// stays bounded whatever the requests.
const maxPreparedStatements = 512

// pool is one database/sql pool with its prepared statements. Parsing and
// planning a statement on every call cost 14-28 % of the CPU of the hot
// reads; a *sql.Stmt is prepared once per connection and reused.
type pool struct {
	db     *sql.DB
	counts []*atomic.Int64 // statements run, for the fixed-cost tests

	// pg is set on PostgreSQL: texts are translated (toPostgres), and pgx
	// prepares and caches them per connection itself, so the pool keeps no
	// statements of its own. writeLock is set on PostgreSQL's write pool:
	// each transaction takes it first (see lockWrites).
	pg        *translations
	writeLock bool

	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newPool(db *sql.DB, counts ...*atomic.Int64) *pool {
	return &pool{db: db, counts: counts, stmts: map[string]*sql.Stmt{}}
}

func (p *pool) counted() {
	for _, c := range p.counts {
		c.Add(1)
	}
}

// stmt returns the prepared statement for q, or nil when it cannot be kept
// (the cache is full, or preparing failed: the caller then runs q directly
// and reports the error that running it gives). Preparing happens outside
// the lock, so a miss never holds up the pool's other statements.
func (p *pool) stmt(ctx context.Context, q string) *sql.Stmt {
	if p.pg != nil {
		return nil
	}
	p.mu.RLock()
	st, full := p.stmts[q], len(p.stmts) >= maxPreparedStatements
	p.mu.RUnlock()
	if st != nil || full {
		return st
	}
	st, err := p.db.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if kept := p.stmts[q]; kept != nil || len(p.stmts) >= maxPreparedStatements {
		st.Close()
		return kept
	}
	p.stmts[q] = st
	return st
}

// Prepared is how many statement texts the store keeps prepared.
func (s *Store) Prepared() int {
	n := 0
	for _, p := range []*pool{s.read, s.write} {
		p.mu.RLock()
		n += len(p.stmts)
		p.mu.RUnlock()
	}
	return n
}

func (p *pool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	p.counted()
	q, args = p.dialect(q, args)
	if st := p.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.db.QueryContext(ctx, q, args...)
}

func (p *pool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	p.counted()
	q, args = p.dialect(q, args)
	if st := p.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, q, args...)
}

func (p *pool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	p.counted()
	q, args = p.dialect(q, args)
	if st := p.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.db.ExecContext(ctx, q, args...)
}

// BeginTx starts a transaction; statements inside it are counted by tx.
func (p *pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*writeTx, error) {
	p.counted()
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	if p.writeLock {
		if err := lockWrites(ctx, tx); err != nil {
			tx.Rollback()
			return nil, err
		}
	}
	return &writeTx{Tx: tx, p: p}, nil
}

// dialect returns q and args as the pool's engine takes them.
func (p *pool) dialect(q string, args []any) (string, []any) {
	if p.pg == nil {
		return q, args
	}
	return p.pg.get(q), pgArgs(args)
}

// writeTx is a transaction whose statements run prepared, as the pool's
// do: parsing them again in every transaction was 12% of a post's CPU. A
// statement the pool has not prepared yet runs unprepared, and is prepared
// after the commit: the pool cannot prepare one while the transaction holds
// its connection (the writer has only one).
type writeTx struct {
	*sql.Tx
	p      *pool
	missed []string
}

// prepared returns q's statement bound to the transaction, or nil.
func (t *writeTx) prepared(ctx context.Context, q string) *sql.Stmt {
	if t.p.pg != nil {
		return nil
	}
	t.p.mu.RLock()
	st := t.p.stmts[q]
	t.p.mu.RUnlock()
	if st == nil {
		t.missed = append(t.missed, q)
		return nil
	}
	return t.Tx.StmtContext(ctx, st)
}

func (t *writeTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	q, args = t.p.dialect(q, args)
	if st := t.prepared(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

func (t *writeTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q, args = t.p.dialect(q, args)
	if st := t.prepared(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

func (t *writeTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	q, args = t.p.dialect(q, args)
	if st := t.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

// Commit commits, then prepares the statements that ran unprepared.
func (t *writeTx) Commit() error {
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	for _, q := range t.missed {
		t.p.stmt(context.Background(), q)
	}
	t.missed = nil
	return nil
}

// PingContext checks the pool reaches the database.
func (p *pool) PingContext(ctx context.Context) error { return p.db.PingContext(ctx) }

// close closes the prepared statements, then the pool.
func (p *pool) close() error {
	p.mu.Lock()
	for _, st := range p.stmts {
		st.Close()
	}
	p.stmts = map[string]*sql.Stmt{}
	p.mu.Unlock()
	return p.db.Close()
}

// StatementCount is how many statements the store has run since it opened
// (reads, writes and transactions begun). Tests compare it across requests
// to hold the render path to a fixed number of queries per page.
func (s *Store) StatementCount() int64 { return s.statements.Load() }

// WriteCount is how many of those went to the writer (statements and
// transactions begun): a read endpoint must run none.
func (s *Store) WriteCount() int64 { return s.writes.Load() }

// maxPaddedList is the longest list inList pads: pages hold at most a few
// hundred ids, and padding a huge list could pass SQLite's 32,766
// parameters.
const maxPaddedList = 1024

// inList renders an id list as "(?, ?, …)" and its arguments. The list is
// padded, by repeating its last id, to the next power of two, so a
// statement's text, and its prepared form, is one of a few whatever the
// page's length (a JSON array parameter would be one text, but parsing it
// cost more than the query it fed). A repeated id changes nothing in IN.
func inList(ids []int64) (string, []any) {
	n := 1
	for n < len(ids) {
		n *= 2
	}
	if len(ids) > maxPaddedList {
		n = len(ids)
	}
	args := make([]any, n)
	for i := range args {
		args[i] = ids[min(i, len(ids)-1)]
	}
	return "(" + placeholders(n) + ")", args
}
