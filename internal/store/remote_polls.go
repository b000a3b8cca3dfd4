package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// noPollEndMs is expires_at of a remote poll that names no end (Mastodon
// allows one): later than any end, so every "has it ended" comparison in
// SQL holds; it loads as the zero time.
const noPollEndMs int64 = 253402300799999 // 9999-12-31T23:59:59.999Z

// pollEndMs is p's end as stored.
func pollEndMs(end time.Time) int64 {
	if end.IsZero() {
		return noPollEndMs
	}
	return ms(end)
}

// pollEnd is a stored end as loaded: zero for none.
func pollEnd(v int64) time.Time {
	if v == noPollEndMs {
		return time.Time{}
	}
	return fromMs(v)
}

// Ended reports whether the poll has ended by now (one without an end
// never has).
func (p *Poll) Ended(now time.Time) bool {
	return !p.ExpiresAt.IsZero() && !now.Before(p.ExpiresAt)
}

// createRemotePoll writes a remote status's poll (p.StatusID, p.AccountID
// set) with the tallies its server gave, in tx. Its end job tells the
// local voters when it ends; a poll already ended or without an end has
// none.
func createRemotePoll(ctx context.Context, tx *writeTx, p *Poll, now time.Time) error {
	var votes int64
	for _, o := range p.Options {
		votes += o.VotesCount
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO polls (id, status_id, account_id, multiple, hide_totals, expires_at, votes_count, voters_count, created_at)
		VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)`, p.ID, p.StatusID, p.AccountID, boolInt(p.Multiple), pollEndMs(p.ExpiresAt),
		votes, p.VotersCount, ms(now)); err != nil {
		return fmt.Errorf("create remote poll: %w", err)
	}
	for i, o := range p.Options {
		if _, err := tx.ExecContext(ctx, `INSERT INTO poll_options (poll_id, position, title, votes_count) VALUES (?, ?, ?, ?)`,
			p.ID, i, o.Title, o.VotesCount); err != nil {
			return fmt.Errorf("create remote poll: %w", err)
		}
	}
	if p.ExpiresAt.IsZero() || !now.Before(p.ExpiresAt) {
		return nil
	}
	return enqueue(ctx, tx, PollExpireJob(p), now)
}

// RefreshRemotePoll takes the tallies, voters and end of a remote status's
// poll from an Update of it (p, its options in order). A poll with other
// options, or multiple changed, replaces the old one (as p.ID) with its
// votes here, as Mastodon does; a status without a poll gets p.
// ErrNotFound when the status is not a remote one.
func (s *Store) RefreshRemotePoll(ctx context.Context, statusID int64, p *Poll, now time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("refresh remote poll: %w", err)
	}
	defer tx.Rollback()
	var author int64
	err = tx.QueryRowContext(ctx, `SELECT account_id FROM statuses WHERE id = ? AND local = 0`, statusID).Scan(&author)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("refresh remote poll: %w", err)
	}
	p.StatusID, p.AccountID = statusID, author
	var oldID, oldEnd int64
	var multiple bool
	err = tx.QueryRowContext(ctx, `SELECT id, multiple, expires_at FROM polls WHERE status_id = ?`, statusID).Scan(&oldID, &multiple, &oldEnd)
	same := err == nil && multiple == p.Multiple
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("refresh remote poll: %w", err)
	}
	if same {
		rows, err := tx.QueryContext(ctx, `SELECT title FROM poll_options WHERE poll_id = ? ORDER BY position`, oldID)
		if err != nil {
			return fmt.Errorf("refresh remote poll: %w", err)
		}
		var titles []string
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return fmt.Errorf("refresh remote poll: %w", err)
			}
			titles = append(titles, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("refresh remote poll: %w", err)
		}
		same = len(titles) == len(p.Options)
		for i := range titles {
			same = same && titles[i] == p.Options[i].Title
		}
	}
	if !same {
		if _, err := tx.ExecContext(ctx, `DELETE FROM polls WHERE status_id = ?`, statusID); err != nil {
			return fmt.Errorf("refresh remote poll: %w", err)
		}
		if err := createRemotePoll(ctx, tx, p, now); err != nil {
			return err
		}
		return tx.Commit()
	}
	p.ID = oldID
	var votes int64
	for i, o := range p.Options {
		votes += o.VotesCount
		if _, err := tx.ExecContext(ctx, `UPDATE poll_options SET votes_count = ? WHERE poll_id = ? AND position = ?`, o.VotesCount, oldID, i); err != nil {
			return fmt.Errorf("refresh remote poll: %w", err)
		}
	}
	end := pollEndMs(p.ExpiresAt)
	if _, err := tx.ExecContext(ctx, `UPDATE polls SET votes_count = ?, voters_count = ?, expires_at = ? WHERE id = ?`,
		votes, p.VotersCount, end, oldID); err != nil {
		return fmt.Errorf("refresh remote poll: %w", err)
	}
	if end != oldEnd && !p.ExpiresAt.IsZero() && now.Before(p.ExpiresAt) {
		// The end moved: its job runs then (an earlier one puts itself off).
		if err := enqueue(ctx, tx, PollExpireJob(p), now); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// AddRemoteVote counts one choice of a remote account in a local poll (a
// vote Note carries one choice; a multiple-choice poll gets one Note per
// choice): ErrAlreadyVoted when the account voted in a single-choice poll
// or chose that option already, ErrPollExpired after the end, ErrNotFound
// when the poll is gone, ErrConflict for a choice not among its options.
func (s *Store) AddRemoteVote(ctx context.Context, pollID, account int64, choice int, now time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("remote vote: %w", err)
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
		return fmt.Errorf("remote vote: %w", err)
	}
	if !now.Before(fromMs(expires)) {
		return ErrPollExpired
	}
	if choice < 0 || int64(choice) >= options {
		return fmt.Errorf("remote vote: choice %d of %d options: %w", choice, options, ErrConflict)
	}
	var have string
	err = tx.QueryRowContext(ctx, `SELECT choices FROM poll_votes WHERE poll_id = ? AND account_id = ?`, pollID, account).Scan(&have)
	newVoter := errors.Is(err, sql.ErrNoRows)
	if err != nil && !newVoter {
		return fmt.Errorf("remote vote: %w", err)
	}
	if newVoter {
		_, err = tx.ExecContext(ctx, `INSERT INTO poll_votes (poll_id, account_id, choices, created_at) VALUES (?, ?, ?, ?)`,
			pollID, account, strconv.Itoa(choice), ms(now))
		if isUniqueViolation(err) {
			return ErrAlreadyVoted
		}
	} else {
		chosen := parseChoices(have)
		if !multiple || slices.Contains(chosen, choice) {
			return ErrAlreadyVoted
		}
		chosen = append(chosen, choice)
		slices.Sort(chosen)
		parts := make([]string, len(chosen))
		for i, c := range chosen {
			parts[i] = strconv.Itoa(c)
		}
		_, err = tx.ExecContext(ctx, `UPDATE poll_votes SET choices = ? WHERE poll_id = ? AND account_id = ? AND choices = ?`,
			strings.Join(parts, ","), pollID, account, have)
	}
	if err != nil {
		return fmt.Errorf("remote vote: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE poll_options SET votes_count = votes_count + 1 WHERE poll_id = ? AND position = ?`, pollID, choice); err != nil {
		return fmt.Errorf("remote vote: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE polls SET votes_count = votes_count + 1, voters_count = voters_count + ? WHERE id = ?`,
		boolInt(newVoter), pollID); err != nil {
		return fmt.Errorf("remote vote: %w", err)
	}
	return tx.Commit()
}
