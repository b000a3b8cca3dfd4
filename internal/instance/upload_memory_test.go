package instance

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testutil"
)

// Image bombs posted at once through the real HTTP path (TLS, body limit,
// multipart, the API, the media service) keep the server's heap within its
// decode budget: what a header says an image would cost is refused or
// waits its turn. Without admission by memory the admitted ones alone would
// take about 240 MiB together; the budget here is 128 MiB.
func TestConcurrentImageBombsOverHTTPStayWithinTheBudget(t *testing.T) {
	// Admitted one after another, the last may wait a while (minutes with
	// the race detector on a busy machine): the server and this client wait
	// longer than their defaults, so what is measured is memory, not speed.
	ti := startMedia(t, "[http]", `read_timeout = "5m"`, `write_timeout = "5m"`,
		"[media]", `decode_memory_bytes = "128MiB"`, `max_video_bytes = "64MiB"`, `max_audio_bytes = "32MiB"`)
	tok, _ := ti.userToken("mallory", "write:media")
	four := []testutil.JPEGComponent{{H: 1, V: 1}, {H: 1, V: 1}, {H: 1, V: 1}, {H: 1, V: 1}}
	uploads := []struct {
		name, ctype string
		data        []byte
		status      int
		want        string
	}{
		{"cmyk.jpg", "image/jpeg", testutil.FlatJPEG(8000, 5000, four, true, 0, 6), 422,
			"progressive CMYK JPEG of 8000×5000 pixels, which would take about 1034 MiB of memory to process; at most 128 MiB"},
		{"deep.png", "image/png", testutil.ZeroPNG(8000, 5000, 16, 6, true), 422, "16-bit interlaced PNG of 8000×5000 pixels"},
		{"strip.png", "image/png", testutil.ZeroPNG(1, 40_000_000, 8, 0, false), 200, ""},
	}
	for i := 0; i < 4; i++ {
		uploads = append(uploads, struct {
			name, ctype string
			data        []byte
			status      int
			want        string
		}{fmt.Sprintf("solid%d.webp", i), "image/webp", testutil.SolidWebP(3000, 3000, color.NRGBA{uint8(i), 2, 3, 255}), 200, ""})
	}
	bodies := make([][]byte, len(uploads))
	ctypes := make([]string, len(uploads))
	for i, u := range uploads {
		bodies[i], ctypes[i] = multipartBody(nil, filePart{"file", u.name, u.ctype, u.data})
	}
	client, _ := ti.newClient()
	client.Timeout = 5 * time.Minute
	replies := make([]reply, len(uploads))
	errs := make([]error, len(uploads))
	peak := testutil.HeapPeak(func() {
		var wg sync.WaitGroup
		for i := range uploads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", "https://example.test/api/v1/media", bytes.NewReader(bodies[i]))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", ctypes[i])
				resp, err := client.Do(req)
				if err != nil {
					errs[i] = err
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				replies[i], errs[i] = reply{resp.StatusCode, resp.Header, string(b)}, err
			}()
		}
		wg.Wait()
	})
	client.CloseIdleConnections()
	for i, u := range uploads {
		if errs[i] != nil {
			t.Fatalf("%s: %v", u.name, errs[i])
		}
		if r := replies[i]; r.status != u.status || !strings.Contains(r.body, u.want) {
			t.Errorf("%s: %d %s, want %d with %q", u.name, r.status, r.body, u.status, u.want)
		}
	}
	t.Logf("%d bombs at once over HTTP: heap peak %d MiB", len(uploads), peak>>20)
	// The budget, plus what the requests themselves hold (TLS, multipart
	// forms of a few hundred kilobytes, responses).
	if limit := uint64(128+32) << 20; peak > limit {
		t.Errorf("heap peak %d MiB, over the 128 MiB decode budget and 32 MiB for the requests", peak>>20)
	}
}
