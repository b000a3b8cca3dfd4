package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testutil"
)

func TestValidKey(t *testing.T) {
	good := id.Secret()
	if len(good) != 43 {
		t.Fatalf("id.Secret is %d characters; ValidKey expects 43", len(good))
	}
	for _, k := range []string{good + ".png", good + ".jpg", good + ".webm", good + ".mp4", good + ".flac", strings.Repeat("a", 43) + ".m4a",
		strings.Repeat("-", 21) + strings.Repeat("_", 22) + ".gif", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq.ogg"} {
		if !ValidKey(k) {
			t.Errorf("ValidKey(%q) = false", k)
		}
	}
	for _, k := range []string{
		"", ".", good, good + ".", good + ".p", good + ".abcdef", good + ".PNG", good + ".pn-g", good + ".png.html",
		good[:42] + ".png", good + "a.png", "../" + good[3:] + ".png", good[:20] + "/" + good[21:] + ".png",
		good[:20] + "\\" + good[21:] + ".png", good[:20] + "+" + good[21:] + ".png", good[:20] + "=" + good[21:] + ".png",
		good[:20] + "." + good[21:] + ".png", good[:20] + "\x00" + good[21:] + ".png", good[:20] + "é" + good[22:] + ".png",
		".upload-123456", "../rampart.db", "/etc/passwd", "%2e%2e%2frampart.db", "rampart.db", good + ".png/", "/" + good + ".png",
		good + ".png\n", " " + good[1:] + ".png",
	} {
		if ValidKey(k) {
			t.Errorf("ValidKey(%q) = true", k)
		}
	}
}

func newLocal(t *testing.T) (*Local, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "media")
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("media dir: %v %v", info.Mode(), err)
	}
	return l, dir
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestLocalPutOpenDeleteKeys(t *testing.T) {
	ctx := context.Background()
	l, dir := newLocal(t)
	data := []byte("stored bytes")
	key, err := l.Put(ctx, "png", data)
	if err != nil || !ValidKey(key) || !strings.HasSuffix(key, ".png") {
		t.Fatalf("Put = %q, %v", key, err)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != key {
		t.Errorf("media dir holds %q, want only %q (no temporary file)", names, key)
	}
	f, err := l.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, data) {
		t.Errorf("read back %q", got)
	}
	if keys, err := l.Keys(ctx); err != nil || len(keys) != 1 || keys[0] != key {
		t.Errorf("Keys = %q, %v", keys, err)
	}
	for _, bad := range []string{"../x", "PNG", "p", "toolong", "pn/g", ""} {
		if k, err := l.Put(ctx, bad, data); err == nil {
			t.Errorf("Put with extension %q gave key %q", bad, k)
		}
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("refused Puts left files: %q", names)
	}
	for _, bad := range []string{"../media/" + key, key + "/", "", "x.png"} {
		if _, err := l.Open(ctx, bad); !errors.Is(err, ErrNoFile) {
			t.Errorf("Open(%q) = %v, want ErrNoFile", bad, err)
		}
	}
	if err := l.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Open(ctx, key); !errors.Is(err, ErrNoFile) {
		t.Errorf("Open after Delete: %v", err)
	}
	if err := l.Delete(ctx, key); err != nil {
		t.Errorf("deleting a missing file: %v", err)
	}
	// Delete never reaches outside the directory, even with a crafted key.
	outside := filepath.Join(filepath.Dir(dir), "rampart.db")
	os.WriteFile(outside, []byte("db"), 0o600)
	l.Delete(ctx, "../rampart.db")
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("Delete(../rampart.db) removed a file outside the media dir")
	}
}

func TestLocalConcurrentPutsGetDistinctKeys(t *testing.T) {
	ctx := context.Background()
	l, dir := newLocal(t)
	const n = 32
	keys := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := l.Put(ctx, "jpg", []byte(fmt.Sprintf("file %d", i)))
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, k := range keys {
		if seen[k] {
			t.Fatalf("key %q given twice", k)
		}
		seen[k] = true
		b, err := os.ReadFile(filepath.Join(dir, k))
		if err != nil || string(b) != fmt.Sprintf("file %d", i) {
			t.Errorf("key %s holds %q, %v", k, b, err)
		}
	}
	if names := dirNames(t, dir); len(names) != n {
		t.Errorf("%d files in the media dir, want %d", len(names), n)
	}
}

