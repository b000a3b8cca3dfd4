package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testutil"
)

// The "two at once": four bombs uploaded together. The two CMYK
// JPEGs are refused from their headers; the two lossless WebPs of 4000×5000
// (an estimated 132 MiB each, about 100 MiB measured) do not both fit a 160 MiB
// budget, so one waits for the other, and the heap never holds both.
func TestConcurrentBombsStayUnderTheDecodeBudget(t *testing.T) {
	const budget = 160 * mib
	ts := newTestService(t, "[media]", `decode_memory_bytes = "160MiB"`, `max_video_bytes = "64MiB"`)
	cmyk := flatJPEG(8000, 5000, four, true, 0, 6)
	webp := webpSolid(4000, 5000, color.NRGBA{1, 2, 3, 255})
	uploads := [][]byte{cmyk, webp, cmyk, webp}
	errs := make([]error, len(uploads))
	var highest atomic.Int64
	stop := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() { // admission's own count: never over the budget
		defer watch.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				if n := ts.decode.inUse(); n > highest.Load() {
					highest.Store(n)
				}
			}
		}
	}()
	peak := testutil.HeapPeak(func() {
		var wg sync.WaitGroup
		for i, data := range uploads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = ts.Upload(context.Background(), ts.owner.ID, UploadParams{Data: data})
			}()
		}
		wg.Wait()
	})
	close(stop)
	watch.Wait()
	for i, err := range errs {
		if i%2 == 0 {
			readableRejection(t, "CMYK bomb", err, "at most 160 MiB are allowed for one image")
		} else if err != nil {
			t.Errorf("WebP bomb: %v", err)
		}
	}
	t.Logf("four bombs at once: heap peak %d MiB, most admitted %d MiB", peak/mib, highest.Load()/mib)
	if peak > budget {
		t.Errorf("heap peak %d MiB with four bombs at once, over the %d MiB decode budget", peak/mib, budget/mib)
	}
	if highest.Load() > budget {
		t.Errorf("admitted %d bytes at once, over the budget", highest.Load())
	}
	if n := ts.decode.inUse(); n != 0 {
		t.Errorf("%d bytes still admitted after every upload ended", n)
	}
}

// assertNothingStored fails if the media dir holds any file or the store any upload row.
func (ts *testService) assertNothingStored(t *testing.T, what string) {
	t.Helper()
	if names := dirNames(t, ts.dir); len(names) != 0 {
		t.Errorf("%s: the media dir holds %q", what, names)
	}
	if keys, err := ts.st.ReferencedKeys(context.Background()); err == nil && len(keys) != 0 {
		t.Errorf("%s: rows reference %v", what, keys)
	}
}

// A client that leaves while its upload waits for memory stops it there:
// nothing is decoded, stored or recorded, and its bytes are given back.
func TestUploadWaitingForMemoryStopsWhenTheClientLeaves(t *testing.T) {
	ts := newTestService(t)
	all, err := ts.decode.Acquire(context.Background(), ts.decode.size)
	if err != nil {
		t.Fatal(err)
	}
	defer all()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := ts.Upload(ctx, ts.owner.ID, UploadParams{Data: encodePNG(t, gradient(64, 48))})
		done <- err
	}()
	waitFor(t, "the upload waits for memory", func() bool { return ts.decode.waiting() == 1 })
	cancel()
	if err := within(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("upload after the client left: %v", err)
	}
	ts.assertNothingStored(t, "left while waiting")
	if n := ts.held.inUse(); n != 0 {
		t.Errorf("the upload's %d bytes are still held", n)
	}
}

// within is the result on done, failing the test if none comes in 10 s.
func within(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting 10 s after the client left")
		return nil
	}
}

// countdownCtx is cancelled by its n-th Err call: a client that leaves at
// the n-th point where the upload looks.
type countdownCtx struct {
	context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	left   int
}

func newCountdown(n int) *countdownCtx {
	ctx, cancel := context.WithCancel(context.Background())
	return &countdownCtx{Context: ctx, cancel: cancel, left: n}
}

func (c *countdownCtx) Err() error {
	c.mu.Lock()
	if c.left--; c.left < 0 {
		c.cancel()
	}
	c.mu.Unlock()
	return c.Context.Err()
}

