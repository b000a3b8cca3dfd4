package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CreateRemoteStatus stores a status fetched from another server, keyed by
// its id (uri), and returns its row id; created is false when the uri was
// already known, and that row is left as it is (a remote edit arrives as an
// activity, not as a refetch). Its author must be a remote account: a
// remote document never writes a local account's status. Mentions and tags
// are stored as for a local status, and it enters the home timelines of
// the author's local followers.
func (s *Store) CreateRemoteStatus(ctx context.Context, n NewStatus) (id int64, created bool, err error) {
	st := n.Status
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("remote status: %w", err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `SELECT id FROM statuses WHERE uri = ?`, st.URI).Scan(&id)
	if err == nil {
		return id, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("remote status %s: %w", st.URI, err)
	}
	var domain string
	if err := tx.QueryRowContext(ctx, `SELECT domain FROM accounts WHERE id = ?`, st.AccountID).Scan(&domain); err != nil {
		return 0, false, fmt.Errorf("remote status %s: author: %w", st.URI, err)
	}
	if domain == "" {
		return 0, false, fmt.Errorf("remote status %s: the author is local: %w", st.URI, ErrConflict)
	}
	st.Local = false
	// The uri is known to be new (above, in this transaction): a unique
	// violation is the id, made from the status's time (id.At), taken by
	// another status of that millisecond. The next ids are tried.
	// ON CONFLICT (id), not a caught error: PostgreSQL ends a transaction
	// at its first failed statement.
	for try := 0; ; try++ {
		res, err := tx.ExecContext(ctx, `INSERT INTO statuses (id, uri, url, account_id, local, in_reply_to_id, in_reply_to_account_id,
			text, content, spoiler_text, sensitive, visibility, language, created_at)
			VALUES (?, ?, ?, ?, 0, ?, ?, '', ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			st.ID, st.URI, st.URL, st.AccountID, nullID(st.InReplyToID), nullID(st.InReplyToAccountID),
			st.Content, st.SpoilerText, boolInt(st.Sensitive), int(st.Visibility), st.Language, ms(st.CreatedAt))
		if err != nil {
			return 0, false, fmt.Errorf("remote status %s: %w", st.URI, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return 0, false, fmt.Errorf("remote status %s: %w", st.URI, err)
		} else if n == 1 {
			break
		}
		if try == 8 {
			return 0, false, fmt.Errorf("remote status %s: no free id near %d", st.URI, st.ID)
		}
		st.ID++
	}
	if err := writeStatusLinks(ctx, tx, st.ID, n.MentionIDs, n.Tags, n.Words); err != nil {
		return 0, false, err
	}
	if n.Poll != nil {
		n.Poll.StatusID, n.Poll.AccountID = st.ID, st.AccountID
		if err := createRemotePoll(ctx, tx, n.Poll, time.Now()); err != nil {
			return 0, false, err
		}
	}
	if err := recordConversation(ctx, tx, st, n.MentionIDs); err != nil {
		return 0, false, err
	}
	if st.InReplyToID != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE statuses SET replies_count = replies_count + 1 WHERE id = ?`, st.InReplyToID); err != nil {
			return 0, false, fmt.Errorf("count reply: %w", err)
		}
	}
	if err := fanOut(ctx, tx, st, n.FeedAccounts); err != nil {
		return 0, false, err
	}
	if reachesTagFollowers(st, n.Tags, time.Now()) {
		if err := fanOutTags(ctx, tx, []int64{st.ID}); err != nil {
			return 0, false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("remote status %s: %w", st.URI, err)
	}
	return st.ID, true, nil
}

// StatusByURI loads a status by its id (uri), without any visibility
// check: for linking a fetched reply to what it answers, never for showing.
func (s *Store) StatusByURI(ctx context.Context, uri string) (*Status, error) {
	return scanStatus(s.read.QueryRowContext(ctx, `SELECT `+statusCols+` FROM statuses s WHERE s.uri = ?`, uri))
}
