package main

import (
	"bytes"
	"compress/zlib"
	be "encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// flatPNG is a w×h transparent RGBA PNG, written row by row: a few hundred
// KB to send and to hold, but a full-size image to decode and re-encode
// (7000×7000 takes about 1.5 s of CPU, and more than half the default
// media.decode_memory_bytes, so such uploads are processed one at a time).
func flatPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		be.Write(&out, be.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		io.WriteString(c, typ)
		c.Write(data)
		out.WriteString(typ)
		out.Write(data)
		be.Write(&out, be.BigEndian, c.Sum32())
	}
	ihdr := be.BigEndian.AppendUint32(be.BigEndian.AppendUint32(nil, uint32(w)), uint32(h))
	chunk("IHDR", append(ihdr, 8, 6, 0, 0, 0)) // 8-bit RGBA, no interlace
	var idat bytes.Buffer
	z := zlib.NewWriter(&idat)
	row := make([]byte, 1+4*w) // filter byte 0, then the pixels
	for range h {
		z.Write(row)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// SIGTERM is bounded by http.shutdown_timeout however much background
// processing is queued: uploads still processing when the grace ends are
// cancelled and recorded failed by the stopping server itself — with the
// reason a polling client is shown, never left "processing" for the next
// start (or the hourly janitor) to find — and leave no files.
func TestSIGTERMFailsTheBackgroundUploadsItInterrupts(t *testing.T) {
	data := t.TempDir()
	env := []string{"RAMPART_MEDIA_SYNC_LIMIT_BYTES=1KiB", "RAMPART_HTTP_SHUTDOWN_TIMEOUT=1s"}
	q := quickstartWithUser(t, data, env, "shutdown test")

	// Eight background uploads (as many as may wait) of about 1.5 s of
	// processing each, one at a time: over 10 s of work queued, against a
	// grace of 1 s.
	body, ctype := multipartFile(t, flatPNG(t, 7000, 7000))
	var ids []string
	for range 8 {
		s := mediaCall(t, "POST", q.server+"/api/v2/media", q.token, body, ctype)
		if s.status != 202 {
			t.Fatalf("v2 upload: %+v, want 202 (processing in the background)", s)
		}
		ids = append(ids, s.ID)
	}
	q.p.cmd.Process.Signal(syscall.SIGTERM)
	// p.wait fails the test after 30 s; a stop that waited for every upload
	// (each may take up to 5 minutes) would not be bounded at all.
	if code := q.p.wait(t); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0:\n%s", code, q.p.stderr.String())
	}
	if log := q.p.stderr.String(); !strings.Contains(log, "cancelling uploads still processing") || !strings.Contains(log, "stopped cleanly") {
		t.Errorf("the stop did not log the cancelled uploads and a clean stop:\n%s", log)
	}

	p := startProc(t, env, "quickstart", "--data", data, "--listen", q.addr)
	waitReady(t, p, q.addr, "localhost:"+q.port)
	if strings.Contains(p.stderr.String(), "uploads left unprocessed by a previous run") {
		t.Errorf("the stopped server left uploads processing for the next start to fail:\n%s", p.stderr.String())
	}
	client := &http.Client{Timeout: 30 * time.Second}
	ready := map[string]bool{} // the stored files of uploads that finished
	failed := 0
	for _, id := range ids {
		req, _ := http.NewRequest("GET", q.server+"/api/v1/media/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+q.token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			URL        *string `json:"url"`
			PreviewURL *string `json:"preview_url"`
			Error      string  `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		switch {
		case resp.StatusCode == 422 && m.Error == "Validation failed: the server stopped before this upload was processed; upload it again":
			failed++
		case resp.StatusCode == 200 && m.URL != nil && m.PreviewURL != nil: // finished within the grace
			for _, u := range []string{*m.URL, *m.PreviewURL} {
				ready[u[strings.LastIndex(u, "/")+1:]] = true
			}
		default:
			t.Errorf("upload %s after the stop: %d %+v; want 422 with the reason, or 200 for one that finished", id, resp.StatusCode, m)
		}
	}
	if failed == 0 {
		t.Errorf("no upload was interrupted: the stop waited for over 10 s of processing, beyond its grace of 1 s")
	}
	entries, err := os.ReadDir(filepath.Join(data, "media"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !ready[e.Name()] {
			t.Errorf("%s in the media directory belongs to no finished upload", e.Name())
		}
	}
	if len(entries) != len(ready) {
		t.Errorf("%d files in the media directory, want the %d of the uploads that finished", len(entries), len(ready))
	}
}
