package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/safely"
	"github.com/rampart-social/rampart/internal/store"
)

// Service accepts, processes and cleans up uploads.
type Service struct {
	cfg     *config.Config
	store   *store.Store
	storage Storage
	ids     *id.Generator
	log     *slog.Logger
	now     func() time.Time
	// held bounds the bytes of uploads held in memory at once, from before
	// a file is read until its processing ends (in a request or waiting in
	// the background): HeldBytes.
	held *byteBudget
	// decode bounds the memory processing takes at once, by each upload's
	// estimate (an image's from its header, before decoding):
	// media.decode_memory_bytes. No one image may estimate more.
	decode  *byteBudget
	pending chan struct{} // bounds uploads processed in the background (each also holds its bytes in held)
	bg      *safely.Group // background processing; a panic there fails the upload, not the process
	// stopped is the context every background upload's processing derives
	// from; Stop cancels it (stop) at shutdown, once the grace it gives has
	// passed, so no upload holds the process for its own time limit.
	stopped context.Context
	stop    context.CancelFunc
	// life orders Stop after every background start: a start holds it for
	// reading from its check of stopping to its Group.Go.
	life     sync.RWMutex
	stopping bool
	// uploads is limits.uploads per account (WithUploadLimit); nil allows all.
	uploads *ratelimit.Shared
	waiters *safely.Group // Stop's wait for bg, which it bounds by its grace
}

const (
	// maxPending is how many uploads may wait for background processing.
	maxPending = 8
	// processTimeout bounds one upload's processing in the background.
	processTimeout = 5 * time.Minute
	// finishTimeout bounds the write of a background upload's outcome, which
	// runs with a context of its own: the one processing had may be over
	// (cancelled at shutdown, or timed out), and the outcome must still be
	// recorded.
	finishTimeout = 10 * time.Second
)

// New builds the service.
func New(cfg *config.Config, st *store.Store, storage Storage, ids *id.Generator, log *slog.Logger) *Service {
	stopped, stop := context.WithCancel(context.Background())
	return &Service{cfg: cfg, store: st, storage: storage, ids: ids, log: log, now: time.Now,
		held: newByteBudget(HeldBytes(cfg)), decode: newByteBudget(int64(cfg.Media.DecodeMemoryBytes)),
		pending: make(chan struct{}, maxPending), bg: safely.NewGroup(log),
		stopped: stopped, stop: stop, waiters: safely.NewGroup(log)}
}

// WithUploadLimit applies limits.uploads per account, digesting the keys
// under key (accounts.LimiterKey). It returns s.
func (s *Service) WithUploadLimit(key []byte) *Service {
	s.uploads = ratelimit.Optional(s.store, key, "uploads.account", s.cfg.Limits.Uploads, config.UploadsWindow,
		func() time.Time { return s.now() })
	return s
}

// TakeUpload counts an upload of owner's against limits.uploads, or refuses
// it with a *ratelimit.WaitError. The API calls it before it reads the
// upload's body, so a refused upload costs no bytes; profile images are not
// counted, as on Mastodon.
func (s *Service) TakeUpload(ctx context.Context, owner int64) error {
	return s.uploads.Allow(ctx, "uploads", strconv.FormatInt(owner, 10))
}

// HeldBytes is the most upload bytes held in memory at once: two of the
// largest upload allowed, so one large video never blocks every other
// upload, while what uploads hold stays a fixed multiple of the limits.
func HeldBytes(cfg *config.Config) int64 { return 2 * largestFile(cfg) }

// MaxBytes is the largest upload of any kind (the request body limit of upload routes).
func MaxBytes(cfg *config.Config) int64 {
	return largestFile(cfg) + 64<<10 // room for the multipart envelope
}

// largestFile is the largest of media.max_{image,video,audio}_bytes.
func largestFile(cfg *config.Config) int64 {
	m := cfg.Media
	return int64(max(m.MaxImageBytes, m.MaxVideoBytes, m.MaxAudioBytes))
}

// CheckSize refuses an upload whose size is over the limit of the kind its
// first bytes sniff as — before the whole file is read into memory.
func (s *Service) CheckSize(head []byte, size int64) error {
	f, err := Sniff(head)
	if err != nil {
		return err
	}
	if limit := s.limitFor(f.Kind); size > limit {
		return reject("the %s is %d bytes; at most %d are accepted", f.Kind, size, limit)
	}
	return nil
}

