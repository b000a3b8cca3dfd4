package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Conversation is one local account's view of a direct thread.
type Conversation struct {
	ID           int64   // the thread's root status id: unique per account
	Participants []int64 // the other accounts, as they joined
	Unread       bool
	// LastStatusID is the newest status of the thread the account may see
	// now (the visibility rule decides, at read time).
	LastStatusID int64
	// Cursor is what the list is ordered and paged by: the newest status
	// the thread received.
	Cursor int64
}

// recordConversation files a direct status in its thread, and the thread
// in the conversations of each local participant (author and mentioned):
// unread for all but the author. In the status's transaction, for local
// and remote statuses alike.
func recordConversation(ctx context.Context, tx *writeTx, st *Status, mentions []int64) error {
	if st.Visibility != Direct || st.ReblogOfID != 0 {
		return nil
	}
	root := st.ID
	if st.InReplyToID != 0 {
		// The parent's thread, or (a direct answer to a status that is
		// not direct) a thread rooted at the parent.
		err := tx.QueryRowContext(ctx, `SELECT root_id FROM conversation_statuses WHERE status_id = ?`, st.InReplyToID).Scan(&root)
		if errors.Is(err, sql.ErrNoRows) {
			root = st.InReplyToID
		} else if err != nil {
			return fmt.Errorf("conversation: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO conversation_statuses (status_id, root_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, st.ID, root); err != nil {
		return fmt.Errorf("conversation: %w", err)
	}
	everyone := append([]int64{st.AccountID}, mentions...)
	slices.Sort(everyone)
	everyone = slices.Compact(everyone)
	in, args := inList(everyone)
	rows, err := tx.QueryContext(ctx, `SELECT a.id, COALESCE(c.participants, '') FROM accounts a
		LEFT JOIN account_conversations c ON c.account_id = a.id AND c.root_id = ?
		WHERE a.id IN `+in+` AND a.domain = ''`, append([]any{root}, args...)...)
	if err != nil {
		return fmt.Errorf("conversation: %w", err)
	}
	type row struct {
		account int64
		before  string
	}
	var local []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.account, &r.before); err != nil {
			rows.Close()
			return fmt.Errorf("conversation: %w", err)
		}
		local = append(local, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("conversation: %w", err)
	}
	for _, r := range local {
		others := parseIDs(r.before)
		for _, id := range everyone {
			if id != r.account && !slices.Contains(others, id) {
				others = append(others, id)
			}
		}
		unread := boolInt(r.account != st.AccountID)
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_conversations (account_id, root_id, participants, last_status_id, unread)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, root_id) DO UPDATE SET participants = excluded.participants,
			last_status_id = CASE WHEN excluded.last_status_id > account_conversations.last_status_id THEN excluded.last_status_id ELSE account_conversations.last_status_id END,
			unread = excluded.unread`, r.account, root, formatIDs(others), st.ID, unread); err != nil {
			return fmt.Errorf("conversation: %w", err)
		}
	}
	return nil
}

func parseIDs(s string) []int64 {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		if id, err := strconv.ParseInt(f, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

func formatIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

// Conversations pages account's conversations, most recently active
// first. Each shows the newest status of its thread that the account may
// see (the visibility rule); a thread of which it may see nothing is left
// out.
func (s *Store) Conversations(ctx context.Context, account int64, p Page) ([]Conversation, error) {
	where, args, order := pageSQL("c.last_status_id", p)
	vis, visArgs := visibleSQL("s", account)
	q := `SELECT root_id, participants, unread, last_status_id, shown FROM (
		SELECT c.root_id, c.participants, c.unread, c.last_status_id,
			(SELECT MAX(cs.status_id) FROM conversation_statuses cs JOIN statuses s ON s.id = cs.status_id
				WHERE cs.root_id = c.root_id AND ` + vis + `) AS shown
		FROM account_conversations c WHERE c.account_id = ? AND ` + where + `) page
		WHERE shown IS NOT NULL ORDER BY ` + strings.TrimPrefix(order, "c.") + limitSQL
	all := append(append(append(visArgs, account), args...), limitArg(p))
	rows, err := s.read.QueryContext(ctx, q, all...)
	if err != nil {
		return nil, fmt.Errorf("conversations: %w", err)
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		var c Conversation
		var participants string
		var unread int
		if err := rows.Scan(&c.ID, &participants, &unread, &c.Cursor, &c.LastStatusID); err != nil {
			return nil, fmt.Errorf("conversations: %w", err)
		}
		c.Participants, c.Unread = parseIDs(participants), unread != 0
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return newestFirst(p, out), nil
}

// DeleteConversation removes a conversation from account's list (the
// statuses stay; a new one in the thread brings it back).
func (s *Store) DeleteConversation(ctx context.Context, account, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM account_conversations WHERE account_id = ? AND root_id = ?`, account, id)
	return expectOne(res, err, "delete conversation")
}

// ReadConversation marks one of account's conversations read.
func (s *Store) ReadConversation(ctx context.Context, account, id int64) error {
	res, err := s.write.ExecContext(ctx, `UPDATE account_conversations SET unread = 0 WHERE account_id = ? AND root_id = ?`, account, id)
	return expectOne(res, err, "read conversation")
}

// ConversationByID loads one of account's conversations (ErrNotFound when
// it has none by that id, or none it may see a status of).
func (s *Store) ConversationByID(ctx context.Context, account, id int64) (*Conversation, error) {
	vis, visArgs := visibleSQL("s", account)
	var c Conversation
	var participants string
	var unread int
	var shown sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT c.root_id, c.participants, c.unread, c.last_status_id,
		(SELECT MAX(cs.status_id) FROM conversation_statuses cs JOIN statuses s ON s.id = cs.status_id WHERE cs.root_id = c.root_id AND `+vis+`)
		FROM account_conversations c WHERE c.account_id = ? AND c.root_id = ?`, append(visArgs, account, id)...).
		Scan(&c.ID, &participants, &unread, &c.Cursor, &shown)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !shown.Valid {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("conversation: %w", err)
	}
	c.Participants, c.Unread, c.LastStatusID = parseIDs(participants), unread != 0, shown.Int64
	return &c, nil
}
