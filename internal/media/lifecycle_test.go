package media

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store"
)

// DiscardProfileImage removes an avatar's upload that no profile came to
// use (row and both files), and leaves one that a profile names or a status
// holds: the store's delete is the guard, not the caller's word.
func TestDiscardProfileImageRemovesOnlyWhatNothingUses(t *testing.T) {
	ctx := context.Background()
	ts := newTestService(t)
	img := encodePNG(t, gradient(64, 64))
	store1 := func() *ProfileImage {
		t.Helper()
		pi, err := ts.ProfileImage(ctx, ts.owner.ID, bytes.NewReader(img), int64(len(img)), true)
		if err != nil {
			t.Fatal(err)
		}
		if pi.Key != pi.upload.PreviewKey || !ts.exists(pi.upload.FileKey) || !ts.exists(pi.upload.PreviewKey) {
			t.Fatalf("the avatar %+v: its key is not its preview's, or a file is missing", pi)
		}
		return pi
	}

	unused := store1()
	file, preview := unused.upload.FileKey, unused.upload.PreviewKey
	ts.DiscardProfileImage(ctx, unused)
	if _, err := ts.st.MediaByID(ctx, unused.upload.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the discarded image's row: %v, want it deleted", err)
	}
	if ts.exists(file) || ts.exists(preview) {
		t.Error("the discarded image's files are still on disk")
	}

	named := store1()
	ts.owner.AvatarKey = named.Key
	ts.owner.UpdatedAt = time.Now()
	if err := ts.st.UpdateProfile(ctx, ts.owner); err != nil {
		t.Fatal(err)
	}
	attached := store1()
	if err := ts.st.CreateStatus(ctx, store.NewStatus{Status: &store.Status{ID: ts.ids.Next(), URI: "https://example.test/s/1",
		URL: "https://example.test/@alice/1", AccountID: ts.owner.ID, Local: true, Visibility: store.Public, CreatedAt: time.Now()},
		MediaIDs: []int64{attached.upload.ID}}); err != nil {
		t.Fatal(err)
	}
	for what, pi := range map[string]*ProfileImage{"the avatar a profile names": named, "an upload a status holds": attached} {
		file, preview := pi.upload.FileKey, pi.upload.PreviewKey
		ts.DiscardProfileImage(ctx, pi)
		if _, err := ts.st.MediaByID(ctx, pi.upload.ID); err != nil {
			t.Errorf("%s lost its row: %v", what, err)
		}
		if !ts.exists(file) || !ts.exists(preview) {
			t.Errorf("%s lost its files", what)
		}
	}
}
