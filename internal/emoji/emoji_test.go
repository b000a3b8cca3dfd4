package emoji

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

type fixture struct {
	*Service
	media *media.Service
	dir   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg := testutil.ProdConfig(t, t.TempDir())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := storetest.OpenErr(t, cfg.DatabasePath(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	local, err := media.NewLocal(cfg.MediaDir())
	if err != nil {
		t.Fatal(err)
	}
	ids := id.NewGenerator()
	ms := media.New(cfg, st, local, ids, log)
	return &fixture{Service: New(st, ms, ids), media: ms, dir: cfg.MediaDir()}
}

func (f *fixture) files(t *testing.T) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(f.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// get fetches key from the media origin's handler.
func (f *fixture) get(key string) (int, string) {
	rec := httptest.NewRecorder()
	f.media.Handler(slog.New(slog.DiscardHandler), nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/"+key, nil))
	return rec.Code, rec.Header().Get("Content-Type")
}

func animatedGIF(t *testing.T) []byte {
	t.Helper()
	pal := color.Palette{color.Transparent, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}}
	g := &gif.GIF{}
	for i := range 2 {
		fr := image.NewPaletted(image.Rect(0, 0, 16, 16), pal)
		for x := range 16 {
			fr.SetColorIndex(x, x, uint8(1+i))
		}
		g.Image, g.Delay = append(g.Image, fr), append(g.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// An emoji's image is re-encoded and served on the media origin while the
// emoji exists, survives the sweep, and is gone (row, files, serving) once
// it is removed. A GIF gets a still PNG as its static image.
func TestAddServeSweepRemove(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	png, err := f.Add(ctx, "blob_cat", "Blobs", bytes.NewReader(testutil.GradientPNG(t, 32, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if png.ContentType != "image/png" || png.StaticKey != png.FileKey || png.Category != "Blobs" || !png.VisibleInPicker {
		t.Errorf("png emoji: %+v", png)
	}
	anim, err := f.Add(ctx, "party", "", bytes.NewReader(animatedGIF(t)))
	if err != nil {
		t.Fatal(err)
	}
	if anim.ContentType != "image/gif" || anim.StaticKey == anim.FileKey || !strings.HasSuffix(anim.StaticKey, ".png") {
		t.Errorf("gif emoji: %+v", anim)
	}
	for key, want := range map[string]string{png.FileKey: "image/png", anim.FileKey: "image/gif", anim.StaticKey: "image/png"} {
		if code, ctype := f.get(key); code != http.StatusOK || ctype != want {
			t.Errorf("GET %s: %d %s, want 200 %s", key, code, ctype, want)
		}
	}
	// The sweep spares files younger than a minute: these are made older,
	// beside a stray file nothing references, which must go.
	if err := os.WriteFile(filepath.Join(f.dir, strings.Repeat("s", 43)+".png"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	for _, p := range f.files(t) {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	swept, err := f.media.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.files(t)); n != 3 || swept.Files != 1 {
		t.Errorf("%d files after the sweep (%d swept), want the 3 emoji files (the stray one swept): %v", n, swept.Files, f.files(t))
	}
	list, err := f.List(ctx)
	if err != nil || len(list) != 2 || list[0].Shortcode != "blob_cat" {
		t.Errorf("list: %+v, %v", list, err)
	}
	if err := f.Remove(ctx, "party"); err != nil {
		t.Fatal(err)
	}
	if code, _ := f.get(anim.FileKey); code != http.StatusNotFound {
		t.Errorf("a removed emoji's file answers %d", code)
	}
	if n := len(f.files(t)); n != 1 {
		t.Errorf("%d files after the removal, want 1", n)
	}
	if err := f.Remove(ctx, "party"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("remove again: %v", err)
	}
}

// Bad shortcodes, taken ones (in any case), non-images, other formats and
// images over the limit are refused with a reason, leaving no file behind.
func TestAddRefuses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.Add(ctx, "blob", "", bytes.NewReader(testutil.GradientPNG(t, 8, 8))); err != nil {
		t.Fatal(err)
	}
	big := testutil.GradientPNG(t, 8, 8)
	big = append(big, make([]byte, media.MaxEmojiBytes)...)
	jpeg := testutil.FlatJPEG(8, 8, nil, false, -1, 0)
	for _, c := range []struct {
		code, category string
		data           []byte
		want           error
		says           string
	}{
		{"a", "", testutil.GradientPNG(t, 8, 8), ErrInvalid, "shortcode"},
		{"no-dash", "", testutil.GradientPNG(t, 8, 8), ErrInvalid, "shortcode"},
		{"ok", "bad\x00category", testutil.GradientPNG(t, 8, 8), ErrInvalid, "category"},
		{"BLOB", "", testutil.GradientPNG(t, 8, 8), store.ErrConflict, "taken"},
		{"text", "", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), ErrInvalid, "none of them"},
		{"photo", "", jpeg, ErrInvalid, "PNG, GIF or WebP"},
		{"huge", "", big, ErrInvalid, "at most 256 KiB"},
	} {
		_, err := f.Add(ctx, c.code, c.category, bytes.NewReader(c.data))
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want %v saying %q", c.code, err, c.want, c.says)
		}
	}
	if n := len(f.files(t)); n != 1 {
		t.Errorf("%d files, want only the one emoji's", n)
	}
}
