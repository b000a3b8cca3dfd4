package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Job is a unit of background work (internal/jobs runs them).
type Job struct {
	ID       int64
	Kind     string
	Payload  []byte // JSON, the kind's own
	Host     string // the remote host it talks to, if any
	Attempts int    // including the one now claimed
	RunAt    time.Time
}

// NewJob is a job to enqueue.
type NewJob struct {
	Kind    string
	Payload []byte
	Host    string
	RunAt   time.Time // zero: now
}

// enqueue writes j in tx: the job commits, or rolls back, with the change
// that caused it.
func enqueue(ctx context.Context, tx *writeTx, j NewJob, now time.Time) error {
	runAt := j.RunAt
	if runAt.IsZero() {
		runAt = now
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, payload, host, run_at, created_at) VALUES (?, ?, ?, ?, ?)`,
		j.Kind, string(j.Payload), j.Host, ms(runAt), ms(now)); err != nil {
		return fmt.Errorf("enqueue %s: %w", j.Kind, err)
	}
	return nil
}

// Enqueue writes a job on its own.
func (s *Store) Enqueue(ctx context.Context, j NewJob) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", j.Kind, err)
	}
	defer tx.Rollback()
	if err := enqueue(ctx, tx, j, time.Now()); err != nil {
		return err
	}
	return tx.Commit()
}

// kindsSQL limits a query to the given job kinds (none: all), and leaves
// out the jobs of the skipped hosts.
func kindsSQL(kinds []string, skipHosts ...string) (string, []any) {
	var q string
	var args []any
	if len(kinds) > 0 {
		q = ` AND kind IN (?` + strings.Repeat(`, ?`, len(kinds)-1) + `)`
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	if len(skipHosts) > 0 {
		q += ` AND host NOT IN (?` + strings.Repeat(`, ?`, len(skipHosts)-1) + `)`
		for _, h := range skipHosts {
			args = append(args, h)
		}
	}
	return q, args
}

// JobsDue reports whether some pending job of the given kinds (none: any)
// may run at now: a read, so an idle worker's poll takes no write lock.
func (s *Store) JobsDue(ctx context.Context, now time.Time, kinds ...string) (bool, error) {
	return s.JobsDueExcept(ctx, now, kinds, nil)
}

// JobsDueExcept is JobsDue leaving out the jobs of skipHosts.
func (s *Store) JobsDueExcept(ctx context.Context, now time.Time, kinds, skipHosts []string) (bool, error) {
	var one int
	only, args := kindsSQL(kinds, skipHosts...)
	err := s.read.QueryRowContext(ctx, `SELECT 1 FROM jobs INDEXED BY jobs_due WHERE state = 'pending' AND run_at <= ? AND `+leaseEndedSQL+only+` LIMIT 1`,
		append([]any{ms(now), ms(now), ms(now)}, args...)...).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("jobs due: %w", err)
	}
	return true, nil
}

// leaseEndedSQL holds a job whose lease has ended, or whose claiming
// process is gone: its id worker lease (id_workers) has ended, so it will
// renew nothing, and another process takes the job at once rather than
// after the rest of the job's lease. Both ? are now.
const leaseEndedSQL = `(lease_until <= ? OR (claimed_by <> '' AND NOT EXISTS (SELECT 1 FROM id_workers w WHERE w.holder = jobs.claimed_by AND w.expires_at > ?)))`

// ClaimJobs leases up to limit due jobs, soonest first, until now+lease:
// nobody else claims them meanwhile, and if their worker dies they are due
// again when the lease ends. Each claim counts an attempt. Only the given
// kinds are claimed (none: any), so that runners of different kinds
// (deliveries, which wait on the network; local work, which waits on the
// one writer) each keep their own bound.
func (s *Store) ClaimJobs(ctx context.Context, now time.Time, lease time.Duration, limit int, kinds ...string) ([]Job, error) {
	return s.ClaimJobsExcept(ctx, now, lease, limit, kinds, nil)
}

// ClaimJobsExcept is ClaimJobs leaving out the jobs of skipHosts (hosts
// that may not be contacted now: they stay due, unclaimed, rather than be
// claimed and put off again and again).
func (s *Store) ClaimJobsExcept(ctx context.Context, now time.Time, lease time.Duration, limit int, kinds, skipHosts []string) ([]Job, error) {
	only, args := kindsSQL(kinds, skipHosts...)
	// On PostgreSQL several processes claim at once, each in its own
	// statement (claims take no write lock): the candidates are locked as
	// they are chosen, and those another claim holds are passed over, so
	// no job is leased twice. SQLite runs one statement at a time.
	lock := ""
	if s.dialect == dialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := s.write.QueryContext(ctx, `UPDATE jobs SET lease_until = ?, claimed_by = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_due WHERE state = 'pending' AND run_at <= ? AND `+leaseEndedSQL+only+` ORDER BY run_at LIMIT ?`+lock+`)
		RETURNING id, kind, payload, host, attempts, run_at`, append(append([]any{ms(now.Add(lease)), s.Process(), ms(now), ms(now), ms(now)}, args...), limit)...)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		var j Job
		var payload string
		var runAt int64
		if err := rows.Scan(&j.ID, &j.Kind, &payload, &j.Host, &j.Attempts, &runAt); err != nil {
			return nil, fmt.Errorf("claim jobs: %w", err)
		}
		j.Payload, j.RunAt = []byte(payload), fromMs(runAt)
		out = append(out, j)
	}
	return out, rows.Err()
}

// CompleteJob removes a job that is done.
func (s *Store) CompleteJob(ctx context.Context, id int64) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM jobs WHERE id = ?`, id); err != nil {
		return fmt.Errorf("complete job %d: %w", id, err)
	}
	return nil
}