func (s *Service) limitFor(k Kind) int64 {
	switch k {
	case Video:
		return int64(s.cfg.Media.MaxVideoBytes)
	case Audio:
		return int64(s.cfg.Media.MaxAudioBytes)
	}
	return int64(s.cfg.Media.MaxImageBytes)
}

// UploadParams are an upload's inputs.
type UploadParams struct {
	// The file: Data, already in memory, or File with its Size, read into
	// memory only once the bytes fit the service's budget for uploads held
	// in memory (HeldBytes).
	Data        []byte
	File        io.Reader
	Size        int64
	Description string
	Focus       string // "x,y" in -1..1
	// Async lets processing finish after Upload returns (v2): the row is
	// "processing" until then.
	Async bool
}

// Upload checks and stores an upload. With Async, large files are processed
// in the background and the returned row is still "processing". The file's
// bytes count against HeldBytes until its processing ends; if any step
// fails, no file it stored stays behind.
func (s *Service) Upload(ctx context.Context, owner int64, p UploadParams) (*store.Media, error) {
	desc, err := s.checkDescription(p.Description)
	if err != nil {
		return nil, err
	}
	fx, fy, err := parseFocus(p.Focus)
	if err != nil {
		return nil, err
	}
	data, release, err := s.hold(ctx, p)
	if err != nil {
		return nil, err
	}
	defer func() { release() }() // unless the background takes it over
	// Sniffed from all of it: ID3v2 tags (a picture) before a FLAC stream
	// can be longer than the head CheckSize sniffed.
	f, err := Sniff(data)
	if err != nil {
		return nil, err
	}
	if n, limit := int64(len(data)), s.limitFor(f.Kind); n > limit {
		return nil, reject("the %s is %d bytes; at most %d are accepted", f.Kind, n, limit)
	}
	m := &store.Media{ID: s.ids.Next(), AccountID: owner, Kind: string(f.Kind), ContentType: f.MIME, Description: desc,
		FocusX: fx, FocusY: fy, State: "processing", Meta: "{}", CreatedAt: s.now().UTC()}
	if p.Async && int64(len(data)) > int64(s.cfg.Media.SyncLimitBytes) {
		started, err := s.background(ctx, m, f, data, release)
		if err != nil {
			return nil, err
		}
		if started {
			release = func() {} // the background releases the bytes when it ends
			return m, nil
		}
		// Too many wait already (back-pressure), or the server is stopping:
		// this one is processed now, in its request.
	}
	if err := s.process(ctx, m, f, data); err != nil {
		return nil, err
	}
	m.State = "ready"
	if err := s.store.CreateMedia(ctx, m); err != nil {
		s.discard(ctx, m)
		return nil, err
	}
	return m, nil
}

// background records m as "processing" and hands its processing to a
// goroutine, which calls release when it ends; it reports whether it did.
// It does not when maxPending uploads wait already or Stop has begun.
func (s *Service) background(ctx context.Context, m *store.Media, f Format, data []byte, release func()) (started bool, err error) {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.stopping {
		return false, nil
	}
	select {
	case s.pending <- struct{}{}:
	default:
		return false, nil
	}
	if err := s.store.CreateMedia(ctx, m); err != nil {
		<-s.pending
		return false, err
	}
	queued := *m
	_ = s.bg.Go("processing an upload", func() error { // a panic here is logged; the row stays "processing" until the janitor or the next start fails it
		defer func() { <-s.pending }()
		defer release()
		// The request is over: processing has its own time limit, and ends
		// early when the server stops (Stop).
		pctx, cancel := context.WithTimeout(s.stopped, processTimeout)
		defer cancel()
		done := queued
		err := s.process(pctx, &done, f, data)
		switch {
		case err == nil:
			done.State = "ready"
		case errors.Is(err, ErrRejected):
			done.State, done.Failure = "failed", err.Error()
		case s.stopped.Err() != nil:
			done.State, done.Failure = "failed", store.FailureServerStopped
		case errors.Is(err, context.DeadlineExceeded):
			done.State, done.Failure = "failed", fmt.Sprintf("processing took longer than %s; upload a smaller file", processTimeout)
		default:
			done.State, done.Failure = "failed", err.Error()
		}
		wctx, wcancel := context.WithTimeout(context.Background(), finishTimeout)
		defer wcancel()
		if err := s.store.FinishMedia(wctx, &done); err != nil {
			s.log.Error("finishing an upload", "media_id", done.ID, "err", err)
			s.discard(wctx, &done)
		}
		return nil
	})
	return true, nil
}

