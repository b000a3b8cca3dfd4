package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/config"
)

// countingBody counts the bytes a handler reads of a request body.
type countingBody struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Forms that may carry files are parsed (up to formMemory in memory, the
// rest on disk) only within one of the upload slots, so at most that many
// are parsed at once: with every slot taken, a profile update with a
// multipart form and a media upload both wait without reading their bodies,
// and stop when their clients leave.
func TestMultipartFormsAreParsedOnlyInAnUploadSlot(t *testing.T) {
	e := newEnv(t)
	tok := e.userToken(t, e.bob, "write")
	for i := 0; i < concurrentUploads; i++ {
		e.api.uploads <- struct{}{}
	}
	const form = "--b\r\nContent-Disposition: form-data; name=\"display_name\"\r\n\r\nBob\r\n--b--\r\n"
	for _, route := range []struct{ method, path string }{
		{"PATCH", "/api/v1/accounts/update_credentials"},
		{"POST", "/api/v1/media"},
		{"POST", "/api/v2/media"},
	} {
		body := &countingBody{r: strings.NewReader(form)}
		ctx, cancel := context.WithCancel(context.Background())
		req := httptest.NewRequestWithContext(ctx, route.method, "https://"+testHost+route.path, body)
		req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		req.Header.Set("Authorization", "Bearer "+tok)
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.mux.ServeHTTP(httptest.NewRecorder(), req)
		}()
		time.Sleep(20 * time.Millisecond) // the handler runs up to its wait
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s %s: still running 10 s after its client left", route.method, route.path)
		}
		if n := body.n.Load(); n != 0 {
			t.Errorf("%s %s read %d bytes of its form with every upload slot taken", route.method, route.path, n)
		}
	}
	for i := 0; i < concurrentUploads; i++ {
		<-e.api.uploads
	}
	// With a slot free, the same profile form goes through.
	rec := e.do(t, "PATCH", "/api/v1/accounts/update_credentials", strings.NewReader(form),
		"Content-Type", "multipart/form-data; boundary=b", "Authorization", "Bearer "+tok)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"display_name":"Bob"`) {
		t.Errorf("profile form with a free slot: %d %s", rec.Code, rec.Body)
	}
}

// An upload that could not finish before the server's write timeout (here
// it waits for a slot that never frees) stops a little before it, while an
// answer can still reach the client: 503 with Retry-After, instead of work
// whose answer net/http could no longer write.
func TestUploadStopsBeforeTheWriteTimeout(t *testing.T) {
	e := newEnv(t)
	e.cfg.HTTP.WriteTimeout = config.Duration(1500 * time.Millisecond)
	tok := e.userToken(t, e.bob, "write")
	for i := 0; i < concurrentUploads; i++ {
		e.api.uploads <- struct{}{}
	}
	defer func() {
		for i := 0; i < concurrentUploads; i++ {
			<-e.api.uploads
		}
	}()
	const form = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\nx\r\n--b--\r\n"
	for _, route := range []struct{ method, path string }{{"POST", "/api/v1/media"}, {"PATCH", "/api/v1/accounts/update_credentials"}} {
		req := httptest.NewRequest(route.method, "https://"+testHost+route.path, strings.NewReader(form))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.mux.ServeHTTP(rec, req)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s %s: still waiting 10 s after a 1.5 s write timeout", route.method, route.path)
		}
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "busy") {
			t.Errorf("%s %s past its time: %d %v %s", route.method, route.path, rec.Code, rec.Header(), rec.Body)
		}
	}
}