func TestLocalKeysRemovesStaleTempFilesOnly(t *testing.T) {
	ctx := context.Background()
	l, dir := newLocal(t)
	key, _ := l.Put(ctx, "png", []byte("x"))
	stale := filepath.Join(dir, ".upload-1111")
	fresh := filepath.Join(dir, ".upload-2222")
	other := filepath.Join(dir, "notes.txt")
	for _, p := range []string{stale, fresh, other} {
		os.WriteFile(p, []byte("partial"), 0o600)
	}
	old := time.Now().Add(-2 * staleTemp)
	os.Chtimes(stale, old, old)
	keys, err := l.Keys(ctx)
	if err != nil || len(keys) != 1 || keys[0] != key {
		t.Errorf("Keys = %q, %v; want only %q", keys, err, key)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Error("a temporary file left by a crash (older than staleTemp) was not removed")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a temporary file of an upload in progress was removed")
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("a file that is not a key was removed by Keys")
	}
}

func TestLocalPutIntoReadOnlyDirFailsWithoutAKeyFile(t *testing.T) {
	l, dir := newLocal(t)
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if probe, err := os.CreateTemp(dir, "probe-"); err == nil {
		probe.Close()
		os.Remove(probe.Name())
		t.Skip("this user can write into a 0500 directory (root); TestLocalPutFailedWriteLeavesNothing covers the failure")
	}
	key, err := l.Put(context.Background(), "png", []byte("data"))
	if err == nil || key != "" {
		t.Fatalf("Put into a read-only dir = %q, %v", key, err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("failed Put left %q", names)
	}
}

// TestLocalPutFailedWriteLeavesNothing makes the write itself fail half way
// (a file-size limit of 1 block, in a child process so this one keeps its
// limits) and checks that neither a key file nor the temporary file remains.
func TestLocalPutFailedWriteLeavesNothing(t *testing.T) {
	if dir := os.Getenv("TEST_MEDIA_PUT_CHILD"); dir != "" {
		l := &Local{dir: dir}
		key, err := l.Put(context.Background(), "png", bytes.Repeat([]byte("x"), 256<<10))
		fmt.Printf("key=%q err=%v\n", key, err)
		return
	}
	if runtime.GOOS == "windows" {
		t.Skip("needs a POSIX shell's ulimit")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	_, dir := newLocal(t)
	cmd := exec.Command(sh, "-c", `ulimit -f 1 && exec "$0" -test.run='^TestLocalPutFailedWriteLeavesNothing$' -test.v`, os.Args[0])
	cmd.Env = append(os.Environ(), "TEST_MEDIA_PUT_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `key="" err=store media:`) || !strings.Contains(string(out), "file too large") {
		t.Fatalf("the oversized write did not fail as expected:\n%s", out)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("a failed Put left %q in the media dir", names)
	}
}

// ---- the service: sweeping ----

type testService struct {
	*Service
	st    *store.Store
	local *Local
	dir   string
	owner *store.Account
}

func newTestService(t *testing.T, extra ...string) *testService {
	t.Helper()
	ctx := context.Background()
	cfg := testutil.ProdConfig(t, t.TempDir(), extra...)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := storetest.OpenErr(t, cfg.DatabasePath(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	local, err := NewLocal(cfg.MediaDir())
	if err != nil {
		t.Fatal(err)
	}
	ids := id.NewGenerator()
	now := time.Now()
	acc := &store.Account{ID: ids.Next(), Username: "alice", URI: "https://example.test/users/alice", URL: "https://example.test/@alice",
		CreatedAt: now, UpdatedAt: now}
	if err := st.CreateLocalAccount(ctx, acc, &store.User{Email: "alice@example.test", PasswordHash: "x", Role: "user", Approved: true,
		Locale: "en", DefaultPrivacy: "public", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	s := New(cfg, st, local, ids, log)
	t.Cleanup(s.Wait)
	return &testService{Service: s, st: st, local: local, dir: cfg.MediaDir(), owner: acc}
}

func (ts *testService) upload(t *testing.T, data []byte) *store.Media {
	t.Helper()
	m, err := ts.Upload(context.Background(), ts.owner.ID, UploadParams{Data: data, Description: "a picture"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (ts *testService) exists(key string) bool {
	_, err := os.Stat(filepath.Join(ts.dir, key))
	return err == nil
}

func TestSweepRemovesOnlyStaleUnattachedUploads(t *testing.T) {
	ctx := context.Background()
	ts := newTestService(t)
	img := encodePNG(t, gradient(8, 8))

	stale := ts.upload(t, img)    // never attached
	avatar := ts.upload(t, img)   // its preview becomes the avatar
	attached := ts.upload(t, img) // attached to a status
	ts.owner.AvatarKey = avatar.PreviewKey
	ts.owner.UpdatedAt = time.Now()
	if err := ts.st.UpdateProfile(ctx, ts.owner); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := ts.st.CreateStatus(ctx, store.NewStatus{Status: &store.Status{ID: ts.ids.Next(), URI: "https://example.test/s/1", URL: "https://example.test/@alice/1",
		AccountID: ts.owner.ID, Local: true, Text: "", Content: "", Visibility: store.Public, CreatedAt: now}, MediaIDs: []int64{attached.ID}}); err != nil {
		t.Fatal(err)
	}

	// Today nothing is swept: the files are young and every upload is recent.
	if sw, err := ts.Sweep(ctx); err != nil || sw.Rows != 0 || sw.Files != 0 {
		t.Fatalf("first sweep: %+v, %v", sw, err)
	}

	// A day and an hour later, one more upload arrives; then the sweep runs.
	ts.now = func() time.Time { return now.Add(UnattachedTTL + time.Hour) }
	fresh := ts.upload(t, img)
	sw, err := ts.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Rows != 1 || sw.Files != 2 || sw.Bytes == 0 {
		t.Errorf("sweep = %+v, want the stale upload's row and its two files", sw)
	}
	if _, err := ts.st.MediaByID(ctx, stale.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("stale upload's row: %v", err)
	}
	if ts.exists(stale.FileKey) || ts.exists(stale.PreviewKey) {
		t.Error("stale upload's files remain")
	}
	for name, m := range map[string]*store.Media{"avatar": avatar, "attached": attached, "fresh": fresh} {
		if _, err := ts.st.MediaByID(ctx, m.ID); err != nil {
			t.Errorf("%s upload's row: %v", name, err)
		}
		if !ts.exists(m.FileKey) || !ts.exists(m.PreviewKey) {
			t.Errorf("%s upload's files were removed", name)
		}
		if _, _, err := ts.Open(ctx, m.FileKey); err != nil {
			t.Errorf("%s upload is no longer served: %v", name, err)
		}
	}
	if _, _, err := ts.Open(ctx, stale.FileKey); !errors.Is(err, ErrNoFile) {
		t.Errorf("stale upload still served: %v", err)
	}
}

func TestSweepRemovesOrphanFilesButNotYoungOnes(t *testing.T) {
	ctx := context.Background()
	ts := newTestService(t)
	kept := ts.upload(t, encodePNG(t, gradient(8, 8)))
	// A crash between storing a file and writing its row leaves an orphan;
	// one stored seconds ago may still be about to get its row.
	orphan, _ := ts.local.Put(ctx, "png", []byte("orphan"))
	young, _ := ts.local.Put(ctx, "png", []byte("young"))
	old := time.Now().Add(-2 * time.Minute)
	os.Chtimes(filepath.Join(ts.dir, orphan), old, old)
	os.Chtimes(filepath.Join(ts.dir, kept.FileKey), old, old)
	sw, err := ts.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Files != 1 || sw.Bytes != int64(len("orphan")) || sw.Rows != 0 {
		t.Errorf("sweep = %+v", sw)
	}
	if ts.exists(orphan) {
		t.Error("orphan file remains")
	}
	if !ts.exists(young) {
		t.Error("a file younger than a minute was removed")
	}
	if !ts.exists(kept.FileKey) || !ts.exists(kept.PreviewKey) {
		t.Error("a referenced file was removed")
	}
	if _, _, err := ts.Open(ctx, orphan); !errors.Is(err, ErrNoFile) {
		t.Errorf("orphan served: %v", err)
	}
	if _, _, err := ts.Open(ctx, young); !errors.Is(err, ErrNoFile) {
		t.Errorf("a file no row references is served: %v", err)
	}
}

func TestUploadRefusesMarkupInVideoAndAudio(t *testing.T) {
	ctx := context.Background()
	ts := newTestService(t)
	frames := sample(t, "lame-bare.mp3")
	// Markup where a valid container holds anything: an MP4's mdat, an MP3's ID3v2 tag.
	mp3With := func(payload []byte) []byte {
		n := len(payload)
		tag := append([]byte{'I', 'D', '3', 4, 0, 0, byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}, payload...)
		return append(tag, frames...)
	}
	for name, with := range map[string]func([]byte) []byte{"MP4": testutil.MP4, "MP3": mp3With} {
		m, err := ts.Upload(ctx, ts.owner.ID, UploadParams{Data: with(bytes.Repeat([]byte{0}, 64))})
		if err != nil {
			t.Errorf("clean %s: %v", name, err)
		} else if !ts.exists(m.FileKey) || !ts.exists(m.PreviewKey) {
			t.Errorf("clean %s stored as %+v (want the file and a generic preview)", name, m)
		}
		_, err = ts.Upload(ctx, ts.owner.ID, UploadParams{Data: with([]byte("<html><script>alert(1)</script>"))})
		readableRejection(t, name+" with HTML", err, "media files with embedded documents are not accepted")
	}
	// Only the two clean files (and their generic previews) were stored.
	if names := dirNames(t, ts.dir); len(names) != 4 {
		t.Errorf("media dir holds %q", names)
	}
}