// Wherever between its steps a synchronous upload notices its client left
// (decode, orient, preview, encode, store), it stops and leaves nothing:
// no file, no row.
func TestUploadStopsBetweenStepsWhenTheClientLeaves(t *testing.T) {
	ts := newTestService(t)
	img := photo(320, 240)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	data := append(append(append([]byte{}, raw[:2]...), jpegSegment(0xE1, exifOrientationPayload(6))...), raw[2:]...)
	stoppedAt := 0
	for n := 0; ; n++ {
		if n > 200 {
			t.Fatal("the upload never finished")
		}
		ctx := newCountdown(n)
		m, err := ts.Upload(ctx, ts.owner.ID, UploadParams{Data: data})
		if err == nil {
			if !ts.exists(m.FileKey) || !ts.exists(m.PreviewKey) {
				t.Fatalf("finished upload %+v has no files", m)
			}
			break
		}
		if ctx.Context.Err() == nil { // (the store reports a cancelled query its own way)
			t.Fatalf("failed at check %d with %v, though the client was still there", n, err)
		}
		ts.assertNothingStored(t, fmt.Sprintf("stopped at check %d", n))
		stoppedAt = n + 1
	}
	// Decoding, orienting, the preview, encoding and storing each look.
	if stoppedAt < 5 {
		t.Errorf("the upload could be stopped at only %d points", stoppedAt)
	}
}

// A file whose bytes do not fit the budget for uploads held in memory is not
// read while it waits, and not read at all if its client leaves.
func TestUploadFileIsReadOnlyOnceItsBytesFit(t *testing.T) {
	ts := newTestService(t)
	data := encodePNG(t, gradient(64, 48))
	all, err := ts.held.Acquire(context.Background(), ts.held.size)
	if err != nil {
		t.Fatal(err)
	}
	file := &countingReader{r: bytes.NewReader(data)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := ts.Upload(ctx, ts.owner.ID, UploadParams{File: file, Size: int64(len(data))})
		done <- err
	}()
	waitFor(t, "the upload waits for room", func() bool { return ts.held.waiting() == 1 })
	cancel()
	if err := within(t, done); !errors.Is(err, context.Canceled) || file.n.Load() != 0 {
		t.Fatalf("upload that left while waiting: %v, %d bytes read", err, file.n.Load())
	}
	all()
	m, err := ts.Upload(context.Background(), ts.owner.ID, UploadParams{File: file, Size: int64(len(data))})
	if err != nil || file.n.Load() != int64(len(data)) || !ts.exists(m.FileKey) {
		t.Fatalf("upload with room: %v, %d of %d bytes read", err, file.n.Load(), len(data))
	}
	if n := ts.held.inUse(); n != 0 {
		t.Errorf("%d bytes still held after the upload", n)
	}
	// A size over every limit is refused before anything is held or read.
	huge := &countingReader{r: bytes.NewReader(data)}
	_, err = ts.Upload(context.Background(), ts.owner.ID, UploadParams{File: huge, Size: 1 << 40})
	readableRejection(t, "1 TiB upload", err, "at most")
	if huge.n.Load() != 0 {
		t.Error("a file over every limit was read")
	}
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// The store refuses the row (here: its owner is no account, which the
// foreign key refuses): the files already stored are deleted.
func TestUploadWhoseRowFailsLeavesNoFiles(t *testing.T) {
	ts := newTestService(t)
	_, err := ts.Upload(context.Background(), ts.owner.ID+1, UploadParams{Data: encodePNG(t, gradient(64, 48))})
	if err == nil {
		t.Fatal("an upload whose row could not be written succeeded")
	}
	if names := dirNames(t, ts.dir); len(names) != 0 {
		t.Errorf("the media dir holds %q after the row failed", names)
	}
}

// A background upload whose row is gone when it finishes (the janitor swept
// it as stuck) deletes the files it stored.
func TestBackgroundUploadWhoseRowIsGoneLeavesNoFiles(t *testing.T) {
	ts := newTestService(t, "[media]", `sync_limit_bytes = "1KiB"`)
	all, err := ts.decode.Acquire(context.Background(), ts.decode.size)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ts.Upload(context.Background(), ts.owner.ID, UploadParams{Data: encodePNG(t, gradient(300, 200)), Async: true})
	if err != nil || m.State != "processing" {
		t.Fatalf("async upload: %+v, %v", m, err)
	}
	waitFor(t, "processing waits for memory", func() bool { return ts.decode.waiting() == 1 })
	// A day later the janitor removes the upload that never became ready.
	ts.now = func() time.Time { return time.Now().Add(UnattachedTTL + time.Hour) }
	if sw, err := ts.Sweep(context.Background()); err != nil || sw.Rows != 1 {
		t.Fatalf("sweep: %+v, %v", sw, err)
	}
	all()
	ts.Wait()
	if names := dirNames(t, ts.dir); len(names) != 0 {
		t.Errorf("the media dir holds %q after finishing failed", names)
	}
	if n := ts.held.inUse() + ts.decode.inUse(); n != 0 {
		t.Errorf("%d bytes still held after the background upload ended", n)
	}
}

// stripes is a w×h image of one-pixel black and white columns: PNG stores
// it in a few kilobytes, its JPEG preview takes a hundred times more.
func stripes(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(255 * (i % 2))
	}
	return img
}

