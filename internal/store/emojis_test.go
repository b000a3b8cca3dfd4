package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A custom emoji's shortcode is unique without regard to case and looked
// up exactly; its keys are served and kept by the sweep while the row
// lives, and no longer once it is deleted.
func TestCustomEmojis(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	now := time.Now()
	blob := &CustomEmoji{ID: f.id(), Shortcode: "blob_cat", FileKey: "ab/blob.gif", StaticKey: "ab/blob.png", ContentType: "image/gif",
		Category: "Blobs", VisibleInPicker: true, CreatedAt: now}
	if err := f.s.CreateCustomEmoji(ctx, blob); err != nil {
		t.Fatal(err)
	}
	if err := f.s.CreateCustomEmoji(ctx, &CustomEmoji{ID: f.id(), Shortcode: "Blob_Cat", FileKey: "x.png", StaticKey: "x.png",
		ContentType: "image/png", CreatedAt: now}); !errors.Is(err, ErrConflict) {
		t.Fatalf("same shortcode in another case: %v, want ErrConflict", err)
	}
	if err := f.s.CreateCustomEmoji(ctx, &CustomEmoji{ID: f.id(), Shortcode: "aa", FileKey: "cd/aa.png", StaticKey: "cd/aa.png",
		ContentType: "image/png", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	list, err := f.s.CustomEmojis(ctx)
	if err != nil || len(list) != 2 || list[0].Shortcode != "aa" || list[1].Category != "Blobs" || !list[1].VisibleInPicker {
		t.Fatalf("list: %+v, %v", list, err)
	}
	named, err := f.s.CustomEmojisNamed(ctx, []string{"blob_cat", "BLOB_CAT", "nope"})
	if err != nil || len(named) != 1 || named["blob_cat"].FileKey != "ab/blob.gif" {
		t.Fatalf("named: %+v, %v", named, err)
	}
	for key, want := range map[string]string{"ab/blob.gif": "image/gif", "ab/blob.png": "image/png", "cd/aa.png": "image/png"} {
		sf, err := f.s.ServableKey(ctx, key)
		if err != nil || sf.ContentType != want || sf.Kind != "image" {
			t.Errorf("servable %s: %+v, %v; want %s", key, sf, err, want)
		}
	}
	refs, err := f.s.ReferencedKeys(ctx)
	if err != nil || !refs["ab/blob.gif"] || !refs["ab/blob.png"] || !refs["cd/aa.png"] {
		t.Fatalf("referenced: %v, %v", refs, err)
	}
	gone, err := f.s.DeleteCustomEmoji(ctx, "blob_cat")
	if err != nil || gone.FileKey != "ab/blob.gif" || gone.StaticKey != "ab/blob.png" {
		t.Fatalf("delete: %+v, %v", gone, err)
	}
	if _, err := f.s.DeleteCustomEmoji(ctx, "blob_cat"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete again: %v", err)
	}
	if _, err := f.s.ServableKey(ctx, "ab/blob.gif"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a deleted emoji's file is still served: %v", err)
	}
	if refs, _ := f.s.ReferencedKeys(ctx); refs["ab/blob.png"] {
		t.Errorf("a deleted emoji's file is still referenced")
	}
}

// Announcements are listed while current, in order of start; dismissals
// and reactions are per account, reactions tallied, at most limit names.
func TestAnnouncements(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 2)
	alice, bob := f.accounts[0], f.accounts[1]
	now := time.Now().Truncate(time.Millisecond)
	add := func(text string, starts, ends time.Time) *Announcement {
		a := &Announcement{ID: f.id(), Text: text, Content: "<p>" + text + "</p>", MentionIDs: []int64{alice}, Tags: []string{"news"},
			StartsAt: starts, EndsAt: ends, PublishedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour)}
		if err := f.s.CreateAnnouncement(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	later := add("later", now.Add(2*time.Hour), time.Time{})
	first := add("first", time.Time{}, now.Add(time.Hour))
	ended := add("ended", time.Time{}, now.Add(-time.Minute))
	cur, err := f.s.Announcements(ctx, true, now)
	if err != nil || len(cur) != 2 || cur[0].ID != first.ID || cur[1].ID != later.ID {
		t.Fatalf("current: %+v, %v", cur, err)
	}
	if cur[0].MentionIDs[0] != alice || cur[0].Tags[0] != "news" || !cur[0].EndsAt.Equal(first.EndsAt) || !cur[0].StartsAt.IsZero() {
		t.Errorf("round trip: %+v", cur[0])
	}
	if all, _ := f.s.Announcements(ctx, false, now); len(all) != 3 {
		t.Errorf("all: %d, want 3", len(all))
	}
	if _, err := f.s.CurrentAnnouncement(ctx, ended.ID, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("an ended announcement is current: %v", err)
	}

	for range 2 {
		if err := f.s.DismissAnnouncement(ctx, first.ID, alice); err != nil {
			t.Fatal(err)
		}
	}
	read, err := f.s.DismissedAnnouncements(ctx, alice, []int64{first.ID, later.ID})
	if err != nil || !read[first.ID] || read[later.ID] {
		t.Errorf("alice read: %v, %v", read, err)
	}
	if read, _ := f.s.DismissedAnnouncements(ctx, bob, []int64{first.ID}); read[first.ID] {
		t.Errorf("bob read what alice dismissed")
	}

	tick := now
	react := func(who int64, name string) error {
		tick = tick.Add(time.Second) // the tally is in order of each name's first use
		return f.s.AddAnnouncementReaction(ctx, first.ID, who, name, 2, tick)
	}
	for _, err := range []error{react(alice, "👍"), react(alice, "👍"), react(bob, "👍"), react(bob, "blob")} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := react(bob, "🎉"); !errors.Is(err, ErrTooManyReactions) {
		t.Errorf("a third name with a limit of 2: %v", err)
	}
	rs, err := f.s.AnnouncementReactions(ctx, alice, []int64{first.ID, later.ID})
	if err != nil || len(rs[first.ID]) != 2 || len(rs[later.ID]) != 0 {
		t.Fatalf("reactions: %+v, %v", rs, err)
	}
	if r := rs[first.ID][0]; r.Name != "👍" || r.Count != 2 || !r.Me {
		t.Errorf("first reaction: %+v", r)
	}
	if r := rs[first.ID][1]; r.Name != "blob" || r.Count != 1 || r.Me {
		t.Errorf("second reaction: %+v", r)
	}
	if err := f.s.RemoveAnnouncementReaction(ctx, first.ID, bob, "blob"); err != nil {
		t.Fatal(err)
	}
	if err := react(bob, "🎉"); err != nil {
		t.Errorf("a name freed by a removal: %v", err)
	}
	if err := f.s.DeleteAnnouncement(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if rs, _ := f.s.AnnouncementReactions(ctx, alice, []int64{first.ID}); len(rs[first.ID]) != 0 {
		t.Errorf("reactions outlive their announcement: %+v", rs)
	}
	if err := f.s.DeleteAnnouncement(ctx, first.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete again: %v", err)
	}
}
