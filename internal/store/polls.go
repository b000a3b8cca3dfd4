package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Poll is a local status's poll (Mastodon's).
type Poll struct {
	ID          int64
	StatusID    int64
	AccountID   int64 // the status's author
	Options     []PollOption
	Multiple    bool
	HideTotals  bool
	ExpiresAt   time.Time
	VotesCount  int64 // choices made, all voters together
	VotersCount int64
	// OwnVotes are the viewer's choices, when the poll was loaded for a
	// viewer who voted (PollsForStatuses); nil otherwise.
	OwnVotes []int
}

// PollOption is one of a poll's options with its tally.
type PollOption struct {
	Title      string
	VotesCount int64
}

// KindPollExpire is the job that tells a poll's voters and author it has
// ended, due at its end; its payload is PollExpirePayload.
const KindPollExpire = "poll.expire"

// PollExpirePayload is a poll.expire job's.
type PollExpirePayload struct {
	Poll int64 `json:"poll"`
}

// PollExpireJob is the job that ends p, due at its end.
func PollExpireJob(p *Poll) NewJob {
	payload, _ := json.Marshal(PollExpirePayload{Poll: p.ID})
	return NewJob{Kind: KindPollExpire, Payload: payload, RunAt: p.ExpiresAt}
}

// Errors of Vote.
var (
	ErrPollExpired  = errors.New("the poll has already ended")
	ErrAlreadyVoted = errors.New("you have already voted on this poll")
)

// createPoll writes p and its options in tx (with its status).
func createPoll(ctx context.Context, tx *writeTx, p *Poll, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO polls (id, status_id, account_id, multiple, hide_totals, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, p.ID, p.StatusID, p.AccountID, boolInt(p.Multiple), boolInt(p.HideTotals), ms(p.ExpiresAt), ms(now)); err != nil {
		return fmt.Errorf("create poll: %w", err)
	}
	for i, o := range p.Options {
		if _, err := tx.ExecContext(ctx, `INSERT INTO poll_options (poll_id, position, title) VALUES (?, ?, ?)`, p.ID, i, o.Title); err != nil {
			return fmt.Errorf("create poll: %w", err)
		}
	}
	return enqueue(ctx, tx, PollExpireJob(p), now)
}

// PollChange is what an edit does to a status's poll: Poll nil removes it;
// otherwise Reset (or no poll before) replaces it, votes and all, with
// Poll, and without Reset the poll keeps its votes and takes Poll's
// hide_totals and end. Mastodon resets the votes when the options or
// multiple change.
type PollChange struct {
	Poll  *Poll
	Reset bool
}

// changePoll applies c to statusID's poll in tx.
func changePoll(ctx context.Context, tx *writeTx, statusID int64, c *PollChange, now time.Time) error {
	if c.Poll == nil || c.Reset {
		if _, err := tx.ExecContext(ctx, `DELETE FROM polls WHERE status_id = ?`, statusID); err != nil {
			return fmt.Errorf("edit poll: %w", err)
		}
		if c.Poll == nil {
			return nil
		}
		return createPoll(ctx, tx, c.Poll, now)
	}
	// The end may move: the poll is told again at its new end (an
	// earlier job finding it still open puts itself off until then).
	res, err := tx.ExecContext(ctx, `UPDATE polls SET hide_totals = ?, expires_at = ?, notified = 0 WHERE id = ? AND status_id = ?`,
		boolInt(c.Poll.HideTotals), ms(c.Poll.ExpiresAt), c.Poll.ID, statusID)
	if err := expectOne(res, err, "edit poll"); err != nil {
		return err
	}
	return enqueue(ctx, tx, PollExpireJob(c.Poll), now)
}