// The second file fails to store (the write hits a file-size limit, in a
// child process so this one keeps its limits): the first is deleted.
func TestUploadWhosePreviewFailsToStoreLeavesNoFiles(t *testing.T) {
	if dir := os.Getenv("MEDIA_TEST_PREVIEW_CHILD"); dir != "" {
		cfg := testutil.ProdConfig(t, dir)
		local, err := NewLocal(cfg.MediaDir())
		if err != nil {
			t.Fatal(err)
		}
		s := New(cfg, nil, local, id.NewGenerator(), slog.New(slog.DiscardHandler))
		m := &store.Media{ID: 1}
		err = s.process(context.Background(), m, PNG, encodePNG(t, stripes(640, 640)))
		fmt.Printf("err=%v\n", err)
		return
	}
	if runtime.GOOS == "windows" {
		t.Skip("needs a POSIX shell's ulimit")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	// The limit falls between the two files whether the shell counts
	// ulimit -f in 512- or 1024-byte blocks.
	const blocks = 48
	out, err := ProcessImage(context.Background(), encodePNG(t, stripes(640, 640)), PNG, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Data) >= blocks*512 || len(out.Thumb) <= blocks*1024 {
		t.Fatalf("fixture: the file is %d bytes and the preview %d: the limit does not fall between", len(out.Data), len(out.Thumb))
	}
	dir := t.TempDir()
	cmd := exec.Command(sh, "-c", fmt.Sprintf(`ulimit -f %d && exec "$0" -test.run='^TestUploadWhosePreviewFailsToStoreLeavesNoFiles$' -test.v`, blocks), os.Args[0])
	cmd.Env = append(os.Environ(), "MEDIA_TEST_PREVIEW_CHILD="+dir)
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, got)
	}
	if !strings.Contains(string(got), "err=store media:") || !strings.Contains(string(got), "file too large") {
		t.Fatalf("storing the preview did not fail as expected:\n%s", got)
	}
	cfg := testutil.ProdConfig(t, dir)
	if names := dirNames(t, cfg.MediaDir()); len(names) != 0 {
		t.Errorf("the media dir holds %q after the preview failed to store", names)
	}
}

// A client that leaves while its image decodes stops the decoder at its
// next read. An interlaced PNG allocates each Adam7 pass as it reaches it:
// stopped after its first 4 KiB, the decoder has allocated the image and a
// few small passes; running to the end, the passes come to the image's
// size again.
func TestDecodingStopsAtTheNextReadWhenTheClientLeaves(t *testing.T) {
	data := zeroPNG(4000, 4000, 16, 6, true) // a 128 MB image, 81 KB of PNG
	p, err := planImage(data, PNG, Limits{MaxPixels: 50_000_000})
	if err != nil {
		t.Fatal(err)
	}
	const image = 4000 * 4000 * 8
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = p.process(newCountdown(1), data) // gone by the decoder's second read
	runtime.ReadMemStats(&after)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("decoding for a client that left: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > image*3/2 {
		t.Errorf("%d MiB allocated for a 122 MiB image: the decoder kept reading after the client left", alloc>>20)
	}
}
