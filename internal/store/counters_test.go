package store

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counterFixture is a store with local accounts and an id source.
type counterFixture struct {
	s        *Store
	path     string
	accounts []int64
	next     atomic.Int64
}

func newCounterFixture(t testing.TB, users int) *counterFixture {
	t.Helper()
	f := &counterFixture{path: filepath.Join(t.TempDir(), "rampart.db")}
	f.s = open(t, f.path)
	t.Cleanup(func() { f.s.Close() })
	f.next.Store(1000)
	for i := range users {
		f.accounts = append(f.accounts, f.addUser(t, "user"+strconv.Itoa(i), i%5 != 4))
	}
	return f
}

func (f *counterFixture) id() int64 { return f.next.Add(1) }

func (f *counterFixture) addUser(t testing.TB, name string, approved bool) int64 {
	t.Helper()
	now := time.Now()
	a := &Account{ID: f.id(), Username: name, URI: "https://example.test/users/" + name, URL: "https://example.test/@" + name, Discoverable: true,
		CreatedAt: now, UpdatedAt: now}
	u := &User{Email: name + "@example.test", PasswordHash: "x", Role: "user", Approved: approved, Locale: "en",
		DefaultPrivacy: "public", CreatedAt: now}
	if err := f.s.CreateLocalAccount(context.Background(), a, u); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func (f *counterFixture) post(ctx context.Context, rng *mrand.Rand, author int64, reblogOf, replyTo *Status) (*Status, error) {
	id := f.id()
	st := &Status{ID: id, URI: "https://example.test/s/" + strconv.FormatInt(id, 10), AccountID: author, Local: rng.IntN(4) != 0,
		Visibility: Visibility(rng.IntN(4)), Text: "hello", CreatedAt: time.UnixMilli(1_700_000_000_000 + rng.Int64N(1_000_000_000))}
	if reblogOf != nil {
		st.ReblogOfID, st.Text, st.Visibility = reblogOf.ID, "", Visibility(rng.IntN(3))
	} else if replyTo != nil {
		st.InReplyToID, st.InReplyToAccountID = replyTo.ID, replyTo.AccountID
	}
	if err := f.s.CreateStatus(ctx, NewStatus{Status: st}); err != nil {
		return nil, err
	}
	return st, nil
}

// recount computes every kept counter from the rows, as StatsFor and the
// instance once did on every read.
func recount(t *testing.T, s *Store) (map[int64]AccountStats, InstanceStats) {
	t.Helper()
	ctx := context.Background()
	out := map[int64]AccountStats{}
	rows, err := s.read.QueryContext(ctx, `SELECT a.id,
		(SELECT COUNT(*) FROM statuses s WHERE s.account_id = a.id AND s.visibility IN (0, 1, 2)),
		(SELECT COUNT(*) FROM follows f WHERE f.target_account_id = a.id),
		(SELECT COUNT(*) FROM follows f WHERE f.account_id = a.id),
		(SELECT COALESCE(MAX(s.created_at), 0) FROM statuses s WHERE s.account_id = a.id AND s.visibility IN (0, 1, 2)),
		(SELECT COUNT(*) FROM follow_requests r WHERE r.target_account_id = a.id)
		FROM accounts a`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, last int64
		var st AccountStats
		if err := rows.Scan(&id, &st.Statuses, &st.Followers, &st.Following, &last, &st.FollowRequests); err != nil {
			t.Fatal(err)
		}
		if last > 0 {
			st.LastStatusAt = fromMs(last)
		}
		out[id] = st
	}
	var inst InstanceStats
	if err := s.read.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM users WHERE approved = 1 AND disabled = 0),
		(SELECT COUNT(*) FROM statuses WHERE local = 1 AND reblog_of_id IS NULL)`).Scan(&inst.LocalUsers, &inst.LocalPosts); err != nil {
		t.Fatal(err)
	}
	return out, inst
}

// wantCountersMatchRecount fails unless every kept counter equals a recount.
func wantCountersMatchRecount(t *testing.T, f *counterFixture) {
	t.Helper()
	ctx := context.Background()
	want, wantInst := recount(t, f.s)
	got, err := f.s.StatsFor(ctx, f.accounts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(f.accounts) {
		t.Errorf("StatsFor found %d of %d accounts", len(got), len(f.accounts))
	}
	for _, id := range f.accounts {
		if got[id] != want[id] {
			t.Errorf("account %d: kept %+v, recount %+v", id, got[id], want[id])
		}
	}
	inst, err := f.s.InstanceStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if inst != wantInst {
		t.Errorf("instance: kept %+v, recount %+v", inst, wantInst)
	}
}

// goneOrTaken forgives what concurrent workers do to each other: the status
// reblogged or replied to was deleted meanwhile, or is reblogged already.
func goneOrTaken(err error) error {
	if errors.Is(err, ErrConflict) || isForeignKeyViolation(err) {
		return nil
	}
	return err
}

// The counters are kept on write, by every write path, so they must equal a
// recount after any interleaving of posting, reblogging, replying,
// deleting, following, requesting, blocking and approving.
func TestCountersMatchARecountUnderConcurrentWrites(t *testing.T) {
	f := newCounterFixture(t, 12)
	ctx := context.Background()
	var mu sync.Mutex
	var posted []*Status
	pick := func(rng *mrand.Rand) *Status {
		mu.Lock()
		defer mu.Unlock()
		if len(posted) == 0 {
			return nil
		}
		return posted[rng.IntN(len(posted))]
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(w), 42))
			for range 250 {
				a := f.accounts[rng.IntN(len(f.accounts))]
				b := f.accounts[rng.IntN(len(f.accounts))]
				var err error
				switch op := rng.IntN(10); {
				case op < 3:
					var st *Status
					if st, err = f.post(ctx, rng, a, nil, nil); err == nil {
						mu.Lock()
						posted = append(posted, st)
						mu.Unlock()
					}
				case op == 3:
					if orig := pick(rng); orig != nil && orig.ReblogOfID == 0 && orig.AccountID != a {
						_, err = f.post(ctx, rng, a, orig, nil)
						err = goneOrTaken(err)
					}
				case op == 4:
					if parent := pick(rng); parent != nil {
						_, err = f.post(ctx, rng, a, nil, parent)
						err = goneOrTaken(err)
					}
				case op == 5:
					if st := pick(rng); st != nil {
						// Deleting cascades to its reblogs; either may be gone already.
						if err = f.s.DeleteStatus(ctx, st, nil); errors.Is(err, ErrNotFound) {
							err = nil
						}
					}
				case op == 6 && a != b:
					_, err = f.s.Follow(ctx, f.id(), a, b, FollowOptions{ShowReblogs: true}, time.Now())
				case op == 7 && a != b:
					if rng.IntN(2) == 0 {
						err = f.s.Unfollow(ctx, a, b)
					} else {
						_, err = f.s.RequestFollow(ctx, f.id(), a, b, FollowOptions{}, time.Now())
					}
				case op == 8 && a != b:
					if rng.IntN(3) == 0 {
						err = f.s.Unrelate(ctx, Blocks, a, b)
					} else {
						err = f.s.Block(ctx, f.id(), a, b, time.Now())
					}
				case op == 9:
					if rng.IntN(2) == 0 {
						err = f.s.RejectFollowRequest(ctx, a, b)
					} else {
						err = f.s.SetUserFlags(ctx, a, "user", rng.IntN(4) != 0, rng.IntN(4) == 0)
					}
				}
				if err != nil {
					errs <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Writes no path makes today, as a future one (moderation, say) might,
	// and an account deleted with everything it had.
	a, gone := f.accounts[0], f.accounts[len(f.accounts)-1]
	for _, w := range []struct {
		q    string
		args []any
	}{
		{`UPDATE statuses SET visibility = (visibility + 1) % 4 WHERE id % 7 = 0`, nil},
		{`UPDATE statuses SET account_id = ? WHERE id % 11 = 0`, []any{a}},
		{`UPDATE statuses SET created_at = created_at + 86400000 WHERE id % 13 = 0`, nil},
		{`UPDATE statuses SET local = 1 - local WHERE id % 5 = 0`, nil},
		{`UPDATE follows SET account_id = ? WHERE id = (SELECT MIN(f.id) FROM follows f WHERE f.account_id <> ? AND f.target_account_id <> ?
			AND NOT EXISTS (SELECT 1 FROM follows g WHERE g.account_id = ? AND g.target_account_id = f.target_account_id))`, []any{a, a, a, a}},
		{`UPDATE follow_requests SET target_account_id = ? WHERE id = (SELECT MIN(r.id) FROM follow_requests r WHERE r.account_id <> ?
			AND r.target_account_id <> ? AND NOT EXISTS (SELECT 1 FROM follow_requests g WHERE g.account_id = r.account_id AND g.target_account_id = ?))`, []any{a, a, a, a}},
		{`DELETE FROM accounts WHERE id = ?`, []any{gone}},
	} {
		if _, err := f.s.write.ExecContext(ctx, w.q, w.args...); err != nil {
			t.Fatalf("%s: %v", w.q, err)
		}
	}
	f.accounts = f.accounts[:len(f.accounts)-1]
	want, wantInst := recount(t, f.s)
	var statuses, follows int64
	for _, st := range want {
		statuses += st.Statuses
		follows += st.Followers
	}
	if statuses == 0 || follows == 0 || wantInst.LocalPosts == 0 {
		t.Fatalf("the workload left nothing to count: %d statuses, %d follows, %+v", statuses, follows, wantInst)
	}
	wantCountersMatchRecount(t, f)
}

// An existing instance's counters are computed once, by the migration that
// introduced them: the same figures as a recount.
func TestCounterMigrationBackfills(t *testing.T) {
	sqliteOnly(t, "it replays a migration older than PostgreSQL support: no PostgreSQL database was ever at that version")
	f := newCounterFixture(t, 6)
	ctx := context.Background()
	rng := mrand.New(mrand.NewPCG(7, 7))
	for i := range 60 {
		if _, err := f.post(ctx, rng, f.accounts[i%len(f.accounts)], nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, a := range f.accounts {
		for _, b := range f.accounts[:i] {
			if _, err := f.s.Follow(ctx, f.id(), a, b, FollowOptions{}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := f.s.RequestFollow(ctx, f.id(), f.accounts[0], f.accounts[5], FollowOptions{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Take the database back to before migration 6, with wrong counters
	// left behind in case the migration kept rather than recomputed them.
	var version int
	if err := f.s.write.QueryRowContext(ctx, `SELECT version FROM schema_migrations WHERE name = '0006_counters.sql'`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	rows, err := f.s.read.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'trigger' AND (name LIKE 'account_stats_%' OR name LIKE 'instance_stats_%')`)
	if err != nil {
		t.Fatal(err)
	}
	var triggers []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		triggers = append(triggers, n)
	}
	rows.Close()
	if len(triggers) < 10 {
		t.Fatalf("found %d counter triggers", len(triggers))
	}
	undo := `UPDATE account_stats SET statuses_count = 999; DROP TABLE account_stats; DROP TABLE instance_stats;
		DROP INDEX statuses_public_timeline; DROP INDEX statuses_local_timeline; CREATE INDEX statuses_public ON statuses (local, visibility, id);
		DROP INDEX accounts_domain_username; DROP INDEX users_hidden;
		DELETE FROM schema_migrations WHERE version >= ` + strconv.Itoa(version) + `;`
	for _, tr := range triggers {
		undo += ` DROP TRIGGER ` + tr + `;`
	}
	// Later migrations, undone too (each adds its undo here).
	undo += ` ALTER TABLE accounts DROP COLUMN ed25519_private_key_pem;` // 0007
	for _, col := range []string{"avatar_remote_url", "header_remote_url", "inbox_url", "shared_inbox_url", "fetched_at"} {
		undo += ` ALTER TABLE accounts DROP COLUMN ` + col + `;` // 0008
	}
	undo += ` DROP TABLE domain_blocks;`                                                   // 0009
	undo += ` DROP INDEX users_last_active; ALTER TABLE users DROP COLUMN last_active_at;` // 0010
	undo += ` DROP TABLE remote_media_hosts;`                                              // 0011
	undo += ` DROP TABLE jobs;`                                                            // 0012
	undo += ` DROP INDEX follows_notify;`                                                  // 0013
	undo += ` DROP INDEX follow_requests_uri; DROP INDEX follows_uri; DROP INDEX favourites_uri;
		ALTER TABLE follows DROP COLUMN uri; ALTER TABLE follow_requests DROP COLUMN uri; ALTER TABLE favourites DROP COLUMN uri;
		DROP TABLE inbox_activities; DROP TABLE federation_hosts;` // 0014
	undo += ` DROP INDEX IF EXISTS jobs_host;`                                                                       // 0015 (gone with jobs, 0012)
	undo += ` DROP TABLE domain_allows;`                                                                             // 0016
	undo += ` DROP INDEX accounts_silenced; ALTER TABLE accounts DROP COLUMN silenced;`                              // 0017 (its domain_blocks columns go with 0009)
	undo += ` DROP TABLE reports;`                                                                                   // 0018
	undo += ` ALTER TABLE accounts DROP COLUMN deleted_at;`                                                          // 0019
	undo += ` DROP TABLE gone_objects; DROP INDEX IF EXISTS reports_uri; ALTER TABLE accounts DROP COLUMN moved_at;` // 0020
	// 0021 moves data only: nothing to undo.
	undo += ` DROP TABLE fanout_pending;`                                                                                                             // 0022
	undo += ` CREATE INDEX home_feed_author ON home_feed (account_id, author_id); DROP INDEX follows_remote; ALTER TABLE follows DROP COLUMN remote;` // 0023
	undo += ` DROP INDEX accounts_fanout_on_read; ALTER TABLE accounts DROP COLUMN fanout_on_read;`                                                   // 0024
	// 0025's index and 0026's column go with 0022's table.
	undo += ` DROP TABLE id_workers;` // 0027
	// 0028's column goes with 0012's table.
	undo += ` DROP INDEX media_attachments_processing; ALTER TABLE media_attachments DROP COLUMN processed_by;`                           // 0029
	undo += ` DROP TABLE rate_limits;`                                                                                                    // 0030
	undo += ` DROP TABLE announcement_reactions; DROP TABLE announcement_dismissals; DROP TABLE announcements; DROP TABLE custom_emojis;` // 0031
	undo += ` DROP TABLE tag_follows; DROP TABLE featured_tags; DROP INDEX IF EXISTS account_stats_last_status;`                          // 0032 (the index went with 0006)
	undo += ` DROP TABLE markers; DROP TABLE suggestion_dismissals;`                                                                      // 0033
	undo += ` DROP TABLE poll_votes; DROP TABLE poll_options; DROP TABLE polls;`                                                          // 0034
	undo += ` DROP TABLE notification_permissions; DROP TABLE notification_requests; DROP TABLE notification_policies;
		DROP INDEX notifications_filtered; DROP INDEX notifications_group;
		ALTER TABLE notifications DROP COLUMN filtered; ALTER TABLE notifications DROP COLUMN group_key;` // 0035
	undo += ` DROP TABLE account_conversations; DROP TABLE conversation_statuses; DROP INDEX media_scheduled; ALTER TABLE media_attachments DROP COLUMN scheduled_status_id; ALTER TABLE media_attachments DROP COLUMN detached_at; DROP TABLE scheduled_statuses;` // 0036
	undo += ` DROP TABLE filter_statuses; DROP TABLE filter_keywords; DROP TABLE filters;`                                                                                                                                                                          // 0037
	undo += ` DROP TABLE account_notes; DROP TABLE conversation_mutes;`                                                                                                                                                                                             // 0038
	undo += ` ALTER TABLE notifications DROP COLUMN report_id;`                                                                                                                                                                                                     // 0039 (its reports columns and indexes go with 0018's table)
	undo += ` DROP TABLE list_accounts; DROP TABLE lists; DROP TABLE account_pins; DROP TABLE account_domain_blocks;`                                                                                                                                               // 0040
	undo += ` DROP INDEX accounts_suspended; ALTER TABLE accounts DROP COLUMN suspended_at; ALTER TABLE accounts DROP COLUMN sensitized_at;`                                                                                                                        // 0041
	undo += ` DROP TABLE push_subscriptions;`                                                                                                                                                                                                                       // 0042
	undo += ` DROP TABLE pending_sign_ins; DROP TABLE recovery_codes; DROP TABLE totp_factors;`                                                                                                                                                                     // 0043
	undo += ` DROP TABLE passkey_ceremonies; DROP TABLE passkey_handles; DROP TABLE passkeys;`                                                                                                                                                                      // 0044
	undo += ` DROP TABLE security_events; ALTER TABLE sessions DROP COLUMN last_seen_at; ALTER TABLE oauth_tokens DROP COLUMN last_used_at; ALTER TABLE oauth_tokens DROP COLUMN expires_at;`                                                                       // 0045
	undo += ` ALTER TABLE accounts DROP COLUMN indexable;`                                                                                                                                                                                                          // 0046
	if _, err := f.s.write.db.ExecContext(ctx, undo); err != nil {
		t.Fatal(err)
	}
	f.s.Close()
	f.s = open(t, f.path)
	wantCountersMatchRecount(t, f)
	if st, _ := f.s.StatsFor(ctx, f.accounts[:1]); st[f.accounts[0]].Statuses == 0 {
		t.Errorf("backfilled counters are empty: %+v", st)
	}
}
