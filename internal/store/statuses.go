package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is a post (or a reblog of one).
type Status struct {
	ID                 int64
	URI                string
	URL                string
	AccountID          int64
	Local              bool
	InReplyToID        int64 // 0: not a reply
	InReplyToAccountID int64
	ReblogOfID         int64 // 0: not a reblog
	Text               string
	Content            string
	SpoilerText        string
	Sensitive          bool
	Visibility         Visibility
	Language           string
	ApplicationID      int64
	RepliesCount       int64
	ReblogsCount       int64
	FavouritesCount    int64
	CreatedAt          time.Time
	EditedAt           time.Time // zero: never edited
}

// NewStatus is everything written with a status in one transaction.
type NewStatus struct {
	Status         *Status
	MentionIDs     []int64
	Tags           []string // lower case
	Words          []string // for search
	MediaIDs       []int64  // the author's unattached, processed uploads, in order
	IdempotencyKey string
	// FeedAccounts get the status in their home timeline besides the
	// author's followers (e.g. the mentioned accounts of a direct message).
	FeedAccounts []int64
	// DeferFanOut leaves the followers' home timelines to a job (KindFanOut)
	// committed with the status: the author's own and FeedAccounts' are
	// written at once.
	DeferFanOut bool
	// Federate is enqueued with the status when it reaches another server:
	// a remote account is mentioned, or (unless it is direct) follows the
	// author.
	Federate *NewJob
	// Jobs are enqueued with the status whatever its audience.
	Jobs []NewJob
	// Poll, when set, is written with the status, with the job that ends it.
	Poll *Poll
	// ScheduledID is the scheduled status this post publishes: it is
	// removed in the post's transaction (ErrNotFound when it is gone), and
	// the uploads held for it are the post's to attach.
	ScheduledID int64
}

// KindFanOut is the job that puts a status into its author's followers'
// home timelines (FanOutToFollowers); its payload is FanOutPayload.
const KindFanOut = "home.fanout"

// FanOutPayload is a fan-out job's: Pending (or Author, in jobs queued
// before they were pooled) drains every status waiting in fanout_pending;
// Status, the first form, writes one status.
type FanOutPayload struct {
	Pending bool  `json:"pending,omitempty"`
	Author  int64 `json:"author,omitempty"`
	Status  int64 `json:"status,omitempty"`
}

// fanOutHost is the jobs.host of the deferred fan-out job: how a post finds
// that one is waiting already.
const fanOutHost = "fanout"

const statusCols = `s.id, s.uri, s.url, s.account_id, s.local, COALESCE(s.in_reply_to_id, 0), COALESCE(s.in_reply_to_account_id, 0),
	COALESCE(s.reblog_of_id, 0), s.text, s.content, s.spoiler_text, s.sensitive, s.visibility, s.language, COALESCE(s.application_id, 0),
	s.replies_count, s.reblogs_count, s.favourites_count, s.created_at, COALESCE(s.edited_at, 0)`

func scanStatus(row scanner) (*Status, error) {
	var st Status
	var created, edited int64
	err := row.Scan(&st.ID, &st.URI, &st.URL, &st.AccountID, &st.Local, &st.InReplyToID, &st.InReplyToAccountID, &st.ReblogOfID,
		&st.Text, &st.Content, &st.SpoilerText, &st.Sensitive, &st.Visibility, &st.Language, &st.ApplicationID,
		&st.RepliesCount, &st.ReblogsCount, &st.FavouritesCount, &created, &edited)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load status: %w", err)
	}
	st.CreatedAt = fromMs(created)
	if edited != 0 {
		st.EditedAt = fromMs(edited)
	}
	return &st, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// ErrDuplicateKey means the Idempotency-Key was used within the hour; the
// existing status id is returned with it.
type ErrDuplicateKey struct{ StatusID int64 }

func (e *ErrDuplicateKey) Error() string { return "idempotency key already used" }

