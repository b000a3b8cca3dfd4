package media

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store"
)

// plant stores bytes under a fresh key and records an upload row for them,
// as a processing step (or a future one) might have left it.
func (ts *testService) plant(t *testing.T, ids *id.Generator, contentType, state string) (file, preview string) {
	t.Helper()
	ctx := context.Background()
	var err error
	if file, err = ts.local.Put(ctx, "png", []byte("<!doctype html><script>alert(1)</script>")); err != nil {
		t.Fatal(err)
	}
	if preview, err = ts.local.Put(ctx, "jpg", []byte("<svg onload=alert(1)>")); err != nil {
		t.Fatal(err)
	}
	m := &store.Media{ID: ids.Next(), AccountID: ts.owner.ID, Kind: "image", ContentType: contentType, FileKey: file,
		PreviewKey: preview, FileSize: 40, Meta: "{}", State: state, CreatedAt: time.Now()}
	if err := ts.st.CreateMedia(ctx, m); err != nil {
		t.Fatal(err)
	}
	return file, preview
}

func serveMedia(h http.Handler, method, key string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, "https://media.example.test/"+key, nil))
	return rec
}

// TestMediaHostServesOnlyAllowListedTypesInline: a ready file goes out with
// its stored type inline only when that type is on the allow-list; any other
// stored type (markup, script, a type with parameters, another letter case,
// none) goes out as application/octet-stream, as an attachment.
func TestMediaHostServesOnlyAllowListedTypesInline(t *testing.T) {
	ts := newTestService(t)
	h := ts.Handler(slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	ids := id.NewGenerator()
	for _, ct := range []string{"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/webm",
		"audio/mpeg", "audio/ogg", "audio/mp4", "audio/wav", "audio/flac"} {
		file, _ := ts.plant(t, ids, ct, "ready")
		rec := serveMedia(h, "GET", file)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != ct || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), "inline;") {
			t.Errorf("allowed %s: %d %q %q", ct, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition"))
		}
	}
	for _, ct := range []string{"text/html", "text/html; charset=utf-8", "image/svg+xml", "application/xhtml+xml", "text/xml",
		"application/javascript", "text/javascript", "application/activity+json", "application/pdf", "text/plain",
		"IMAGE/PNG", "image/png; charset=utf-8", " image/png", "image/pngx", ""} {
		file, _ := ts.plant(t, ids, ct, "ready")
		for _, method := range []string{"GET", "HEAD"} {
			rec := serveMedia(h, method, file)
			if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/octet-stream" ||
				!strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment;") {
				t.Errorf("%s of a file stored as %q: %d, Content-Type %q, Content-Disposition %q; want application/octet-stream as an attachment",
					method, ct, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition"))
			}
		}
	}
}

// TestMediaHostRefusesUnfinishedUploads: the files of an upload that is
// still processing or has failed are 404, the original and the preview
// alike, although both are on disk; once the row is ready they are served.
func TestMediaHostRefusesUnfinishedUploads(t *testing.T) {
	ts := newTestService(t)
	h := ts.Handler(slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	ids := id.NewGenerator()
	for _, state := range []string{"processing", "failed"} {
		file, preview := ts.plant(t, ids, "image/png", state)
		for _, key := range []string{file, preview} {
			if !ts.exists(key) {
				t.Fatalf("%s not on disk", key)
			}
			for _, method := range []string{"GET", "HEAD"} {
				if rec := serveMedia(h, method, key); rec.Code != http.StatusNotFound {
					t.Errorf("%s of a %s upload's file: %d, want 404", method, state, rec.Code)
				}
			}
		}
	}
	file, preview := ts.plant(t, ids, "image/png", "ready")
	for _, key := range []string{file, preview} {
		if rec := serveMedia(h, "GET", key); rec.Code != 200 {
			t.Errorf("a ready upload's file: %d", rec.Code)
		}
	}
}
