package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"
	sqlitedriver "github.com/ncruces/go-sqlite3/driver"
)

// listFixture is a counterFixture with helpers to post and follow.
type listFixture struct {
	*counterFixture
	t   *testing.T
	n   int
	now time.Time
}

func newListFixture(t *testing.T, users int) *listFixture {
	return &listFixture{counterFixture: newCounterFixture(t, users), t: t, now: time.Now()}
}

func (f *listFixture) post(who int64, v Visibility, o func(*NewStatus)) int64 {
	f.t.Helper()
	f.n++
	st := &Status{ID: f.id(), URI: "https://example.test/s/l" + strconv.Itoa(f.n), AccountID: who, Local: true, Visibility: v,
		Text: "post", CreatedAt: f.now.Add(time.Duration(f.n) * time.Second)}
	ns := NewStatus{Status: st}
	if o != nil {
		o(&ns)
	}
	if err := f.s.CreateStatus(context.Background(), ns); err != nil {
		f.t.Fatal(err)
	}
	return st.ID
}

func replyTo(parent, parentAuthor int64) func(*NewStatus) {
	return func(ns *NewStatus) { ns.Status.InReplyToID, ns.Status.InReplyToAccountID = parent, parentAuthor }
}

func (f *listFixture) follow(who, target int64) {
	f.t.Helper()
	if _, err := f.s.Follow(context.Background(), f.id(), who, target, FollowOptions{ShowReblogs: true}, f.now); err != nil {
		f.t.Fatal(err)
	}
}

func (f *listFixture) list(owner int64, policy string, exclusive bool, members ...int64) int64 {
	f.t.Helper()
	ctx := context.Background()
	l := &List{ID: f.id(), AccountID: owner, Title: "list", RepliesPolicy: policy, Exclusive: exclusive, CreatedAt: f.now}
	if err := f.s.CreateList(ctx, l, 50); err != nil {
		f.t.Fatal(err)
	}
	ids := make([]int64, len(members))
	for i := range ids {
		ids[i] = f.id()
	}
	if err := f.s.AddListAccounts(ctx, owner, l.ID, members, ids, 500); err != nil {
		f.t.Fatal(err)
	}
	return l.ID
}

func (f *listFixture) listTimeline(viewer, list int64, p Page) []int64 {
	f.t.Helper()
	ids, err := f.s.ListTimeline(context.Background(), viewer, list, p)
	if err != nil {
		f.t.Fatal(err)
	}
	return ids
}

func (f *listFixture) home(viewer int64, p Page) []int64 {
	f.t.Helper()
	ids, err := f.s.HomeTimeline(context.Background(), viewer, p)
	if err != nil {
		f.t.Fatal(err)
	}
	return ids
}

