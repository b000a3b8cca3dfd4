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

// asyncUpload sends data as a v2 upload over the sync limit: its row comes
// back "processing", and a goroutine processes it.
func (ts *testService) asyncUpload(t *testing.T, data []byte) *store.Media {
	t.Helper()
	m, err := ts.Upload(context.Background(), ts.owner.ID, UploadParams{Data: data, Async: true})
	if err != nil || m.State != "processing" {
		t.Fatalf("upload: %v %+v, want it processing in the background", err, m)
	}
	return m
}

// holdDecodeBudget takes the whole decode budget, as a long upload would:
// every upload processed meanwhile waits for memory, deterministically,
// until its context ends or the returned release is called.
func (ts *testService) holdDecodeBudget(t *testing.T) (release func()) {
	t.Helper()
	release, err := ts.decode.Acquire(context.Background(), ts.decode.size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return release
}

// stopWithin runs Stop(ctx) and fails the test if it has not returned
// within a minute: the bound is generous, and an upload's own limit, which a
// Stop that did not cancel would wait for, is five.
func (ts *testService) stopWithin(t *testing.T, ctx context.Context, before func()) {
	t.Helper()
	stopped := make(chan struct{})
	go func() { ts.Stop(ctx); close(stopped) }()
	if before != nil {
		before()
	}
	select {
	case <-stopped:
	case <-time.After(time.Minute):
		t.Fatal("Stop has not returned a minute after it began")
	}
}

// Stop bounds shutdown: background uploads still waiting or processing when
// its grace ends are cancelled, marked failed with the reason a client is
// shown (upload it again), and leave no file; every goroutine has ended when
// it returns, and an upload after it is processed in its request.
func TestStopCancelsBackgroundUploadsAndMarksThemFailed(t *testing.T) {
	ctx := context.Background()
	ts := newTestService(t, "[media]", `sync_limit_bytes = "1KiB"`)
	img := encodePNG(t, gradient(64, 64))
	release := ts.holdDecodeBudget(t)
	var queued []*store.Media
	for range maxPending {
		queued = append(queued, ts.asyncUpload(t, img))
	}
	over, cancel := context.WithCancel(ctx)
	cancel() // no grace left
	ts.stopWithin(t, over, nil)
	for _, m := range queued {
		got, err := ts.st.MediaByID(ctx, m.ID)
		if err != nil || got.State != "failed" || got.Failure != store.FailureServerStopped || got.FileKey != "" || got.PreviewKey != "" {
			t.Errorf("upload %d after Stop: %+v, %v; want failed with %q and no files", m.ID, got, err, store.FailureServerStopped)
		}
	}
	if names := dirNames(t, ts.dir); len(names) != 0 {
		t.Errorf("the interrupted uploads left files: %v", names)
	}
	if ts.held.inUse() != 0 {
		t.Errorf("%d bytes still held after Stop", ts.held.inUse())
	}

	release()
	m, err := ts.Upload(ctx, ts.owner.ID, UploadParams{Data: img, Async: true})
	if err != nil || m.State != "ready" {
		t.Fatalf("an upload after Stop: %v %+v, want it processed in its request", err, m)
	}
}

// Within its grace, Stop lets background uploads finish: they end ready,
// with their files, although they were still waiting when Stop began.
func TestStopLetsBackgroundUploadsFinishWithinItsGrace(t *testing.T) {
	ctx := context.Background()
	ts := newTestService(t, "[media]", `sync_limit_bytes = "1KiB"`)
	img := encodePNG(t, gradient(64, 64))
	release := ts.holdDecodeBudget(t)
	queued := []*store.Media{ts.asyncUpload(t, img), ts.asyncUpload(t, img)}
	grace, cancel := context.WithCancel(ctx)
	defer cancel()
	ts.stopWithin(t, grace, func() {
		// Once Stop has begun, the memory the uploads wait for comes free.
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
			ts.life.RLock()
			begun := ts.stopping
			ts.life.RUnlock()
			if begun {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("Stop never began")
			}
		}
		time.Sleep(20 * time.Millisecond) // not needed for a pass; gives a Stop that cancelled at once the time to show it
		release()
	})
	for _, m := range queued {
		got, err := ts.st.MediaByID(ctx, m.ID)
		if err != nil || got.State != "ready" || !ts.exists(got.FileKey) || !ts.exists(got.PreviewKey) {
			t.Errorf("upload %d after Stop within its grace: %+v, %v; want it ready with its files", m.ID, got, err)
		}
	}
}