// PollsForStatuses loads the polls of statuses, keyed by status id, with
// viewer's choices (viewer 0: none): one query, whatever the page's length.
func (s *Store) PollsForStatuses(ctx context.Context, viewer int64, statusIDs []int64) (map[int64]*Poll, error) {
	out := map[int64]*Poll{}
	if len(statusIDs) == 0 {
		return out, nil
	}
	in, args := inList(statusIDs)
	rows, err := s.read.QueryContext(ctx, `SELECT p.id, p.status_id, p.account_id, p.multiple, p.hide_totals, p.expires_at, p.votes_count,
		p.voters_count, COALESCE((SELECT v.choices FROM poll_votes v WHERE v.poll_id = p.id AND v.account_id = ?), ''), o.title, o.votes_count
		FROM polls p JOIN poll_options o ON o.poll_id = p.id WHERE p.status_id IN `+in+` ORDER BY p.id, o.position`,
		append([]any{viewer}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("load polls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Poll
		var expires int64
		var choices string
		var o PollOption
		if err := rows.Scan(&p.ID, &p.StatusID, &p.AccountID, &p.Multiple, &p.HideTotals, &expires, &p.VotesCount, &p.VotersCount,
			&choices, &o.Title, &o.VotesCount); err != nil {
			return nil, fmt.Errorf("load polls: %w", err)
		}
		have := out[p.StatusID]
		if have == nil {
			p.ExpiresAt = pollEnd(expires)
			p.OwnVotes = parseChoices(choices)
			have = &p
			out[p.StatusID] = have
		}
		have.Options = append(have.Options, o)
	}
	return out, rows.Err()
}

// PollStatus loads the status of poll id if viewer may see it (the
// visibility rule); ErrNotFound otherwise.
func (s *Store) PollStatus(ctx context.Context, viewer, pollID int64) (*Status, error) {
	vis, args := visibleSQL("s", viewer)
	return scanStatus(s.read.QueryRowContext(ctx, `SELECT `+statusCols+` FROM polls p JOIN statuses s ON s.id = p.status_id
		WHERE p.id = ? AND `+vis, append([]any{pollID}, args...)...))
}

func parseChoices(s string) []int {
	if s == "" {
		return nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// Vote records account's choices on poll id, once: ErrAlreadyVoted when it
// voted before, ErrPollExpired after the poll's end, ErrNotFound when the
// poll is gone. The caller checks the choices against the poll's options
// and multiple; the store checks them again against its options, in the
// vote's transaction.
//
// jobs are enqueued with the vote (a vote in a remote poll is sent to its
// author).
func (s *Store) Vote(ctx context.Context, pollID, account int64, choices []int, now time.Time, jobs ...NewJob) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("vote: %w", err)
	}
	defer tx.Rollback()
	var expires, options int64
	var multiple bool
	err = tx.QueryRowContext(ctx, `SELECT p.expires_at, p.multiple, (SELECT COUNT(*) FROM poll_options o WHERE o.poll_id = p.id)
		FROM polls p WHERE p.id = ?`, pollID).Scan(&expires, &multiple, &options)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("vote: %w", err)
	}
	if !now.Before(fromMs(expires)) {
		return ErrPollExpired
	}
	sorted := slices.Sorted(slices.Values(choices))
	if len(sorted) == 0 || (!multiple && len(sorted) > 1) || sorted[0] < 0 || int64(sorted[len(sorted)-1]) >= options ||
		len(slices.Compact(slices.Clone(sorted))) != len(sorted) {
		return fmt.Errorf("vote: choices %v of %d options: %w", choices, options, ErrConflict)
	}
	parts := make([]string, len(sorted))
	for i, c := range sorted {
		parts[i] = strconv.Itoa(c)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO poll_votes (poll_id, account_id, choices, created_at) VALUES (?, ?, ?, ?)`,
		pollID, account, strings.Join(parts, ","), ms(now))
	if isUniqueViolation(err) {
		return ErrAlreadyVoted
	}
	if err != nil {
		return fmt.Errorf("vote: %w", err)
	}
	positions := make([]int64, len(sorted))
	for i, c := range sorted {
		positions[i] = int64(c)
	}
	in, args := inList(positions)
	if _, err := tx.ExecContext(ctx, `UPDATE poll_options SET votes_count = votes_count + 1 WHERE poll_id = ? AND position IN `+in,
		append([]any{pollID}, args...)...); err != nil {
		return fmt.Errorf("vote: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE polls SET votes_count = votes_count + ?, voters_count = voters_count + 1 WHERE id = ?`,
		len(sorted), pollID); err != nil {
		return fmt.Errorf("vote: %w", err)
	}
	for _, j := range jobs {
		if err := enqueue(ctx, tx, j, now); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// EndPoll tells poll id's local voters and its author that it has ended:
// a "poll" notification from the author to each (the author's own
// included), under CreateNotification's rule, all in one transaction that
// marks the poll told, so a job run again tells nobody twice. It returns
// the notifications stored; when the poll has not ended yet (its end was
// moved), nothing is done and open is its end. A poll that is gone, or
// told already, is nothing to do. federate, when not nil, gives the job
// that tells other servers of the final results (an Update of the
// status), enqueued in the same transaction when the status reaches one.
func (s *Store) EndPoll(ctx context.Context, pollID int64, now time.Time, nextID func() int64,
	federate func(status, author int64) *NewJob) (stored []Notification, open time.Time, err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("end poll: %w", err)
	}
	defer tx.Rollback()
	var statusID, author, expires int64
	var notified bool
	err = tx.QueryRowContext(ctx, `SELECT status_id, account_id, expires_at, notified FROM polls WHERE id = ?`, pollID).
		Scan(&statusID, &author, &expires, &notified)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("end poll: %w", err)
	}
	if notified {
		return nil, time.Time{}, nil
	}
	if end := fromMs(expires); now.Before(end) {
		return nil, end, nil
	}
	var authorDomain string
	if err := tx.QueryRowContext(ctx, `SELECT domain FROM accounts WHERE id = ?`, author).Scan(&authorDomain); err != nil {
		return nil, time.Time{}, fmt.Errorf("end poll: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT v.account_id FROM poll_votes v JOIN accounts a ON a.id = v.account_id
		WHERE v.poll_id = ? AND a.domain = '' ORDER BY v.account_id`, pollID)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("end poll: %w", err)
	}
	// The author is told of their own poll's end; a remote author, by
	// their own server.
	var recipients []int64
	if authorDomain == "" {
		recipients = append(recipients, author)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, time.Time{}, fmt.Errorf("end poll: %w", err)
		}
		if id != author {
			recipients = append(recipients, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("end poll: %w", err)
	}
	for _, to := range recipients {
		n := Notification{ID: nextID(), AccountID: to, FromAccountID: author, Type: "poll", StatusID: statusID, CreatedAt: now.UTC()}
		ok, err := s.createNotification(ctx, tx, &n)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("end poll: %w", err)
		}
		if ok {
			stored = append(stored, n)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE polls SET notified = 1 WHERE id = ?`, pollID); err != nil {
		return nil, time.Time{}, fmt.Errorf("end poll: %w", err)
	}
	if federate != nil {
		st := &Status{ID: statusID, AccountID: author}
		if err := tx.QueryRowContext(ctx, `SELECT visibility, local FROM statuses WHERE id = ?`, statusID).Scan(&st.Visibility, &st.Local); err != nil {
			return nil, time.Time{}, fmt.Errorf("end poll: %w", err)
		}
		// A remote poll's end is its own server's to tell.
		if j := federate(statusID, author); j != nil && st.Local {
			if err := enqueueIfRemoteAudience(ctx, tx, *j, st); err != nil {
				return nil, time.Time{}, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, time.Time{}, fmt.Errorf("end poll: %w", err)
	}
	return stored, time.Time{}, nil
}

// MovePollEnd moves a poll's end, and the due time of the poll.expire job
// committed with it, to at. Nothing in the API moves an end (an edit makes
// a new poll); the end-to-end tests' route does, so that the real job path
// ends a poll without their waiting five minutes.
func (s *Store) MovePollEnd(ctx context.Context, pollID int64, at time.Time) error {
	payload, _ := json.Marshal(PollExpirePayload{Poll: pollID})
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("move poll end: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE polls SET expires_at = ? WHERE id = ?`, ms(at), pollID)
	if err := expectOne(res, err, "move poll end"); err != nil {
		return err
	}
	res, err = tx.ExecContext(ctx, `UPDATE jobs SET run_at = ? WHERE kind = ? AND payload = ?`, ms(at), KindPollExpire, string(payload))
	if err := expectOne(res, err, "move poll end job"); err != nil {
		return err
	}
	return tx.Commit()
}