// RetryJob puts a failed job back, due at runAt, with why it failed.
func (s *Store) RetryJob(ctx context.Context, id int64, runAt time.Time, why string) error {
	if _, err := s.write.ExecContext(ctx, `UPDATE jobs SET run_at = ?, lease_until = 0, last_error = ? WHERE id = ?`,
		ms(runAt), truncateText(why, 1000), id); err != nil {
		return fmt.Errorf("retry job %d: %w", id, err)
	}
	return nil
}

// ReleaseJobLeases makes every leased job due again: for a process that
// starts alone on its database (SQLite), where a lease still running was
// left by a process that died, and would otherwise hold its jobs for the
// rest of the lease.
func (s *Store) ReleaseJobLeases(ctx context.Context) (int64, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE jobs SET lease_until = 0 WHERE state = 'pending' AND lease_until > 0`)
	if err != nil {
		return 0, fmt.Errorf("release job leases: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeferJob puts a job off until runAt without counting the attempt its
// claim counted.
func (s *Store) DeferJob(ctx context.Context, id int64, runAt time.Time, why string) error {
	if _, err := s.write.ExecContext(ctx, `UPDATE jobs SET run_at = ?, lease_until = 0, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, last_error = ? WHERE id = ?`,
		ms(runAt), truncateText(why, 1000), id); err != nil {
		return fmt.Errorf("defer job %d: %w", id, err)
	}
	return nil
}

// BuryJob keeps a job that will not succeed as dead, with why: it is not
// run again, and an admin can see it (until the janitor prunes it after 7
// days). A received activity's or a delivery's body is dropped.
func (s *Store) BuryJob(ctx context.Context, id int64, why string) error {
	// What other servers sent, or what was to go to them, is not kept
	// with a buried job: only what it was and why it failed.
	if _, err := s.write.ExecContext(ctx, `UPDATE jobs SET state = 'dead', lease_until = 0, last_error = ?,
		payload = CASE WHEN kind IN ('ap.inbox', 'ap.deliver') THEN '{}' ELSE payload END WHERE id = ?`,
		truncateText(why, 1000), id); err != nil {
		return fmt.Errorf("bury job %d: %w", id, err)
	}
	return nil
}

// JobStats is the queue at a glance.
type JobStats struct {
	// Pending are the jobs not done: Running among them are leased to a
	// worker now, Retrying have failed before and wait for their next try.
	Pending, Running, Retrying int64
	Dead                       int64
	OldestPending              time.Time // zero when none
}

// JobStats reads the queue's depth.
func (s *Store) JobStats(ctx context.Context) (JobStats, error) {
	var st JobStats
	var oldest int64
	now := ms(time.Now())
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE state = 'pending'),
		COUNT(*) FILTER (WHERE state = 'pending' AND lease_until > ?),
		COUNT(*) FILTER (WHERE state = 'pending' AND lease_until <= ? AND attempts > 0),
		COUNT(*) FILTER (WHERE state = 'dead'),
		COALESCE(MIN(created_at) FILTER (WHERE state = 'pending'), 0) FROM jobs`, now, now).Scan(&st.Pending, &st.Running, &st.Retrying, &st.Dead, &oldest)
	if err != nil {
		return st, fmt.Errorf("job stats: %w", err)
	}
	if oldest != 0 {
		st.OldestPending = fromMs(oldest)
	}
	return st, nil
}

// truncateText cuts s to at most n bytes.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