// CreateStatus writes a status with its mentions, tags, search words, counters
// and home-timeline entries in one transaction.
// Concurrent posts share a transaction (inWriteBatch).
func (s *Store) CreateStatus(ctx context.Context, n NewStatus) error {
	return s.inWriteBatch(ctx, func(ctx context.Context, tx *writeTx) error { return createStatus(ctx, tx, n) })
}

func createStatus(ctx context.Context, tx *writeTx, n NewStatus) error {
	st := n.Status
	if n.IdempotencyKey != "" {
		var existing int64
		err := tx.QueryRowContext(ctx, `SELECT status_id FROM idempotency_keys WHERE account_id = ? AND key = ? AND created_at > ?`,
			st.AccountID, n.IdempotencyKey, ms(st.CreatedAt.Add(-time.Hour))).Scan(&existing)
		if err == nil {
			return &ErrDuplicateKey{StatusID: existing}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("idempotency key: %w", err)
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO statuses (id, uri, url, account_id, local, in_reply_to_id, in_reply_to_account_id, reblog_of_id,
		text, content, spoiler_text, sensitive, visibility, language, application_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		st.ID, st.URI, st.URL, st.AccountID, boolInt(st.Local), nullID(st.InReplyToID), nullID(st.InReplyToAccountID), nullID(st.ReblogOfID),
		st.Text, st.Content, st.SpoilerText, boolInt(st.Sensitive), int(st.Visibility), st.Language, nullID(st.ApplicationID), ms(st.CreatedAt))
	if isUniqueViolation(err) && st.ReblogOfID != 0 {
		return fmt.Errorf("reblog: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create status: %w", err)
	}
	onRead, err := fannedOutOnRead(ctx, tx, st)
	if err != nil {
		return err
	}
	// A deferred status's search words wait for its fan-out (pendingWords).
	deferred := n.DeferFanOut && !onRead
	words := n.Words
	if deferred {
		words = nil
	}
	if err := writeStatusLinks(ctx, tx, st.ID, n.MentionIDs, n.Tags, words); err != nil {
		return err
	}
	if err := recordConversation(ctx, tx, st, n.MentionIDs); err != nil {
		return err
	}
	if n.ScheduledID != 0 {
		if err := takeScheduled(ctx, tx, n.ScheduledID, st.AccountID); err != nil {
			return err
		}
	}
	if err := attachMedia(ctx, tx, st.ID, st.AccountID, n.ScheduledID, n.MediaIDs); err != nil {
		return err
	}
	if n.Poll != nil {
		if err := createPoll(ctx, tx, n.Poll, st.CreatedAt); err != nil {
			return err
		}
	}
	if st.InReplyToID != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE statuses SET replies_count = replies_count + 1 WHERE id = ?`, st.InReplyToID); err != nil {
			return fmt.Errorf("count reply: %w", err)
		}
	}
	if st.ReblogOfID != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE statuses SET reblogs_count = reblogs_count + 1 WHERE id = ?`, st.ReblogOfID); err != nil {
			return fmt.Errorf("count reblog: %w", err)
		}
	}
	if n.IdempotencyKey != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (account_id, key, status_id, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, key) DO UPDATE SET status_id = excluded.status_id, created_at = excluded.created_at`,
			st.AccountID, n.IdempotencyKey, st.ID, ms(st.CreatedAt)); err != nil {
			return fmt.Errorf("idempotency key: %w", err)
		}
	}
	if !deferred && reachesTagFollowers(st, n.Tags, st.CreatedAt) {
		// A deferred status's tag followers are the fan-out job's.
		if err := fanOutTags(ctx, tx, []int64{st.ID}); err != nil {
			return err
		}
	}
	if onRead || deferred {
		// Only the rows the post's answer must show: followers read it at
		// home time (onRead), or get it from the fan-out job (deferred).
		if err := fanOutSelf(ctx, tx, st, n.FeedAccounts); err != nil {
			return err
		}
	} else if err := fanOut(ctx, tx, st, n.FeedAccounts); err != nil {
		return err
	}
	if deferred {
		// The status waits with every other deferred one; one job writes
		// them all. A job backing off after a failure must not hold every
		// post back, so one is enqueued unless one waits due as soon.
		if _, err := tx.ExecContext(ctx, `INSERT INTO fanout_pending (author_id, status_id, words) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			st.AccountID, st.ID, pendingWords(n.Words)); err != nil {
			return fmt.Errorf("fan-out: %w", err)
		}
		now := time.Now()
		if _, err := enqueueFanOut(ctx, tx, now.Add(fanOutDelay), now.Add(fanOutDelay)); err != nil {
			return err
		}
	}
	if n.Federate != nil {
		if err := enqueueIfRemoteAudience(ctx, tx, *n.Federate, st); err != nil {
			return err
		}
	}
	if err := enqueueAll(ctx, tx, n.Jobs, st.CreatedAt); err != nil {
		return err
	}
	return nil
}

