package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Direct statuses, local and received, make one conversation per local
// participant per thread: unread for the recipients, the other
// participants listed, the newest status each may see shown, and a thread
// of which one may see nothing left out of one's list.
func TestConversationsFollowDirectThreads(t *testing.T) {
	ctx := context.Background()
	s := scheduledFixture(t, filepath.Join(t.TempDir(), "db.sqlite"))
	defer s.Close()
	remote, err := s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: "rem", Domain: "remote.example",
		URI: "https://remote.example/users/rem", URL: "https://remote.example/@rem", CreatedAt: time.Now()},
		InboxURL: "https://remote.example/inbox", FetchedAt: time.Now()}, 9)
	if err != nil {
		t.Fatal(err)
	}
	post := func(id, author, replyTo int64, mentions ...int64) {
		t.Helper()
		st := localStatus(id, author, Direct)
		if replyTo != 0 {
			parent, _ := s.StatusByID(ctx, replyTo)
			st.InReplyToID, st.InReplyToAccountID = replyTo, parent.AccountID
		}
		if err := s.CreateStatus(ctx, NewStatus{Status: st, MentionIDs: mentions, FeedAccounts: mentions}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(account int64) []Conversation {
		t.Helper()
		out, err := s.Conversations(ctx, account, Page{Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	one := func(who string, account, root, last int64, unread bool, participants ...int64) {
		t.Helper()
		got := list(account)
		if len(got) != 1 {
			t.Fatalf("%s has %d conversations: %+v", who, len(got), got)
		}
		c := got[0]
		slices.Sort(c.Participants)
		if c.ID != root || c.LastStatusID != last || c.Unread != unread || !slices.Equal(c.Participants, participants) {
			t.Errorf("%s: %+v; want root %d, last %d, unread %v, participants %v", who, c, root, last, unread, participants)
		}
	}

	post(100, 1, 0, 2) // alice to bob
	one("alice", 1, 100, 100, false, 2)
	one("bob", 2, 100, 100, true, 1)
	if len(list(3)) != 0 {
		t.Error("carol, not in it, has a conversation")
	}
	if err := s.ReadConversation(ctx, 2, 100); err != nil {
		t.Fatal(err)
	}
	one("bob after reading", 2, 100, 100, false, 1)
	post(101, 2, 100, 1, 3) // bob answers, bringing carol in
	one("alice", 1, 100, 101, true, 2, 3)
	one("carol", 3, 100, 101, true, 1, 2)
	// A received direct status answering the thread: the remote author joins.
	if _, _, err := s.CreateRemoteStatus(ctx, NewStatus{Status: &Status{ID: 102, AccountID: remote, Visibility: Direct,
		URI: "https://remote.example/statuses/102", Content: "<p>hi</p>", InReplyToID: 101, InReplyToAccountID: 2, CreatedAt: time.Now()},
		MentionIDs: []int64{1}}); err != nil {
		t.Fatal(err)
	}
	one("alice after the remote answer", 1, 100, 102, true, 2, 3, remote)
	// Bob was not mentioned in it: he may not see it, so his shows his own.
	one("bob", 2, 100, 101, false, 1, 3)
	// Carol blocks bob. Of the thread she was shown bob's status only (she
	// was not mentioned in the others): now she may see none of it, and
	// it leaves her list, as does a new thread of bob's to her.
	if err := s.Block(ctx, 900, 3, 2, time.Now()); err != nil {
		t.Fatal(err)
	}
	post(200, 2, 0, 3)
	if got := list(3); len(got) != 0 {
		t.Errorf("carol, who blocks bob, sees: %+v", got)
	}
	if _, err := s.ConversationByID(ctx, 3, 200); !errors.Is(err, ErrNotFound) {
		t.Errorf("carol loads a thread of bob's by id: %v", err)
	}
	if c, err := s.ConversationByID(ctx, 2, 200); err != nil || c.LastStatusID != 200 {
		t.Errorf("bob's own: %+v %v", c, err)
	}
	// Removing is per person; a new status in the thread brings it back.
	if err := s.DeleteConversation(ctx, 1, 100); err != nil {
		t.Fatal(err)
	}
	if len(list(1)) != 0 {
		t.Error("alice's removed conversation is listed")
	}
	if len(list(2)) != 2 {
		t.Error("alice's removal took bob's")
	}
	if err := s.DeleteConversation(ctx, 1, 100); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed twice: %v", err)
	}
	post(103, 2, 101, 1)
	one("alice after a new answer", 1, 100, 103, true, 2)
	// Public and private statuses make none.
	if err := s.CreateStatus(ctx, NewStatus{Status: localStatus(300, 1, Private), MentionIDs: []int64{3}}); err != nil {
		t.Fatal(err)
	}
	if got := list(1); len(got) != 1 {
		t.Errorf("a private mention made a conversation: %+v", got)
	}
}

// Conversations page by their newest status, with max_id and min_id.
func TestConversationsPage(t *testing.T) {
	ctx := context.Background()
	s := scheduledFixture(t, filepath.Join(t.TempDir(), "db.sqlite"))
	defer s.Close()
	for i := int64(0); i < 5; i++ {
		st := localStatus(100+i, 1, Direct)
		st.URI = fmt.Sprintf("https://example.test/statuses/p%d", i)
		if err := s.CreateStatus(ctx, NewStatus{Status: st, MentionIDs: []int64{2}}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(cs []Conversation) []int64 {
		var out []int64
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	p1, err := s.Conversations(ctx, 2, Page{Limit: 2})
	if err != nil || !slices.Equal(ids(p1), []int64{104, 103}) {
		t.Fatalf("page 1: %v %v", ids(p1), err)
	}
	p2, _ := s.Conversations(ctx, 2, Page{Limit: 2, MaxID: p1[1].Cursor})
	if !slices.Equal(ids(p2), []int64{102, 101}) {
		t.Errorf("page 2: %v", ids(p2))
	}
	prev, _ := s.Conversations(ctx, 2, Page{Limit: 2, MinID: 101})
	if !slices.Equal(ids(prev), []int64{103, 102}) {
		t.Errorf("min_id page: %v", ids(prev))
	}
}