// hold reserves the upload's bytes in the held budget, waiting while other
// uploads hold it (or until ctx is done), and reads a File into memory.
func (s *Service) hold(ctx context.Context, p UploadParams) (data []byte, release func(), err error) {
	size := int64(len(p.Data))
	if p.File != nil {
		size = p.Size
	}
	if size <= 0 {
		return nil, nil, reject("the file is empty")
	}
	if limit := largestFile(s.cfg); size > limit {
		return nil, nil, reject("the file is %d bytes; at most %d are accepted", size, limit)
	}
	release, err = s.held.Acquire(ctx, size)
	if err != nil {
		return nil, nil, err
	}
	if p.File == nil {
		return p.Data, release, nil
	}
	data = make([]byte, size)
	if _, err := io.ReadFull(p.File, data); err != nil {
		release()
		return nil, nil, fmt.Errorf("read upload: %w", err)
	}
	return data, release, nil
}

// discard deletes the files process stored for m, after a later step
// failed. It runs even when ctx is done (a client that went away must not
// leave files behind).
func (s *Service) discard(ctx context.Context, m *store.Media) {
	ctx = context.WithoutCancel(ctx)
	for _, key := range []string{m.FileKey, m.PreviewKey} {
		if key == "" {
			continue
		}
		if err := s.storage.Delete(ctx, key); err != nil {
			s.log.Error("deleting the files of a failed upload", "media_id", m.ID, "key", key, "err", err)
		}
	}
	m.FileKey, m.PreviewKey = "", ""
}

// A ProfileImage is an avatar or header that (*Service).ProfileImage
// stored: Key is what the profile names. Until a profile change names it, the upload behind it
// is unused, and DiscardProfileImage removes it.
type ProfileImage struct {
	Key    string
	upload *store.Media
}

// ProfileImage stores an avatar or header: it must be an image, is
// re-encoded like any upload — the avatar uses the (at most 640-pixel)
// preview, the header the full image. A profile change that then fails
// discards it (DiscardProfileImage).
func (s *Service) ProfileImage(ctx context.Context, owner int64, file io.Reader, size int64, avatar bool) (*ProfileImage, error) {
	head := make([]byte, min(size, 4096))
	if _, err := io.ReadFull(file, head); err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	f, err := Sniff(head)
	if err != nil {
		return nil, err
	}
	if f.Kind != Image {
		return nil, reject("avatars and headers must be images")
	}
	if size > s.limitFor(Image) {
		return nil, reject("the image is %d bytes; at most %d are accepted", size, s.limitFor(Image))
	}
	m, err := s.Upload(ctx, owner, UploadParams{File: io.MultiReader(bytes.NewReader(head), file), Size: size})
	if err != nil {
		return nil, err
	}
	if avatar {
		return &ProfileImage{Key: m.PreviewKey, upload: m}, nil
	}
	return &ProfileImage{Key: m.FileKey, upload: m}, nil
}

// DiscardProfileImage removes a profile image whose profile change failed:
// its row, then its files (as discard removes a failed upload's), at once
// rather than after the day the sweep waits. An image some profile names
// after all is left alone. It runs even when ctx is done (a client that went
// away must not leave files behind); failures are logged, and what they
// leave the sweep removes.
func (s *Service) DiscardProfileImage(ctx context.Context, img *ProfileImage) {
	ctx = context.WithoutCancel(ctx)
	deleted, err := s.store.DeleteUnusedUpload(ctx, img.upload.ID)
	if err != nil {
		s.log.Error("deleting the upload of a failed profile change", "media_id", img.upload.ID, "err", err)
		return
	}
	if deleted {
		s.discard(ctx, img.upload)
	}
}

// Wait blocks until background processing is done (for tests; shutdown
// calls Stop, which bounds the wait).
func (s *Service) Wait() { s.bg.Wait() }