// fanOutOnReadFollowers is the following at which an account's statuses
// stop being written to each follower's home_feed and are read into their
// home timelines instead (accounts.fanout_on_read, set by Follow and by
// migration 0024 with the same number). Writing is cheaper to read, so
// most accounts stay below it; past it a post would write hundreds of
// rows, more than SQLite inserts beside the posts of an instance (about
// 50,000 a second on 2 cores), while reading costs each follower's home
// timeline one index seek per such followee.
const fanOutOnReadFollowers = 500

// fannedOutOnRead reports whether st's followers read it at home time: it
// is a local status, not direct, and its author is marked.
func fannedOutOnRead(ctx context.Context, tx *writeTx, st *Status) (bool, error) {
	if !st.Local || st.Visibility == Direct {
		return false, nil
	}
	var onRead bool
	if err := tx.QueryRowContext(ctx, `SELECT fanout_on_read FROM accounts WHERE id = ?`, st.AccountID).Scan(&onRead); err != nil {
		return false, fmt.Errorf("fan-out: %w", err)
	}
	return onRead, nil
}

// EnsureFanOutJob enqueues a fan-out job when statuses are pending and no
// job will take them within a minute: after a job was buried, or backs off for hours,
// with no post since to enqueue another. It reports whether it did.
func (s *Store) EnsureFanOutJob(ctx context.Context, now time.Time) (bool, error) {
	return enqueueFanOut(ctx, s.write, now, now.Add(time.Minute))
}