// newestFirstIDs sorts ids newest first, as timelines answer.
func newestFirstIDs(ids ...int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// A list timeline holds its members' statuses and reblogs, newest first,
// under the visibility rule (a member's private post, since the owner
// follows every member; never a direct one, nor another's), each replies
// policy as Mastodon's FeedManager applies it, and the mute rule; a
// member the owner stops following leaves the list, and another account's
// list is not found.
func TestListTimeline(t *testing.T) {
	ctx := context.Background()
	f := newListFixture(t, 9)
	// accounts[4] is a pending user; leave it out.
	owner, member, other, member2, followed, stranger, third := f.accounts[0], f.accounts[1], f.accounts[2], f.accounts[3], f.accounts[5], f.accounts[6], f.accounts[7]
	for _, a := range []int64{member, other, member2, followed} {
		f.follow(owner, a)
	}
	f.follow(third, member)
	strangerPost := f.post(stranger, Public, nil)
	strangerPrivate := f.post(stranger, Private, nil)
	always := []int64{
		f.post(member, Public, nil),
		f.post(member, Private, nil),
		f.post(member, Unlisted, nil),
		f.post(member, Public, func(ns *NewStatus) { ns.Status.ReblogOfID = strangerPost }),
	}
	self := f.post(member, Public, replyTo(always[0], member))
	toOwner := f.post(member, Public, replyTo(f.post(owner, Public, nil), owner))
	always = append(always, self, toOwner)
	toFollowed := f.post(member, Public, replyTo(f.post(followed, Public, nil), followed))
	toMember2 := f.post(member2, Public, replyTo(always[0], member))
	toStranger := f.post(member, Public, replyTo(strangerPost, stranger))
	// Never on it: a direct post (to the owner or another), a non-member's
	// post, a member's reblog of what the owner may not see.
	f.post(member, Direct, func(ns *NewStatus) { ns.MentionIDs, ns.FeedAccounts = []int64{owner}, []int64{owner} })
	f.post(member, Direct, func(ns *NewStatus) { ns.MentionIDs, ns.FeedAccounts = []int64{third}, []int64{third} })
	f.post(other, Public, nil)
	_ = strangerPrivate

	for _, tc := range []struct {
		policy string
		want   []int64
	}{
		{"followed", append(slices.Clone(always), toFollowed, toMember2)},
		{"list", append(slices.Clone(always), toMember2)},
		{"none", slices.Clone(always)},
	} {
		l := f.list(owner, tc.policy, false, member, member2)
		got := f.listTimeline(owner, l, Page{Limit: 40})
		if want := newestFirstIDs(tc.want...); !slices.Equal(got, want) {
			t.Errorf("replies_policy %s: %v, want %v (the reply to a stranger %d never)", tc.policy, got, want, toStranger)
		}
		// Paging: two at a time, down with max_id and back up with min_id.
		var down []int64
		p := Page{Limit: 2}
		for {
			page := f.listTimeline(owner, l, p)
			down = append(down, page...)
			if len(page) < 2 {
				break
			}
			p.MaxID = page[len(page)-1]
		}
		if !slices.Equal(down, got) {
			t.Errorf("%s: paged down %v, want %v", tc.policy, down, got)
		}
		if up := f.listTimeline(owner, l, Page{Limit: 2, MinID: got[3]}); !slices.Equal(up, got[1:3]) {
			t.Errorf("%s: min_id page %v, want %v", tc.policy, up, got[1:3])
		}
		// The stream's rule is the same one, for every status there is.
		every, err := f.s.queryIDs(ctx, `SELECT id FROM statuses`)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range every {
			aud, err := f.s.ListAudience(ctx, id, l, []int64{owner, third})
			if err != nil {
				t.Fatal(err)
			}
			if want := slices.Contains(got, id); want != slices.Equal(aud, []int64{owner}) || len(aud) > 1 {
				t.Errorf("%s: list audience of %d is %v; on the timeline: %v", tc.policy, id, aud, want)
			}
		}
		if _, err := f.s.ListTimeline(ctx, third, l, Page{Limit: 40}); !errors.Is(err, ErrNotFound) {
			t.Errorf("another's list: %v, want ErrNotFound", err)
		}
	}

	l := f.list(owner, "list", false, member, member2)
	// A muted member's statuses (and reblogs of them) leave the list.
	if err := f.s.Mute(ctx, f.id(), owner, member2, false, f.now); err != nil {
		t.Fatal(err)
	}
	if got := f.listTimeline(owner, l, Page{Limit: 40}); slices.Contains(got, toMember2) {
		t.Errorf("a muted member's reply is on the list: %v", got)
	}
	// Unfollowing takes a member off every list, and its statuses with it
	// (its private post most of all).
	if err := f.s.Unfollow(ctx, owner, member); err != nil {
		t.Fatal(err)
	}
	if got := f.listTimeline(owner, l, Page{Limit: 40}); len(got) != 0 {
		t.Errorf("after unfollowing the member: %v, want nothing", got)
	}
	members, _, err := f.s.ListAccounts(ctx, owner, l, Page{Limit: 40}, false)
	if err != nil || !slices.Equal(members, []int64{member2}) {
		t.Errorf("members after unfollowing one: %v %v, want [%d]", members, err, member2)
	}
	// A block ends the follow, and so the membership, too.
	if err := f.s.Block(ctx, f.id(), member2, owner, f.now); err != nil {
		t.Fatal(err)
	}
	if lists, err := f.s.AccountLists(ctx, owner, member2); err != nil || len(lists) != 0 {
		t.Errorf("lists holding a member who blocked the owner: %v %v", lists, err)
	}
}

// A list holds only accounts its owner follows, each once, and no more
// than its bound; all or none are added.
func TestListMembershipRules(t *testing.T) {
	ctx := context.Background()
	f := newListFixture(t, 4)
	owner, a, b, c := f.accounts[0], f.accounts[1], f.accounts[2], f.accounts[3]
	f.follow(owner, a)
	f.follow(owner, b)
	l := f.list(owner, "list", false)
	if err := f.s.AddListAccounts(ctx, owner, l, []int64{a, c}, []int64{f.id(), f.id()}, 500); !errors.Is(err, ErrNotFollowed) {
		t.Errorf("adding an account not followed: %v", err)
	}
	if members, _, _ := f.s.ListAccounts(ctx, owner, l, Page{Limit: 40}, true); len(members) != 0 {
		t.Errorf("a refused addition left %v on the list", members)
	}
	if err := f.s.AddListAccounts(ctx, owner, l, []int64{a}, []int64{f.id()}, 500); err != nil {
		t.Fatal(err)
	}
	if err := f.s.AddListAccounts(ctx, owner, l, []int64{a}, []int64{f.id()}, 500); !errors.Is(err, ErrAlreadyThere) {
		t.Errorf("adding a member again: %v", err)
	}
	if err := f.s.AddListAccounts(ctx, owner, l, []int64{b}, []int64{f.id()}, 1); !errors.Is(err, ErrLimitReached) {
		t.Errorf("past the bound: %v", err)
	}
	if err := f.s.AddListAccounts(ctx, a, l, []int64{b}, []int64{f.id()}, 500); !errors.Is(err, ErrNotFound) {
		t.Errorf("adding to another's list: %v", err)
	}
	for i := range 3 {
		err := f.s.CreateList(ctx, &List{ID: f.id(), AccountID: a, Title: fmt.Sprint(i), RepliesPolicy: "list", CreatedAt: f.now}, 2)
		if want := i >= 2; want != errors.Is(err, ErrLimitReached) {
			t.Errorf("list %d of at most 2: %v", i+1, err)
		}
	}
}

// Statuses by a member of one of the owner's exclusive lists leave the
// owner's home timeline — on both of its paths: home_feed's written rows
// and the accounts read at home time — and its stream, and only the
// owner's; a list that is not exclusive changes nothing.
func TestExclusiveListsLeaveTheHomeTimeline(t *testing.T) {
	ctx := context.Background()
	f := newListFixture(t, 7)
	f.s.fanOutOnRead = 3
	owner, small, big, other, fan1, fan2 := f.accounts[0], f.accounts[1], f.accounts[2], f.accounts[3], f.accounts[5], f.accounts[6]
	for _, a := range []int64{small, big, other} {
		f.follow(owner, a)
	}
	f.follow(fan1, big)
	f.follow(fan2, big) // big's third follower: read at home time
	f.follow(fan1, small)
	var marked bool
	if err := f.s.read.QueryRowContext(ctx, `SELECT fanout_on_read FROM accounts WHERE id = ?`, big).Scan(&marked); err != nil || !marked {
		t.Fatalf("big is not read at home time: %v %v", marked, err)
	}
	var members, others []int64
	for range 3 {
		members = append(members, f.post(small, Public, nil), f.post(big, Public, nil))
		others = append(others, f.post(other, Public, nil))
	}
	var written int
	if err := f.s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM home_feed WHERE account_id = ? AND author_id = ?`, owner, small).Scan(&written); err != nil || written != 3 {
		t.Fatalf("small's statuses written to the owner's home_feed: %d %v, want 3", written, err)
	}
	l := f.list(owner, "list", false, small, big)
	all := newestFirstIDs(append(slices.Clone(members), others...)...)
	if got := f.home(owner, Page{Limit: 40}); !slices.Equal(got, all) {
		t.Fatalf("home with a list that is not exclusive: %v, want %v", got, all)
	}
	if err := f.s.UpdateList(ctx, &List{ID: l, AccountID: owner, Title: "list", RepliesPolicy: "list", Exclusive: true}); err != nil {
		t.Fatal(err)
	}
	// limit 40: home_feed does not fill the page (the pulled accounts'
	// pages); limit 2: it does (the pulled accounts within its rows).
	if got, want := f.home(owner, Page{Limit: 40}), newestFirstIDs(others...); !slices.Equal(got, want) {
		t.Errorf("home with an exclusive list: %v, want only %v", got, want)
	}
	var paged []int64
	p := Page{Limit: 2}
	for {
		page := f.home(owner, p)
		paged = append(paged, page...)
		if len(page) < 2 {
			break
		}
		p.MaxID = page[len(page)-1]
	}
	if want := newestFirstIDs(others...); !slices.Equal(paged, want) {
		t.Errorf("home paged two at a time with an exclusive list: %v, want %v", paged, want)
	}
	if got := f.listTimeline(owner, l, Page{Limit: 40}); !slices.Equal(got, newestFirstIDs(members...)) {
		t.Errorf("the exclusive list itself: %v, want %v", got, members)
	}
	// The followers without the list still have them.
	if got := f.home(fan1, Page{Limit: 40}); !slices.Equal(got, newestFirstIDs(members...)) {
		t.Errorf("another follower's home: %v, want %v", got, members)
	}
	// The stream's rule is the same one.
	for _, id := range []int64{members[0], members[1]} {
		got, err := f.s.HomeAudience(ctx, id, []int64{owner, fan1})
		if err != nil || !slices.Equal(got, []int64{fan1}) {
			t.Errorf("home audience of %d: %v %v, want only [%d]", id, got, err, fan1)
		}
	}
}

// A user's domain block hides that domain's accounts' statuses, and
// reblogs of them, from the user's timelines and context (not by their
// URL), and their notifications unless the user follows them; others see
// them still, and the relationship says so.
func TestAccountDomainBlocksHide(t *testing.T) {
	ctx := context.Background()
	f := newListFixture(t, 3)
	viewer, local, other := f.accounts[0], f.accounts[1], f.accounts[2]
	remote, err := f.s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: "spammer", Domain: "spam.example",
		URI: "https://spam.example/users/spammer", URL: "https://spam.example/@spammer", CreatedAt: f.now},
		InboxURL: "https://spam.example/inbox", FetchedAt: f.now}, 500)
	if err != nil {
		t.Fatal(err)
	}
	f.follow(viewer, local)
	f.follow(other, local)
	id, _, err := f.s.CreateRemoteStatus(ctx, NewStatus{Status: &Status{ID: f.id(), URI: "https://spam.example/s/1", AccountID: remote,
		Visibility: Public, Content: "<p>buy</p>", CreatedAt: f.now}, Tags: []string{"buy"}})
	if err != nil {
		t.Fatal(err)
	}
	reblog := f.post(local, Public, func(ns *NewStatus) { ns.Status.ReblogOfID = id })
	reply := f.post(local, Public, replyTo(id, remote))
	if _, err := f.s.CreateNotification(ctx, &Notification{ID: f.id(), AccountID: viewer, FromAccountID: remote, Type: "mention", CreatedAt: f.now}); err != nil {
		t.Fatal(err)
	}
	seen := func(who int64) (home, public, tag, context []int64, notes int) {
		t.Helper()
		home = f.home(who, Page{Limit: 40})
		var err error
		if public, err = f.s.PublicTimeline(ctx, who, PublicFilter{}, Page{Limit: 40}); err != nil {
			t.Fatal(err)
		}
		if tag, err = f.s.PublicTimeline(ctx, who, PublicFilter{Tag: "buy"}, Page{Limit: 40}); err != nil {
			t.Fatal(err)
		}
		if context, err = f.s.Ancestors(ctx, who, reply, 10); err != nil {
			t.Fatal(err)
		}
		n, err := f.s.Notifications(ctx, who, NotificationFilter{}, Page{Limit: 40})
		if err != nil {
			t.Fatal(err)
		}
		return home, public, tag, context, len(n)
	}
	home, public, tag, anc, notes := seen(viewer)
	if !slices.Contains(home, reblog) || !slices.Contains(public, id) || !slices.Contains(tag, id) || !slices.Equal(anc, []int64{id}) || notes != 1 {
		t.Fatalf("before the block: home %v, public %v, tag %v, ancestors %v, %d notifications", home, public, tag, anc, notes)
	}
	if err := f.s.BlockDomainFor(ctx, f.id(), viewer, "spam.example", f.now, 1000); err != nil {
		t.Fatal(err)
	}
	// A new notification from the domain, after the block, is hidden too.
	if _, err := f.s.CreateNotification(ctx, &Notification{ID: f.id(), AccountID: viewer, FromAccountID: remote, Type: "follow", CreatedAt: f.now}); err != nil {
		t.Fatal(err)
	}
	home, public, tag, anc, notes = seen(viewer)
	if slices.Contains(home, reblog) || slices.Contains(public, id) || len(tag) != 0 || len(anc) != 0 || notes != 0 {
		t.Errorf("after the block: home %v, public %v, tag %v, ancestors %v, %d notifications; want none of the domain's", home, public, tag, anc, notes)
	}
	if !slices.Contains(home, reply) {
		t.Errorf("a local reply to the domain's status left home: %v", home)
	}
	if _, err := f.s.VisibleStatus(ctx, viewer, id); err != nil {
		t.Errorf("the status by its URL: %v", err)
	}
	if home, public, _, _, _ := seen(other); !slices.Contains(home, reblog) || !slices.Contains(public, id) {
		t.Errorf("another user's timelines lost the domain: home %v, public %v", home, public)
	}
	rels, err := f.s.Relationships(ctx, viewer, []int64{remote, local})
	if err != nil || !rels[remote].DomainBlocking || rels[local].DomainBlocking {
		t.Errorf("relationships: %+v %v", rels, err)
	}
	// Following one of the domain's accounts brings its notifications back.
	f.follow(viewer, remote)
	if _, _, _, _, notes := seen(viewer); notes != 1 {
		t.Errorf("%d notifications from a followed account of a blocked domain, want 1", notes)
	}
	domains, _, err := f.s.DomainBlocksOf(ctx, viewer, Page{Limit: 40})
	if err != nil || !slices.Equal(domains, []string{"spam.example"}) {
		t.Errorf("domain blocks: %v %v", domains, err)
	}
	if err := f.s.UnblockDomainFor(ctx, viewer, "spam.example"); err != nil {
		t.Fatal(err)
	}
	if _, public, _, _, _ := seen(viewer); !slices.Contains(public, id) {
		t.Errorf("after the unblock: public %v", public)
	}
}

// Endorsing needs a follow, and unfollowing ends the endorsement.
func TestEndorsements(t *testing.T) {
	ctx := context.Background()
	f := newListFixture(t, 3)
	a, b, c := f.accounts[0], f.accounts[1], f.accounts[2]
	f.follow(a, b)
	if err := f.s.Endorse(ctx, f.id(), a, c, f.now); !errors.Is(err, ErrNotFollowed) {
		t.Errorf("endorsing an account not followed: %v", err)
	}
	for range 2 {
		if err := f.s.Endorse(ctx, f.id(), a, b, f.now); err != nil {
			t.Fatal(err)
		}
	}
	got, _, err := f.s.Endorsements(ctx, a, Page{Limit: 40})
	if err != nil || !slices.Equal(got, []int64{b}) {
		t.Errorf("endorsements %v %v", got, err)
	}
	if rels, _ := f.s.Relationships(ctx, a, []int64{b}); !rels[b].Endorsed {
		t.Errorf("relationship %+v: not endorsed", rels[b])
	}
	if err := f.s.Unfollow(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := f.s.Endorsements(ctx, a, Page{Limit: 40}); len(got) != 0 {
		t.Errorf("endorsements after unfollowing: %v", got)
	}
}

// The list timeline's statement is prepared once: run for other viewers,
// lists (of other replies policies) and pages, SQLite never prepares it
// again (a bound value its plan depended on would, on every request: the
// replies policy bound and compared with constants did, by 20-100 ms on a
// list of 32). Four members: with fewer, SQLite plans the ORs otherwise.
func TestListTimelineStatementIsNotReprepared(t *testing.T) {
	sqliteOnly(t, "the plans SQLite's query planner makes")
	f := newListFixture(t, 4)
	owner, a, b := f.accounts[0], f.accounts[1], f.accounts[2]
	f.follow(owner, a)
	f.follow(owner, b)
	f.follow(a, b)
	f.post(a, Public, nil)
	lists := []int64{f.list(owner, "list", false, a, b), f.list(owner, "followed", true, a, b), f.list(a, "none", false, b)}
	sqlText, _ := listTimelineSQL(owner, lists[0], padded([]int64{a, b, b}), Page{Limit: 20, MaxID: 1 << 40})
	conn, err := f.s.read.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		st, _, err := dc.(sqlitedriver.Conn).Raw().Prepare(sqlText)
		if err != nil {
			return err
		}
		defer st.Close()
		for i, run := range []struct{ viewer, list int64 }{{owner, lists[0]}, {owner, lists[1]}, {a, lists[2]}, {owner, lists[0]}} {
			_, args := listTimelineSQL(run.viewer, run.list, padded([]int64{a, b, b}), Page{Limit: 10 + i, MaxID: int64(1 << (40 + i))})
			if err := bindAll(st, args); err != nil {
				return err
			}
			for st.Step() {
			}
			if err := st.Reset(); err != nil {
				return err
			}
		}
		if n := st.Status(sqlite3.STMTSTATUS_REPREPARE, false); n != 0 {
			t.Errorf("the list timeline was prepared again %d times as its bindings changed", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