// Stop ends background processing, for shutdown. Uploads being processed
// get until ctx is done to finish; then their processing is cancelled, and
// each one it interrupts is marked failed with store.FailureServerStopped
// (its client, polling, is told to upload it again) and keeps no file.
// Stop returns once every background goroutine has ended. From its start,
// an upload that would go to the background is processed in its request.
// Calling it again only waits.
func (s *Service) Stop(ctx context.Context) {
	s.life.Lock()
	s.stopping = true
	s.life.Unlock()
	ended := s.waiters.Go("waiting for background uploads", func() error { s.bg.Wait(); return nil })
	select {
	case <-ended:
		s.stop()
		return
	case <-ctx.Done():
	}
	s.log.Warn("stopping: cancelling uploads still processing in the background; they are marked failed")
	s.stop()
	<-ended
}

// process makes the upload safe and stores its files, filling m. Its memory
// is admitted by estimate against the decode budget first (waiting while
// other uploads use it, or until ctx is done) and held until the files are
// stored. If a step fails, nothing it stored stays behind.
func (s *Service) process(ctx context.Context, m *store.Media, f Format, data []byte) (err error) {
	lim := Limits{MaxPixels: int(s.cfg.Media.MaxImagePixels), MaxMemory: int64(s.cfg.Media.DecodeMemoryBytes)}
	// Parsers of uploaded bytes are where a crafted file finds a bug: a panic
	// there fails this upload with a clean error, never the request or the process.
	parse := func(fn func() error) error {
		err := safely.Do(s.log, "processing an upload", fn)
		var pe *safely.PanicError
		if errors.As(err, &pe) {
			return reject("the file could not be processed")
		}
		return err
	}
	var plan *imagePlan
	// Video and audio are checked in place (checkStructure walks the bytes,
	// checkNoMarkup lowers a 32 KiB window at a time); the file itself is
	// counted in HeldBytes already.
	cost := int64(1 << 20)
	if f.Kind == Image {
		if err := parse(func() (err error) { plan, err = planImage(data, f, lim); return err }); err != nil {
			return err
		}
		cost = plan.bytes
	}
	release, err := s.decode.Acquire(ctx, cost)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return reject("the file would take about %s of memory to process; at most %s are allowed for one upload",
			byteString(cost), byteString(int64(s.cfg.Media.DecodeMemoryBytes)))
	}
	defer release()
	meta := map[string]any{}
	var file, preview []byte
	err = parse(func() error {
		switch f.Kind {
		case Image:
			img, err := plan.process(ctx, data)
			if err != nil {
				return err
			}
			f, file, preview = img.Format, img.Data, img.Thumb
			m.Blurhash = img.Blurhash
			meta["original"] = dims(img.Size)
			meta["small"] = dims(img.ThumbIs)
			if m.FocusX != 0 || m.FocusY != 0 {
				meta["focus"] = map[string]float64{"x": m.FocusX, "y": m.FocusY}
			}
		default:
			if err := checkStructure(data, f); err != nil {
				return err
			}
			if err := checkNoMarkup(data); err != nil { // a second line, for markup inside a valid container
				return err
			}
			file = data
			if d := Duration(data, f); d > 0 {
				meta["original"] = map[string]any{"duration": d}
			}
			// No frame is taken from the file (that would need a video decoder):
			// a generic preview keeps preview_url on the media origin, never null.
			preview = genericPreview()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.discard(ctx, m)
		}
	}()
	if m.FileKey, err = s.storage.Put(ctx, f.Ext, file); err != nil {
		return err
	}
	m.FileSize, m.ContentType, m.Kind = int64(len(file)), f.MIME, string(f.Kind)
	if preview != nil {
		if m.PreviewKey, err = s.storage.Put(ctx, "jpg", preview); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(meta)
	m.Meta = string(b)
	return nil
}

func dims(sz Size) map[string]any {
	return map[string]any{"width": sz.Width, "height": sz.Height, "size": fmt.Sprintf("%dx%d", sz.Width, sz.Height), "aspect": sz.Aspect()}
}

func (s *Service) checkDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if !utf8.ValidString(d) {
		return "", reject("the description is not valid UTF-8")
	}
	if n, limit := utf8.RuneCountInString(d), int(s.cfg.Media.DescriptionLimit); n > limit {
		return "", reject("the description is %d characters; at most %d are accepted", n, limit)
	}
	return d, nil
}