// enqueueFanOut enqueues the fan-out job, due at runAt, when statuses are
// pending and no job waits unclaimed due by dueBy (a running one may have
// read its batch already). It reports whether it did.
func enqueueFanOut(ctx context.Context, x execer, runAt, dueBy time.Time) (bool, error) {
	payload, _ := json.Marshal(FanOutPayload{Pending: true})
	res, err := x.ExecContext(ctx, `INSERT INTO jobs (kind, payload, host, run_at, created_at)
		SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM fanout_pending)
		AND NOT EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_host
			WHERE host = ? AND kind = ? AND state = 'pending' AND lease_until = 0 AND run_at <= ?)`,
		KindFanOut, string(payload), fanOutHost, ms(runAt), ms(time.Now()), fanOutHost, KindFanOut, ms(dueBy))
	if err != nil {
		return false, fmt.Errorf("enqueue fan-out: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// pendingWords is a deferred status's search words as fanout_pending
// keeps them: a JSON array.
func pendingWords(words []string) string {
	if len(words) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(words)
	return string(b)
}

// fanOutBatch bounds the statuses, and fanOutRows the rows (home_feed's,
// by the authors' follower counts, and search words), that one fan-out
// transaction writes.
// Large, because rows written together share pages: a follower of several
// of the batch's authors gets one page written, not one per post. Bounded,
// because a transaction holds the one writer and posts wait behind it
// (group commit then runs those that queued meanwhile together).
// fanOutDelay is how long a fan-out job waits before it runs: the posts
// meanwhile join it, and are written together. Followers' timelines trail
// by about this.
const (
	fanOutBatch = 1024
	fanOutRows  = 8192
	fanOutDelay = time.Second
)

// FanOutPending writes the pending statuses (fanout_pending) into their
// authors' followers' home timelines (the job KindFanOut), oldest first, a
// batch per transaction. The statuses of many authors go into one
// transaction: a follower's rows share B-tree pages, and the commit and its
// WAL frames are paid once per batch, not per post (a job per post cost
// more than the rows themselves). A batch is taken and deleted in its own
// write transaction, so two runs at once never write one twice; running it
// again (a retried job) writes nothing new.
func (s *Store) FanOutPending(ctx context.Context) error {
	return s.FanOutPendingEach(ctx, nil)
}

// FanOutPendingEach is FanOutPending, calling written (when not nil) for
// each status of a batch once the batch is committed.
func (s *Store) FanOutPendingEach(ctx context.Context, written func(status, author int64)) error {
	for {
		done, err := s.fanOutPendingBatch(ctx, written)
		if err != nil {
			return fmt.Errorf("fan out pending statuses: %w", err)
		}
		if done {
			return nil
		}
	}
}

// pendingBatchSQL reads the oldest pending statuses, with the rows each
// will write (its author's followers and its search words), by which a
// batch is cut.
//
// A row's words are read as SQLite's JSON functions read them, or on
// PostgreSQL by rampart_json_strings (its migration 0026), which yields the
// strings of a JSON array and nothing for any other text, as json_each with
// w.type = 'text' does.
const pendingBatchSQL = `SELECT p.author_id, p.status_id, COALESCE(a.followers_count, 0) + CASE WHEN json_valid(p.words) THEN json_array_length(p.words) ELSE 0 END
	FROM fanout_pending p INDEXED BY fanout_pending_status
	LEFT JOIN account_stats a ON a.account_id = p.author_id ORDER BY p.status_id LIMIT ?`

const pendingBatchPostgres = `SELECT p.author_id, p.status_id, COALESCE(a.followers_count, 0) + (SELECT COUNT(*) FROM rampart_json_strings(p.words))
	FROM fanout_pending p
	LEFT JOIN account_stats a ON a.account_id = p.author_id ORDER BY p.status_id LIMIT ?`

// pendingWordsFrom is the FROM clause of the words of the batch's rows, w
// with a column value: per engine, as pendingBatchSQL.
const (
	pendingWordsFrom = `fanout_pending p INDEXED BY fanout_pending_status JOIN statuses st ON st.id = p.status_id,
			json_each(CASE WHEN json_valid(p.words) THEN p.words ELSE '[]' END) w`
	pendingWordsWhere        = ` AND w.type = 'text'`
	pendingWordsFromPostgres = `fanout_pending p JOIN statuses st ON st.id = p.status_id, rampart_json_strings(p.words) w(value)`
)

func (s *Store) fanOutPendingBatch(ctx context.Context, written func(status, author int64)) (done bool, err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	batchSQL, wordsFrom, wordsWhere := pendingBatchSQL, pendingWordsFrom, pendingWordsWhere
	if s.dialect == dialectPostgres {
		batchSQL, wordsFrom, wordsWhere = pendingBatchPostgres, pendingWordsFromPostgres, ""
	}
	rows, err := tx.QueryContext(ctx, batchSQL, fanOutBatch)
	if err != nil {
		return false, err
	}
	type pending struct{ author, status int64 }
	var batch []pending
	var ids []int64
	var budget int64
	for rows.Next() {
		var p pending
		var cost int64
		if err := rows.Scan(&p.author, &p.status, &cost); err != nil {
			rows.Close()
			return false, err
		}
		// At least one status, whatever its following.
		if len(batch) > 0 && budget+cost > fanOutRows {
			break
		}
		budget += cost
		batch = append(batch, p)
		ids = append(ids, p.status)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	if len(batch) == 0 {
		return true, nil
	}
	in, args := inList(ids)
	if _, err := tx.ExecContext(ctx, `INSERT INTO home_feed (account_id, status_id, author_id)
		SELECT f.account_id, st.id, st.account_id FROM statuses st JOIN follows f ON f.target_account_id = st.account_id
		WHERE st.id IN `+in+` AND f.remote = 0 AND st.visibility != 3 AND (st.reblog_of_id IS NULL OR f.show_reblogs = 1)
		ON CONFLICT DO NOTHING`, args...); err != nil {
		return false, err
	}
	// Tag followers' rows are not in the batch's budget: a status has a
	// few tags, each followed here by few accounts.
	if err := fanOutTags(ctx, tx, ids); err != nil {
		return false, err
	}
	// A row that is not what pendingWords writes is skipped, not fatal: one
	// bad row must not stop every author's fan-out. A status deleted (and
	// its id taken again) since is not the one whose words these are.
	if _, err := tx.ExecContext(ctx, `INSERT INTO status_words (word, status_id)
		SELECT w.value, p.status_id FROM `+wordsFrom+`
		WHERE p.status_id IN `+in+` AND st.account_id = p.author_id`+wordsWhere+` ON CONFLICT DO NOTHING`, args...); err != nil {
		return false, err
	}
	for _, p := range batch {
		if _, err := tx.ExecContext(ctx, `DELETE FROM fanout_pending WHERE author_id = ? AND status_id = ?`, p.author, p.status); err != nil {
			return false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	if written != nil {
		for _, p := range batch {
			written(p.status, p.author)
		}
	}
	return false, nil
}

// FanOutToFollowers puts a status into its author's followers' home
// timelines (the job KindFanOut). Rows already there stay, so running it
// twice (a job retried after a crash) changes nothing; a status deleted
// since is nothing to do.
func (s *Store) FanOutToFollowers(ctx context.Context, statusID int64) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("fan out %d: %w", statusID, err)
	}
	defer tx.Rollback()
	st, err := scanStatus(tx.QueryRowContext(ctx, `SELECT `+statusCols+` FROM statuses s WHERE s.id = ?`, statusID))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fan out %d: %w", statusID, err)
	}
	if err := fanOutFollowers(ctx, tx, st); err != nil {
		return err
	}
	if err := fanOutTags(ctx, tx, []int64{st.ID}); err != nil {
		return err
	}
	return tx.Commit()
}

// fanOut puts a status into the home timelines it belongs to: the author's,
// and — unless it is direct — its followers' (for reblogs, those who want
// to see the author's reblogs); plus any extra accounts.
func fanOut(ctx context.Context, tx *writeTx, st *Status, extra []int64) error {
	if err := fanOutSelf(ctx, tx, st, extra); err != nil {
		return err
	}
	return fanOutFollowers(ctx, tx, st)
}

// fanOutSelf is the part of fanOut a post's answer must already show: the
// author's own home timeline and the extra accounts'.
func fanOutSelf(ctx context.Context, tx *writeTx, st *Status, extra []int64) error {
	// A remote author has no home timeline here.
	if st.Local {
		if _, err := tx.ExecContext(ctx, `INSERT INTO home_feed (account_id, status_id, author_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			st.AccountID, st.ID, st.AccountID); err != nil {
			return fmt.Errorf("home feed: %w", err)
		}
	}
	for _, a := range extra {
		if _, err := tx.ExecContext(ctx, `INSERT INTO home_feed (account_id, status_id, author_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			a, st.ID, st.AccountID); err != nil {
			return fmt.Errorf("home feed: %w", err)
		}
	}
	return nil
}

// fanOutFollowers is the part of fanOut that grows with the author's
// followers: the local ones (a remote follower has no home timeline here).
func fanOutFollowers(ctx context.Context, tx *writeTx, st *Status) error {
	if st.Visibility != Direct {
		q := `INSERT INTO home_feed (account_id, status_id, author_id)
			SELECT f.account_id, ?, ? FROM follows f WHERE f.target_account_id = ? AND f.remote = 0`
		if st.ReblogOfID != 0 {
			q += ` AND f.show_reblogs = 1`
		}
		q += ` ON CONFLICT DO NOTHING`
		if _, err := tx.ExecContext(ctx, q, st.ID, st.AccountID, st.AccountID); err != nil {
			return fmt.Errorf("home feed: %w", err)
		}
	}
	return nil
}

func writeStatusLinks(ctx context.Context, tx *writeTx, statusID int64, mentionIDs []int64, tags, words []string) error {
	for _, m := range mentionIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mentions (status_id, account_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, statusID, m); err != nil {
			return fmt.Errorf("mention: %w", err)
		}
	}
	for _, t := range tags {
		var tagID int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`,
			t).Scan(&tagID); err != nil {
			return fmt.Errorf("tag %q: %w", t, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO status_tags (tag_id, status_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, tagID, statusID); err != nil {
			return fmt.Errorf("tag %q: %w", t, err)
		}
	}
	for _, w := range words {
		if _, err := tx.ExecContext(ctx, `INSERT INTO status_words (word, status_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, w, statusID); err != nil {
			return fmt.Errorf("search word: %w", err)
		}
	}
	return nil
}

// StatusEdit is an earlier version of a status.
type StatusEdit struct {
	Text        string
	Content     string
	SpoilerText string
	Sensitive   bool
	CreatedAt   time.Time
}

// RefreshRemoteContent replaces a remote status's content in place, with
// no history and no edit time: a poll's results as they move.
func (s *Store) RefreshRemoteContent(ctx context.Context, id int64, content string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE statuses SET content = ? WHERE id = ? AND local = 0`, content, id)
	return expectOne(res, err, "refresh remote content")
}

// EditStatus keeps the current version in the history, then replaces the
// text and what is derived from it.
// mediaIDs replaces the attachments (nil keeps them); dropped ones are deleted.
//
// federate is enqueued with the edit when the status reaches another server
// (as NewStatus.Federate); nil: nothing is.
func (s *Store) EditStatus(ctx context.Context, st *Status, editID int64, mentionIDs []int64, tags, words []string, mediaIDs []int64, federate *NewJob) error {
	return s.editStatus(ctx, st, editID, mentionIDs, tags, words, mediaIDs, federate, nil, false)
}

// EditStatusPoll is EditStatus that also changes the status's poll (poll
// nil: as EditStatus, the poll is left as it is).
func (s *Store) EditStatusPoll(ctx context.Context, st *Status, editID int64, mentionIDs []int64, tags, words []string, mediaIDs []int64, federate *NewJob, poll *PollChange) error {
	return s.editStatus(ctx, st, editID, mentionIDs, tags, words, mediaIDs, federate, poll, false)
}

// ErrUnchanged: a remote edit would change nothing a reader sees.
var ErrUnchanged = errors.New("the status already reads so")

// EditRemoteStatus is EditStatus for an edit another server delivered: it
// changes nothing, and returns ErrUnchanged, when the status already has
// that text, spoiler and sensitivity. The check is made in the edit's own
// transaction, so that the same edit delivered twice at once is one edit.
func (s *Store) EditRemoteStatus(ctx context.Context, st *Status, editID int64, mentionIDs []int64, tags, words []string) error {
	return s.editStatus(ctx, st, editID, mentionIDs, tags, words, nil, nil, nil, true)
}

func (s *Store) editStatus(ctx context.Context, st *Status, editID int64, mentionIDs []int64, tags, words []string, mediaIDs []int64, federate *NewJob, poll *PollChange, onlyIfChanged bool) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("edit status: %w", err)
	}
	defer tx.Rollback()
	if onlyIfChanged {
		var same bool
		if err := tx.QueryRowContext(ctx, `SELECT content = ? AND spoiler_text = ? AND sensitive = ? FROM statuses WHERE id = ?`,
			st.Content, st.SpoilerText, boolInt(st.Sensitive), st.ID).Scan(&same); err != nil {
			return fmt.Errorf("edit status: %w", err)
		}
		if same {
			return ErrUnchanged
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO status_edits (id, status_id, text, content, spoiler_text, sensitive, created_at)
		SELECT ?, id, text, content, spoiler_text, sensitive, COALESCE(edited_at, created_at) FROM statuses WHERE id = ?`, editID, st.ID); err != nil {
		return fmt.Errorf("edit history: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE statuses SET text = ?, content = ?, spoiler_text = ?, sensitive = ?, language = ?, edited_at = ? WHERE id = ?`,
		st.Text, st.Content, st.SpoilerText, boolInt(st.Sensitive), st.Language, ms(st.EditedAt), st.ID)
	if err := expectOne(res, err, "edit status"); err != nil {
		return err
	}
	for _, table := range []string{"mentions", "status_tags", "status_words"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE status_id = ?`, st.ID); err != nil {
			return fmt.Errorf("edit status: %w", err)
		}
	}
	// Words still waiting for the fan-out are the old text's.
	if _, err := tx.ExecContext(ctx, `UPDATE fanout_pending SET words = '[]' WHERE status_id = ?`, st.ID); err != nil {
		return fmt.Errorf("edit status: %w", err)
	}
	if err := writeStatusLinks(ctx, tx, st.ID, mentionIDs, tags, words); err != nil {
		return err
	}
	if mediaIDs != nil {
		keep := append([]any{st.ID}, int64Args(mediaIDs)...)
		q := `DELETE FROM media_attachments WHERE status_id = ?`
		if len(mediaIDs) > 0 {
			q += ` AND id NOT IN (` + placeholders(len(mediaIDs)) + `)`
		}
		if _, err := tx.ExecContext(ctx, q, keep...); err != nil {
			return fmt.Errorf("edit media: %w", err)
		}
		if err := attachMedia(ctx, tx, st.ID, st.AccountID, 0, mediaIDs); err != nil {
			return err
		}
	}
	if poll != nil {
		if err := changePoll(ctx, tx, st.ID, poll, st.EditedAt); err != nil {
			return err
		}
	}
	if federate != nil {
		if err := enqueueIfRemoteAudience(ctx, tx, *federate, st); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// StatusEdits returns the earlier versions, oldest first.
func (s *Store) StatusEdits(ctx context.Context, statusID int64) ([]StatusEdit, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT text, content, spoiler_text, sensitive, created_at FROM status_edits WHERE status_id = ? ORDER BY id`, statusID)
	if err != nil {
		return nil, fmt.Errorf("status history: %w", err)
	}
	defer rows.Close()
	var out []StatusEdit
	for rows.Next() {
		var e StatusEdit
		var created int64
		if err := rows.Scan(&e.Text, &e.Content, &e.SpoilerText, &e.Sensitive, &created); err != nil {
			return nil, err
		}
		e.CreatedAt = fromMs(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// DeleteStatus removes a status and everything hanging off it (reblogs,
// favourites, notifications, feed entries) and fixes the counters.
// federate is enqueued with it when the status had reached another server
// (as NewStatus.Federate); nil: nothing is.
func (s *Store) DeleteStatus(ctx context.Context, st *Status, federate *NewJob) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete status: %w", err)
	}
	defer tx.Rollback()
	if federate != nil {
		// Before the delete: its mentions go with it.
		if err := enqueueIfRemoteAudience(ctx, tx, *federate, st); err != nil {
			return err
		}
	}
	// Its fan-out, and the search words waiting with it, go with it.
	if _, err := tx.ExecContext(ctx, `DELETE FROM fanout_pending WHERE author_id = ? AND status_id = ?`, st.AccountID, st.ID); err != nil {
		return fmt.Errorf("delete status: %w", err)
	}
	if st.Local {
		// Delete and re-draft: the uploads are let go, not deleted, so that
		// the author can attach them to a new post; the sweep takes them a
		// day after (media.UnattachedTTL). Until then nobody is served them.
		if _, err := tx.ExecContext(ctx, `UPDATE media_attachments SET status_id = NULL, detached_at = ? WHERE status_id = ?`,
			ms(time.Now()), st.ID); err != nil {
			return fmt.Errorf("delete status: %w", err)
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM statuses WHERE id = ?`, st.ID)
	if err := expectOne(res, err, "delete status"); err != nil {
		return err
	}
	if st.InReplyToID != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE statuses SET replies_count = CASE WHEN replies_count > 0 THEN replies_count - 1 ELSE 0 END WHERE id = ?`, st.InReplyToID); err != nil {
			return fmt.Errorf("delete status: %w", err)
		}
	}
	if st.ReblogOfID != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE statuses SET reblogs_count = CASE WHEN reblogs_count > 0 THEN reblogs_count - 1 ELSE 0 END WHERE id = ?`, st.ReblogOfID); err != nil {
			return fmt.Errorf("delete status: %w", err)
		}
		// The reblog notification points at the original, so it does not cascade.
		if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE from_account_id = ? AND status_id = ? AND type = 'reblog'`,
			st.AccountID, st.ReblogOfID); err != nil {
			return fmt.Errorf("delete status: %w", err)
		}
	}
	return tx.Commit()
}

// StatusByID loads a status without any visibility check (for its author's actions).
func (s *Store) StatusByID(ctx context.Context, id int64) (*Status, error) {
	return scanStatus(s.read.QueryRowContext(ctx, `SELECT `+statusCols+` FROM statuses s WHERE s.id = ?`, id))
}

// VisibleStatus loads a status if viewer may see it; ErrNotFound otherwise.
func (s *Store) VisibleStatus(ctx context.Context, viewer, id int64) (*Status, error) {
	vis, args := visibleSQL("s", viewer)
	return scanStatus(s.read.QueryRowContext(ctx, `SELECT `+statusCols+` FROM statuses s WHERE s.id = ? AND `+vis, append([]any{id}, args...)...))
}

// VisibleStatusIDs returns those of ids the viewer may see, in no order.
func (s *Store) VisibleStatusIDs(ctx context.Context, viewer int64, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := inList(ids)
	vis, visArgs := visibleSQL("s", viewer)
	rows, err := s.read.QueryContext(ctx, `SELECT s.id FROM statuses s WHERE s.id IN `+in+` AND `+vis, append(args, visArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("visible statuses: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("visible statuses: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// StatusesByIDs loads statuses by id (no visibility check), keyed by id.
func (s *Store) StatusesByIDs(ctx context.Context, ids []int64) (map[int64]*Status, error) {
	out := map[int64]*Status{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := s.read.QueryContext(ctx, `SELECT `+statusCols+` FROM statuses s WHERE s.id IN `+in, args...)
	if err != nil {
		return nil, fmt.Errorf("load statuses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		st, err := scanStatus(rows)
		if err != nil {
			return nil, err
		}
		out[st.ID] = st
	}
	return out, rows.Err()
}

// AccountsWithStats loads accounts by id with their counters, keyed by id,
// in one query: what rendering accounts needs.
func (s *Store) AccountsWithStats(ctx context.Context, ids []int64) (map[int64]*Account, map[int64]AccountStats, error) {
	accounts, stats := map[int64]*Account{}, map[int64]AccountStats{}
	if len(ids) == 0 {
		return accounts, stats, nil
	}
	in, args := inList(ids)
	rows, err := s.read.QueryContext(ctx, `SELECT `+accountCols+`, COALESCE(st.statuses_count, 0), COALESCE(st.followers_count, 0),
		COALESCE(st.following_count, 0), COALESCE(st.last_status_at, 0), COALESCE(st.follow_requests_count, 0)
		FROM accounts a LEFT JOIN account_stats st ON st.account_id = a.id WHERE a.id IN `+in, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("load accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st AccountStats
		var last int64
		a, err := scanAccount(rows, &st.Statuses, &st.Followers, &st.Following, &last, &st.FollowRequests)
		if err != nil {
			return nil, nil, fmt.Errorf("load accounts: %w", err)
		}
		if last > 0 {
			st.LastStatusAt = fromMs(last)
		}
		accounts[a.ID], stats[a.ID] = a, st
	}
	return accounts, stats, rows.Err()
}

// AccountsByIDs loads accounts by id, keyed by id.
func (s *Store) AccountsByIDs(ctx context.Context, ids []int64) (map[int64]*Account, error) {
	out := map[int64]*Account{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := s.read.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts a WHERE a.id IN `+in, args...)
	if err != nil {
		return nil, fmt.Errorf("load accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out[a.ID] = a
	}
	return out, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// queryIDs runs a query returning one int64 column.
func (s *Store) queryIDs(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
