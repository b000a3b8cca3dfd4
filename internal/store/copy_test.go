package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rampart-social/rampart/internal/testdb"
)

// needPostgres skips a move test in a run without a PostgreSQL server.
func needPostgres(t *testing.T) {
	t.Helper()
	if !testdb.Postgres() {
		t.Skip("moves to PostgreSQL need TEST_POSTGRES: this test runs in scripts/test's PostgreSQL pass")
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// seedForMove writes an SQLite instance with a row in every table, through
// the store's own operations, and closes it. Ids are chosen so that
// references point forward: remote replies older than what they answer,
// a reblog older than its original, a reply to such a reply.
func seedForMove(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	s, err := OpenSQLite(ctx, path, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.UnixMilli(1_700_000_000_000)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	local := func(id int64, name string, approved bool) {
		a := &Account{ID: id, Username: name, URI: "https://example.test/users/" + name, URL: "https://example.test/@" + name,
			DisplayName: name + " ✨ \"quoted\"\t\\N", Note: "line one\nline two \\. ünïcödé", Discoverable: true,
			Fields:       []Field{{Name: "site", Value: "https://example.test"}},
			PublicKeyPEM: "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n", PrivateKeyPEM: "private " + name,
			CreatedAt: at, UpdatedAt: at}
		u := &User{Email: name + "@example.test", PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$x$y", Role: "user", Approved: approved,
			Locale: "en", DefaultPrivacy: "public", CreatedAt: at}
		must(s.CreateLocalAccount(ctx, a, u))
	}
	local(1000, "alice", true)
	local(1001, "bob", true)
	local(1002, "carol", false)
	remote, err := s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: "rem", Domain: "remote.example",
		URI: "https://remote.example/users/rem", URL: "https://remote.example/@rem", DisplayName: "Rem", Discoverable: true,
		AvatarRemoteURL: "https://files.remote.example/a.png", CreatedAt: at},
		InboxURL: "https://remote.example/users/rem/inbox", SharedInboxURL: "https://remote.example/inbox", FetchedAt: at}, 500)
	must(err)

	must(s.SetSetting(ctx, "instance_actor_key", "a secret key"))
	must(s.AllowDomain(ctx, "friends.example", at))
	if _, err := s.BlockDomain(ctx, "bad.example", "spam", at); err != nil {
		t.Fatal(err)
	}
	must(s.AddRemoteMediaHost(ctx, "files.remote.example", at))
	if _, err := s.HostFailed(ctx, "down.example", at); err != nil {
		t.Fatal(err)
	}
	must(s.MarkGone(ctx, "https://remote.example/statuses/gone", at))
	if _, err := s.ReceiveActivity(ctx, "https://remote.example/activities/1", NewJob{Kind: "ap.inbox", Payload: []byte(`{"a":1}`), Host: "remote.example"}); err != nil {
		t.Fatal(err)
	}

	must(s.CreateApp(ctx, &App{ID: 700, Name: "app", RedirectURIs: []string{"urn:ietf:wg:oauth:2.0:oob"}, Scopes: "read write",
		ClientID: "client", ClientSecretHash: "hash", CreatedAt: at}))
	must(s.CreateToken(ctx, &Token{ID: 701, TokenHash: "t1", AppID: 700, AccountID: 1000, Scopes: "read write", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}))
	must(s.CreateToken(ctx, &Token{ID: 702, TokenHash: "t2", AppID: 700, Scopes: "read", CreatedAt: at}))
	must(s.PutPushSubscription(ctx, &PushSubscription{ID: 703, TokenID: 701, AccountID: 1000, Endpoint: "https://push.example/send/x",
		P256DH: "BCVx", Auth: "BTBZ", Standard: true, Alerts: []string{"mention", "follow"}, Policy: "all", SealedToken: "sealed", CreatedAt: at}))
	must(s.CreatePasskey(ctx, &Passkey{ID: 704, AccountID: 1000, CredentialID: []byte{1, 2, 3}, PublicKey: []byte{4, 5}, SignCount: 7,
		AAGUID: make([]byte, 16), Transports: []string{"usb"}, BackupEligible: true, Name: "key", CreatedAt: at, LastUsedAt: at}, 10))
	if _, err := s.PasskeyHandle(ctx, 1000, []byte("handle")); err != nil {
		t.Fatal(err)
	}
	must(s.PutPasskeyCeremony(ctx, &PasskeyCeremony{Binding: "b", Kind: "login", Data: []byte(`{}`), ExpiresAt: at.Add(time.Hour)}, at))
	must(s.CreateCode(ctx, &Code{CodeHash: "c1", AppID: 700, AccountID: 1001, RedirectURI: "urn:ietf:wg:oauth:2.0:oob", Scopes: "read",
		ExpiresAt: at.Add(time.Hour)}))
	must(s.CreateSession(ctx, &Session{IDHash: "s1", AccountID: 1000, CreatedAt: at, ExpiresAt: at.Add(time.Hour), UserAgent: "test", IP: "192.0.2.1"}))
	// 0043: second factors.
	if ok, err := s.PutUnconfirmedTOTP(ctx, 1000, "sealed-totp", at); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, err := s.ConfirmTOTP(ctx, 1000, 56_000_000, []string{"rc1", "rc2"}, at); err != nil || !ok {
		t.Fatal(ok, err)
	}
	must(s.PutPendingSignIn(ctx, &PendingSignIn{VisitorHash: "v1", AccountID: 1001, ReturnTo: "/", Device: "d", ExpiresAt: at.Add(time.Hour)}, at))

	if _, err := s.Follow(ctx, 800, 1001, 1000, FollowOptions{ShowReblogs: true}, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Follow(ctx, 801, remote, 1000, FollowOptions{ShowReblogs: true, URI: "https://remote.example/follows/1"}, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RequestFollow(ctx, 802, 1000, remote, FollowOptions{URI: "https://example.test/users/alice#follows/802"}, at); err != nil {
		t.Fatal(err)
	}
	must(s.Block(ctx, 803, 1002, 1001, at))
	must(s.Mute(ctx, 804, 1000, 1002, true, at))

	must(s.CreateMedia(ctx, &Media{ID: 3000, AccountID: 1000, Kind: "image", ContentType: "image/png", FileKey: "f/3000.png",
		PreviewKey: "p/3000.jpg", FileSize: 1234, Meta: `{"original":{"width":4,"height":4}}`, Blurhash: "LEHV6nWB2yk8",
		Description: "a picture", FocusX: 0.25, FocusY: -0.5, State: "ready", CreatedAt: at}))
	must(s.CreateMedia(ctx, &Media{ID: 3001, AccountID: 1001, Kind: "video", ContentType: "video/mp4", State: "processing", CreatedAt: at}))

	post := func(n NewStatus) {
		t.Helper()
		if n.Status.URI == "" {
			n.Status.URI = fmt.Sprintf("https://example.test/users/x/statuses/%d", n.Status.ID)
		}
		if n.Status.CreatedAt.IsZero() {
			n.Status.CreatedAt = at.Add(time.Duration(n.Status.ID) * time.Millisecond)
		}
		must(s.CreateStatus(ctx, n))
	}
	remotePost := func(st *Status) {
		t.Helper()
		st.AccountID, st.URI = remote, fmt.Sprintf("https://remote.example/statuses/%d", st.ID)
		st.CreatedAt = at.Add(time.Duration(st.ID) * time.Millisecond)
		if _, _, err := s.CreateRemoteStatus(ctx, NewStatus{Status: st, Tags: []string{"fediverse"}, Words: []string{"remote"}}); err != nil {
			t.Fatal(err)
		}
	}
	// A public post with a tag, a mention, a picture and an idempotency key.
	post(NewStatus{Status: &Status{ID: 2000, AccountID: 1000, Local: true, Visibility: Public, Text: "hello #go @bob",
		Content: "<p>hello</p>", Language: "en", ApplicationID: 700}, MentionIDs: []int64{1001}, Tags: []string{"go", "rampart"},
		Words: []string{"hello", "go"}, MediaIDs: []int64{3000}, IdempotencyKey: "key-1"})
	post(NewStatus{Status: &Status{ID: 2001, AccountID: 1001, Local: true, Visibility: Unlisted, Text: "a reply",
		InReplyToID: 2000, InReplyToAccountID: 1000}})
	remotePost(&Status{ID: 1500, Visibility: Public, Content: "<p>an older reply</p>", InReplyToID: 2000, InReplyToAccountID: 1000})
	remotePost(&Status{ID: 1400, Visibility: Public, Content: "<p>older still, to the reply</p>", InReplyToID: 1500, InReplyToAccountID: remote})
	remotePost(&Status{ID: 5000, Visibility: Public, Content: "<p>dated later</p>"})
	post(NewStatus{Status: &Status{ID: 2002, AccountID: 1001, Local: true, Visibility: Public, ReblogOfID: 5000}})
	post(NewStatus{Status: &Status{ID: 2003, AccountID: 1000, Local: true, Visibility: Public, ReblogOfID: 2001}})
	post(NewStatus{Status: &Status{ID: 2004, AccountID: 1000, Local: true, Visibility: Private, Text: "followers"}})
	post(NewStatus{Status: &Status{ID: 2005, AccountID: 1000, Local: true, Visibility: Direct, Text: "@bob psst"},
		MentionIDs: []int64{1001}, FeedAccounts: []int64{1001}})
	post(NewStatus{Status: &Status{ID: 2006, AccountID: 1000, Local: true, Visibility: Public, Text: "deferred words"},
		Words: []string{"deferred", "words"}, DeferFanOut: true})

	// A poll, with a vote.
	post(NewStatus{Status: &Status{ID: 2007, AccountID: 1001, Local: true, Visibility: Public, Text: "a poll"},
		Poll: &Poll{ID: 2200, StatusID: 2007, AccountID: 1001, Options: []PollOption{{Title: "yes"}, {Title: "no"}}, ExpiresAt: at.Add(time.Hour)}})
	must(s.Vote(ctx, 2200, 1000, []int{1}, at))

	st, err := s.StatusByID(ctx, 2000)
	must(err)
	st.Text, st.Content, st.EditedAt = "hello again #go", "<p>hello again</p>", at.Add(time.Minute)
	must(s.EditStatus(ctx, st, 2100, []int64{1001}, []string{"go"}, []string{"hello", "again", "go"}, nil, nil))

	if _, err := s.AddMark(ctx, Favourite, 900, 1001, 2000, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMark(ctx, Bookmark, 901, 1001, 1500, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMark(ctx, Pin, 902, 1000, 2000, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateNotification(ctx, &Notification{ID: 950, AccountID: 1000, FromAccountID: 1001, Type: "favourite", StatusID: 2000, CreatedAt: at,
		GroupKey: "favourite-2000-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateFilteredNotification(ctx, &Notification{ID: 951, AccountID: 1001, FromAccountID: remote, Type: "mention", StatusID: 1500, CreatedAt: at}, 952); err != nil {
		t.Fatal(err)
	}
	must(s.SetNotificationPolicy(ctx, 1000, NotificationPolicy{"accept", "accept", "filter", "drop", "filter"}, at))
	if _, err := s.CreateFilteredNotification(ctx, &Notification{ID: 953, AccountID: 1000, FromAccountID: remote, Type: "follow", CreatedAt: at}, 954); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptNotificationRequests(ctx, 1000, []int64{954}, at); err != nil {
		t.Fatal(err)
	}
	must(s.CreateReport(ctx, &Report{ID: 960, URI: "https://remote.example/flags/1", AccountID: remote, TargetID: 1001,
		StatusIDs: []int64{2001}, Comment: "rude", CreatedAt: at}))
	must(s.CreateCustomEmoji(ctx, &CustomEmoji{ID: 970, Shortcode: "blob", FileKey: "e/970.gif", StaticKey: "e/970.png",
		ContentType: "image/gif", Category: "Blobs", VisibleInPicker: true, CreatedAt: at}))
	must(s.CreateAnnouncement(ctx, &Announcement{ID: 971, Text: "hello #news", Content: "<p>hello</p>", MentionIDs: []int64{1001},
		Tags: []string{"news"}, EndsAt: at.Add(time.Hour), PublishedAt: at, UpdatedAt: at}))
	must(s.DismissAnnouncement(ctx, 971, 1000))
	must(s.AddAnnouncementReaction(ctx, 971, 1001, "blob", 8, at))
	must(s.Enqueue(ctx, NewJob{Kind: "ap.deliver", Payload: []byte(`{"inbox":"https://remote.example/inbox"}`), Host: "remote.example", RunAt: at}))
	must(s.TouchUserActive(ctx, 1000, time.Now()))
	must(s.CountActiveUsers(ctx, time.Now()))
	_, err = s.ClaimIDWorker(ctx, "the seeding process", 32, time.Now(), time.Minute)
	must(err)
	_, _, _, err = s.TakeRateLimit(ctx, "sign-in per address", []byte("0123456789abcdef"), 5, time.Hour, time.Now())
	must(err)
	must(s.FollowTag(ctx, 970, 1001, "go", at))
	_, err = s.FeatureTag(ctx, 971, 1000, "go", 10, at)
	must(err)
	_, err = s.SaveMarkers(ctx, 1000, map[string]int64{"home": 2000}, at)
	must(err)
	must(s.DismissSuggestion(ctx, 1000, 1001, at))
	must(s.CreateScheduledStatus(ctx, &ScheduledStatus{ID: 3100, AccountID: 1000, ScheduledAt: at.Add(time.Hour),
		Params: `{"text":"later"}`, CreatedAt: at}, ScheduledLimits{}))
	must(s.CreateFilter(ctx, &Filter{ID: 970, AccountID: 1001, Title: "spoilers", Contexts: 1, Hide: true, CreatedAt: at,
		Keywords: []FilterKeyword{{ID: 971, Keyword: "finale", WholeWord: true}}}, FilterLimits{Filters: 10, Keywords: 10, Statuses: 10}))
	must(s.AddFilterStatus(ctx, 1001, &FilterStatus{ID: 972, FilterID: 970, StatusID: 2000}, FilterLimits{Filters: 10, Keywords: 10, Statuses: 10}, at))
	must(s.SetAccountNote(ctx, 1000, 1001, "met at the meetup", at))
	must(s.MuteConversation(ctx, 1001, 2000, at))
	// 1001 follows 1000: a list holding 1000, an endorsement of 1000, and a
	// domain 1001 blocks.
	must(s.CreateList(ctx, &List{ID: 970, AccountID: 1001, Title: "friends", RepliesPolicy: "followed", Exclusive: true, CreatedAt: at}, 50))
	must(s.AddListAccounts(ctx, 1001, 970, []int64{1000}, []int64{971}, 500))
	must(s.Endorse(ctx, 972, 1001, 1000, at))
	must(s.BlockDomainFor(ctx, 973, 1001, "spam.example", at, 1000))
	must(s.AddSecurityEvent(ctx, &SecurityEvent{ID: 974, AccountID: 1000, Kind: "new_browser_sign_in", CreatedAt: at,
		Address: "192.0.2.0/24", UserAgent: "Firefox on Linux", Detail: "a \"detail\"\n"}))

	// Every table holds a row, so the move is shown to copy each; a table
	// a later migration adds fails here until the seed writes it.
	tx, err := s.read.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	must(err)
	defer tx.Rollback()
	tables, err := sqliteTables(ctx, tx)
	must(err)
	for _, tb := range tables {
		var n int
		must(tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteIdent(tb.name)).Scan(&n))
		if n == 0 {
			t.Errorf("the seed leaves %s empty: write a row to it, so the move test covers it", tb.name)
		}
	}
}

// dumpTable is every row of table, each as its columns' names, types and
// values, sorted: the same on both engines when the rows are equal.
func dumpTable(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM ` + quoteIdent(table))
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			fmt.Fprintf(&b, "%s=%T:%q ", cols[i], v, fmt.Sprint(v))
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// dumpAll is every table of the move's list, by name.
func dumpAll(t *testing.T, db *sql.DB, tables []TableRows) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, tb := range tables {
		out[tb.Table] = dumpTable(t, db, tb.Table)
	}
	return out
}

func openPostgresDSN(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := OpenPostgres(context.Background(), dsn, testPostgresOptions, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMoveCopiesEveryRowToPostgres(t *testing.T) {
	needPostgres(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	seedForMove(t, path)
	dsn := testdb.NewPostgres(t)

	done := map[string]int{}
	// Three rows a COPY statement, two updates a round trip: the seed's
	// tables cross both bounds.
	rep, err := moveToPostgres(ctx, path, dsn, quietLog(), func(p MoveProgress) {
		if p.Done {
			done[p.Table]++
		}
	}, moveLimits{chunk: 3, fixups: 2})
	if err != nil {
		t.Fatalf("move: %v", err)
	}
	all, _ := migrations(dialectSQLite)
	if rep.SchemaVersion != len(all) || rep.SourceVersion != len(all) || len(rep.Warnings) != 0 {
		t.Errorf("report: versions %d/%d (want %d), warnings %q", rep.SourceVersion, rep.SchemaVersion, len(all), rep.Warnings)
	}
	if len(rep.Tables) != 71 {
		t.Errorf("%d tables moved, want the 71 of the schema", len(rep.Tables))
	}
	// The planner has the moved rows' statistics before the first request.
	stats, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer stats.Close()
	var analyzed bool
	if err := stats.QueryRowContext(ctx, `SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'statuses'`).Scan(&analyzed); err != nil || !analyzed {
		t.Errorf("statuses not analyzed after the move: %v, %v", analyzed, err)
	}
	seen := map[string]int{}
	for i, tb := range rep.Tables {
		seen[tb.Table] = i
		if tb.Source != tb.Target || tb.Source == 0 {
			t.Errorf("%s: %d rows in SQLite, %d in PostgreSQL", tb.Table, tb.Source, tb.Target)
		}
		if done[tb.Table] != 1 {
			t.Errorf("%s: reported done %d times", tb.Table, done[tb.Table])
		}
	}
	for _, pair := range [][2]string{{"accounts", "statuses"}, {"statuses", "media_attachments"}, {"tags", "status_tags"}, {"oauth_apps", "oauth_tokens"}} {
		if seen[pair[0]] > seen[pair[1]] {
			t.Errorf("%s was copied after %s, which references it", pair[0], pair[1])
		}
	}

	src, err := openExisting(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := openPostgresDSN(t, dsn)
	want, got := dumpAll(t, src, rep.Tables), dumpAll(t, dst.read.db, rep.Tables)
	for _, tb := range rep.Tables {
		if !slices.Equal(want[tb.Table], got[tb.Table]) {
			t.Errorf("%s differs:\nSQLite:     %q\nPostgreSQL: %q", tb.Table, want[tb.Table], got[tb.Table])
		}
	}

	// The forward references are in, and the counters are the source's,
	// each counted once (the triggers were off for the copy), and equal
	// to a recount.
	for id, parent := range map[int64]int64{1500: 2000, 1400: 1500} {
		if st, err := dst.StatusByID(ctx, id); err != nil || st.InReplyToID != parent {
			t.Errorf("status %d: reply to %v (%v), want %d", id, st, err, parent)
		}
	}
	if st, err := dst.StatusByID(ctx, 2002); err != nil || st.ReblogOfID != 5000 {
		t.Errorf("reblog 2002: %+v %v, want of 5000", st, err)
	}
	ids := []int64{500, 1000, 1001, 1002}
	wantStats, wantInst := recount(t, dst)
	gotStats, err := dst.StatsFor(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if gotStats[id] != wantStats[id] {
			t.Errorf("account %d: counters %+v, recount %+v", id, gotStats[id], wantStats[id])
		}
	}
	if gotStats[1000].Followers != 2 || gotStats[1000].Statuses != 4 {
		t.Errorf("alice's counters %+v: want 2 followers and 4 statuses", gotStats[1000])
	}
	inst, err := dst.InstanceStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if inst.LocalUsers != wantInst.LocalUsers || inst.LocalPosts != wantInst.LocalPosts || inst.ActiveMonth != 1 {
		t.Errorf("instance counters %+v, recount %+v (and one active user)", inst, wantInst)
	}

	// A second move into the now full target is refused, and changes nothing.
	_, err = MoveToPostgres(ctx, path, dsn, quietLog(), nil)
	if err == nil || !strings.Contains(err.Error(), "the target database is not empty") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("second move: %v, want a refusal of the full target", err)
	}
	// The check inside the copy's own transaction refuses it as well.
	s2, err := OpenSQLite(ctx, path, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	err = s2.copyToPostgres(ctx, dst, &MoveReport{}, nil, moveLimits{chunk: 3, fixups: 2})
	s2.Close()
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("copy into a full target: %v, want a refusal", err)
	}
	if again := dumpAll(t, dst.read.db, rep.Tables); !equalDumps(again, got) {
		t.Error("a refused move changed the target")
	}

	// The triggers are back on, and the identity sequences are past the
	// copied ids: the next tag and job get fresh ones.
	if _, err := dst.Follow(ctx, 810, 1002, 1000, FollowOptions{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if st, _ := dst.StatsFor(ctx, []int64{1000}); st[1000].Followers != 3 {
		t.Errorf("followers after a new follow: %d, want 3 (the counter triggers are on again)", st[1000].Followers)
	}
	var maxTag, maxJob int64
	for q, v := range map[string]*int64{`SELECT MAX(id) FROM tags`: &maxTag, `SELECT MAX(id) FROM jobs`: &maxJob} {
		if err := dst.read.QueryRowContext(ctx, q).Scan(v); err != nil {
			t.Fatal(err)
		}
	}
	for _, sq := range rep.Sequences {
		if (sq.Table == "tags" && sq.Next != maxTag+1) || (sq.Table == "jobs" && sq.Next != maxJob+1) {
			t.Errorf("sequence %s.%s next %d; highest ids: tags %d, jobs %d", sq.Table, sq.Column, sq.Next, maxTag, maxJob)
		}
	}
	if len(rep.Sequences) != 2 {
		t.Errorf("sequences %+v, want tags.id and jobs.id", rep.Sequences)
	}
	if err := dst.CreateStatus(ctx, NewStatus{Status: &Status{ID: 2200, URI: "https://example.test/s/2200", AccountID: 1000, Local: true,
		Visibility: Public, Text: "#new", CreatedAt: time.Now()}, Tags: []string{"brandnew"}}); err != nil {
		t.Fatalf("a post with a new tag on the target: %v", err)
	}
	if err := dst.Enqueue(ctx, NewJob{Kind: "ap.deliver", Payload: []byte(`{}`)}); err != nil {
		t.Fatalf("a job on the target: %v", err)
	}
	var tagID, jobID int64
	if err := dst.read.QueryRowContext(ctx, `SELECT id FROM tags WHERE name = 'brandnew'`).Scan(&tagID); err != nil || tagID != maxTag+1 {
		t.Errorf("the new tag's id %d (%v), want %d", tagID, err, maxTag+1)
	}
	if err := dst.read.QueryRowContext(ctx, `SELECT MAX(id) FROM jobs`).Scan(&jobID); err != nil || jobID != maxJob+1 {
		t.Errorf("the new job's id %d (%v), want %d", jobID, err, maxJob+1)
	}
}

func equalDumps(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// The move needs no superuser: the owner of the tables (the role a managed
// database gives) turns the triggers off for its transaction.
func TestMoveAsTheTablesOwnerWithoutSuperuser(t *testing.T) {
	needPostgres(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	seedForMove(t, path)

	admin, err := sql.Open("pgx", os.Getenv(testdb.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	suffix := fmt.Sprintf("%d", time.Now().UnixNano())
	role, db, password := "rampart_owner_"+suffix, "rampart_owned_"+suffix, "pw"+suffix
	for _, q := range []string{
		`CREATE ROLE ` + role + ` LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '` + password + `'`,
		`CREATE DATABASE ` + db + ` OWNER ` + role + ` ENCODING 'UTF8' TEMPLATE template0`,
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		admin.Exec(`DROP DATABASE IF EXISTS ` + db + ` WITH (FORCE)`)
		admin.Exec(`DROP ROLE IF EXISTS ` + role)
	})
	u, err := url.Parse(testdb.WithDatabase(os.Getenv(testdb.EnvPostgres), db))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	// The source held open meanwhile (as a running server would hold it):
	// the move says so before it copies, and copies one snapshot.
	held, err := OpenSQLite(ctx, path, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	var warned []string
	rep, err := MoveToPostgres(ctx, path, u.String(), quietLog(), func(p MoveProgress) {
		if p.Warning != "" {
			warned = append(warned, p.Warning)
		}
	})
	if err != nil {
		t.Fatalf("move as a plain owner: %v", err)
	}
	if len(warned) != 1 || !slices.Equal(warned, rep.Warnings) || !strings.Contains(warned[0], "a server may still have the database open") {
		t.Errorf("warnings %q, reported %q", warned, rep.Warnings)
	}
	var super bool
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil || super {
		t.Fatalf("the test's role is a superuser (%v)", err)
	}
	var disabled int
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D'`).Scan(&disabled); err != nil || disabled != 0 {
		t.Errorf("%d triggers left off (%v)", disabled, err)
	}
	for _, tb := range rep.Tables {
		if tb.Source != tb.Target {
			t.Errorf("%s: %d rows, %d moved", tb.Table, tb.Source, tb.Target)
		}
	}
}

// What cannot be moved is refused in one line, before anything is written.
func TestMoveRefusesBadSourcesAndTargets(t *testing.T) {
	needPostgres(t)
	ctx := context.Background()
	dir := t.TempDir()
	dsn := testdb.NewPostgres(t)
	noTables := func(t *testing.T) {
		t.Helper()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&n); err != nil || n != 0 {
			t.Errorf("the target has %d tables (%v) after a refused move", n, err)
		}
	}
	oneLine := func(t *testing.T, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("error %q, want one line with %q", err, want)
		}
	}

	missing := filepath.Join(dir, "missing.db")
	_, err := MoveToPostgres(ctx, missing, dsn, quietLog(), nil)
	oneLine(t, err, "no such file or directory")
	if _, serr := os.Stat(missing); serr == nil {
		t.Error("a missing source was created")
	}

	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite3", "file:"+other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (body TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(other)
	_, err = MoveToPostgres(ctx, other, dsn, quietLog(), nil)
	oneLine(t, err, "is not a Rampart database")
	if after, _ := os.ReadFile(other); string(after) != string(before) {
		t.Error("a database that is not Rampart's was changed")
	}

	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("not a database ", 100)), 0o600)
	_, err = MoveToPostgres(ctx, junk, dsn, quietLog(), nil)
	oneLine(t, err, "is not an SQLite database")

	good := filepath.Join(dir, "rampart.db")
	seedForMove(t, good)
	_, err = MoveToPostgres(ctx, good, "postgres://nobody:secret@127.0.0.1:1/nowhere?connect_timeout=5", quietLog(), nil)
	oneLine(t, err, "connect to PostgreSQL")
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("the password is in the error: %v", err)
	}
	_, err = MoveToPostgres(ctx, good, "postgres://nobody:secret@[::1", quietLog(), nil)
	oneLine(t, err, "the target's DSN")
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("the password is in the error: %v", err)
	}

	newer := filepath.Join(dir, "newer.db")
	seedForMove(t, newer)
	db, err = sql.Open("sqlite3", "file:"+newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', '')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = MoveToPostgres(ctx, newer, dsn, quietLog(), nil)
	oneLine(t, err, "newer than this binary knows")
	noTables(t)

	// A target with a row in a table of its own is not empty either.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE keepme (x int); INSERT INTO keepme VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	_, err = MoveToPostgres(ctx, good, dsn, quietLog(), nil)
	oneLine(t, err, "the target database is not empty (rows in keepme)")
	// The source's inspection leaves no -wal behind, which would make the
	// next run warn of a server that is not there.
	for _, f := range []string{good + "-wal", good + "-shm"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("a refused move left %s", f)
		}
	}
}
