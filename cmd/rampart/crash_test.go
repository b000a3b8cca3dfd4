package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testdb"
)

// bigPNG is a w×h gradient: cheap to send, slow enough to process that a
// kill right after the upload is accepted lands mid-processing.
func bigPNG(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func multipartFile(t *testing.T, data []byte) (body []byte, contentType string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", "x.png")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

type mediaState struct {
	status int
	URL    *string `json:"url"`
	ID     string  `json:"id"`
}

func mediaCall(t *testing.T, method, url, token string, body []byte, ctype string) mediaState {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var s mediaState
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &s)
	s.status = resp.StatusCode
	return s
}

// A server killed in the middle of uploads — one still arriving, one being
// processed in the background — leaves storage and database consistent:
// after a restart every upload is either served whole or reported failed,
// and no file of the interrupted upload exists.
func TestKilledServerLeavesUploadsConsistent(t *testing.T) {
	data := t.TempDir()
	env := []string{"RAMPART_MEDIA_SYNC_LIMIT_BYTES=1KiB"} // v2 processes in the background
	q := quickstartWithUser(t, data, env, "crash test")
	p, port, addr, server, cfg, token := q.p, q.port, q.addr, q.server, q.cfg, q.token

	// 1. A finished upload.
	small, ctype := multipartFile(t, bigPNG(t, 64, 64))
	done := mediaCall(t, "POST", server+"/api/v1/media", token, small, ctype)
	if done.status != 200 || done.URL == nil {
		t.Fatalf("finished upload: %+v", done)
	}

	// 2. An upload still arriving when the server dies.
	big, bigType := multipartFile(t, bigPNG(t, 2500, 2500))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/media HTTP/1.1\r\nHost: localhost:%s\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		port, token, bigType, len(big))
	conn.Write(big[:len(big)/2])

	// 3. An upload accepted and being processed when the server dies.
	pending := mediaCall(t, "POST", server+"/api/v2/media", token, big, bigType)
	if pending.status != 202 && pending.status != 200 {
		t.Fatalf("v2 upload: %+v", pending)
	}
	p.cmd.Process.Kill() // SIGKILL: no chance to clean up
	p.wait(t)

	p = startProc(t, env, "quickstart", "--data", data, "--listen", addr)
	waitReady(t, p, addr, "localhost:"+port)

	get := func(url string) int {
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := mediaCall(t, "GET", server+"/api/v1/media/"+done.ID, token, nil, ""); s.status != 200 || s.URL == nil || get(*s.URL) != 200 {
		t.Errorf("the finished upload after the crash: %+v", s)
	}
	s := mediaCall(t, "GET", server+"/api/v1/media/"+pending.ID, token, nil, "")
	// On PostgreSQL another process could be processing it: it is failed
	// once the killed process's id worker lease has ended (15 s).
	for deadline := time.Now().Add(45 * time.Second); testdb.Postgres() && s.status == 206 && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		s = mediaCall(t, "GET", server+"/api/v1/media/"+pending.ID, token, nil, "")
	}
	switch {
	case s.status == 200 && s.URL != nil && get(*s.URL) == 200: // processing finished before the kill
	case s.status == 422: // reported failed: the client knows to upload again
	default:
		t.Errorf("the upload being processed at the crash is %d after a restart, want 200 with a served file or 422", s.status)
	}

	// No file of the interrupted upload: the media directory holds only the
	// files of the two recorded uploads (and at most temporary files).
	known := map[string]bool{}
	for _, id := range []string{done.ID, pending.ID} {
		var m struct {
			URL        *string `json:"url"`
			PreviewURL *string `json:"preview_url"`
		}
		req, _ := http.NewRequest("GET", server+"/api/v1/media/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
		}
		for _, u := range []*string{m.URL, m.PreviewURL} {
			if u != nil {
				known[(*u)[strings.LastIndex(*u, "/")+1:]] = true
			}
		}
	}
	entries, _ := os.ReadDir(filepath.Join(data, "media"))
	unknown := 0
	for _, e := range entries {
		if !known[e.Name()] && !strings.HasPrefix(e.Name(), ".upload-") {
			unknown++
		}
	}
	// A file written by the killed processing before its row was finished is
	// an orphan the sweep removes; the half-sent upload never got that far.
	if s.status == 422 && unknown > 2 || s.status == 200 && unknown > 0 {
		t.Errorf("%d stored files belong to no upload (status of the processed upload: %d)", unknown, s.status)
	}
	if _, stderr, code := run(t, nil, "admin", "media", "prune", "--config", cfg); code != 0 {
		t.Errorf("prune after the crash: %d %s", code, stderr)
	}
}