// parseFocus reads Mastodon's "x,y" focal point: exactly two finite decimal
// numbers in [-1, 1] separated by one comma (spaces around each allowed);
// empty means none (0,0). NaN, infinities, hex floats, a third number or
// anything trailing are refused, so no value the store cannot hold gets past.
func parseFocus(v string) (float64, float64, error) {
	if strings.TrimSpace(v) == "" {
		return 0, 0, nil
	}
	xs, ys, _ := strings.Cut(v, ",") // no comma: ys is empty, and refused
	x, xok := focusCoordinate(xs)
	y, yok := focusCoordinate(ys)
	if !xok || !yok {
		return 0, 0, reject("focus must be two numbers between -1 and 1, like 0.5,-0.2")
	}
	return x, y, nil
}

// focusCoordinate reads one coordinate of a focal point. Only decimal
// notation gets to ParseFloat, so "NaN", "Inf", "0x1p-1" and "1_0" never
// do; an overflow ("1e400") is its error, so what passes is finite.
func focusCoordinate(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.Trim(s, "0123456789.+-eE") != "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < -1 || f > 1 {
		return 0, false
	}
	return f, true
}

// Describe changes an unattached-or-own upload's description and focus.
func (s *Service) Describe(ctx context.Context, owner, id int64, description, focus *string) (*store.Media, error) {
	m, err := s.Own(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if description != nil {
		if m.Description, err = s.checkDescription(*description); err != nil {
			return nil, err
		}
	}
	if focus != nil {
		if m.FocusX, m.FocusY, err = parseFocus(*focus); err != nil {
			return nil, err
		}
	}
	if err := s.store.DescribeMedia(ctx, m.ID, m.Description, m.FocusX, m.FocusY); err != nil {
		return nil, err
	}
	return m, nil
}

// Own loads an upload of owner's; others' are not found.
func (s *Service) Own(ctx context.Context, owner, id int64) (*store.Media, error) {
	m, err := s.store.MediaByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.AccountID != owner {
		return nil, store.ErrNotFound
	}
	return m, nil
}

// Swept reports what a sweep removed.
type Swept struct {
	Rows  int64
	Files int
	Bytes int64
}

// UnattachedTTL is how long an upload may wait to be attached.
const UnattachedTTL = 24 * time.Hour

// Sweep removes unattached uploads older than a day (and failed or stuck
// ones), then every stored file no row references any more (deleted
// statuses, replaced avatars, crashes between storing and recording).
func (s *Service) Sweep(ctx context.Context) (Swept, error) {
	var out Swept
	_, rows, err := s.store.ExpiredUploads(ctx, s.now().Add(-UnattachedTTL))
	if err != nil {
		return out, err
	}
	out.Rows = rows
	keys, err := s.storage.Keys(ctx)
	if err != nil {
		return out, err
	}
	live, err := s.store.ReferencedKeys(ctx)
	if err != nil {
		return out, err
	}
	for _, k := range keys {
		if live[k] {
			continue
		}
		if f, err := s.storage.Open(ctx, k); err == nil {
			info, serr := f.Stat()
			f.Close()
			// A file younger than a minute may belong to an upload whose row is being written.
			if serr != nil || s.now().Sub(info.ModTime()) < time.Minute {
				continue
			}
			out.Bytes += info.Size()
		}
		if err := s.storage.Delete(ctx, k); err != nil {
			return out, err
		}
		out.Files++
	}
	return out, nil
}

// ErrNotReady means an upload is still processing (or failed) when attached.
var ErrNotReady = errors.New("the upload is still processing")

// Open returns a servable stored file and its sniffed type; files no live
// row references do not exist here.
func (s *Service) Open(ctx context.Context, key string) (File, *store.ServedFile, error) {
	if !ValidKey(key) {
		return nil, nil, ErrNoFile
	}
	sf, err := s.store.ServableKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrNoFile
	}
	if err != nil {
		return nil, nil, err
	}
	f, err := s.storage.Open(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	return f, sf, nil
}
