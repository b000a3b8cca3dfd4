package instance

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testdb"

	"strconv"

	_ "github.com/ncruces/go-sqlite3/driver" // to inspect the database as an operator would
	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/testutil"
)

const mediaOrigin = "https://media.example.test/"

// ---- requests ----

// request is call with any body; it reports errors instead of failing, so
// goroutines may use it.
func (ti *tlsInstance) request(method, target string, body io.Reader, token string, hdr ...string) (reply, error) {
	if !strings.HasPrefix(target, "https://") {
		target = "https://example.test" + target
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return reply{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := ti.client.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}, err
}

type filePart struct {
	field, name, ctype string
	data               []byte
}

func multipartBody(fields url.Values, files ...filePart) ([]byte, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.field, f.name))
		h.Set("Content-Type", f.ctype)
		p, _ := w.CreatePart(h)
		p.Write(f.data)
	}
	w.Close()
	return b.Bytes(), w.FormDataContentType()
}

func (ti *tlsInstance) multipartRequest(method, path, token string, fields url.Values, files ...filePart) (reply, error) {
	body, ctype := multipartBody(fields, files...)
	return ti.request(method, path, bytes.NewReader(body), token, "Content-Type", ctype)
}

// upload posts one file as the "file" field with the name and Content-Type
// the client claims.
func (ti *tlsInstance) upload(path, token, name, ctype string, data []byte, fields ...string) reply {
	ti.t.Helper()
	form := url.Values{}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Set(fields[i], fields[i+1])
	}
	r, err := ti.multipartRequest("POST", path, token, form, filePart{"file", name, ctype, data})
	if err != nil {
		ti.t.Fatal(err)
	}
	return r
}

func (ti *tlsInstance) get(target string, hdr ...string) reply {
	ti.t.Helper()
	r, err := ti.request("GET", target, nil, "", hdr...)
	if err != nil {
		ti.t.Fatal(err)
	}
	return r
}

// rawMedia sends path to the media host exactly as written (no cleaning, no re-escaping).
func (ti *tlsInstance) rawMedia(path string) reply {
	ti.t.Helper()
	req, _ := http.NewRequest("GET", mediaOrigin, nil)
	req.URL.Opaque = path
	resp, err := ti.client.Do(req)
	if err != nil {
		ti.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func (ti *tlsInstance) mediaDir() string { return ti.inst.cfg.MediaDir() }

func (ti *tlsInstance) onDisk(key string) bool {
	_, err := os.Stat(filepath.Join(ti.mediaDir(), key))
	return err == nil
}

// keyOf is the storage key of a media URL, which must be on the media origin.
func keyOf(t *testing.T, u any) string {
	t.Helper()
	s, ok := u.(string)
	if !ok || !strings.HasPrefix(s, mediaOrigin) {
		t.Fatalf("media URL %v is not on %s", u, mediaOrigin)
	}
	return strings.TrimPrefix(s, mediaOrigin)
}

// wantRejected checks a 4xx JSON error that mentions want.
func wantRejected(t *testing.T, what string, r reply, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d: %s", what, r.status, status, r.body)
		return
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
	var e struct{ Error string }
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error == "" {
		t.Errorf("%s: not a JSON error: %s", what, r.body)
		return
	}
	if !strings.Contains(e.Error, want) {
		t.Errorf("%s: error %q does not mention %q", what, e.Error, want)
	}
	if strings.Contains(e.Error, "alert(") {
		t.Errorf("%s: the error echoes the upload: %q", what, e.Error)
	}
}

// ---- fixtures, generated ----

func pngOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// picture is a small w×h image; seed changes its pixels.
func picture(w, h, seed int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x*9 + seed), uint8(y*5 + seed*3), uint8(x + y), 255})
		}
	}
	return img
}

// noisePNG is incompressible: about 4 bytes a pixel.
func noisePNG(t *testing.T, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	return pngOf(t, img)
}

const gpsMark = "\x0B\xAD\xCA\xFE" // GPS latitude seconds numerator in the EXIF fixture

// jpegWithGPS is a JPEG with an APP1 "Exif\0\0" segment whose TIFF IFD0
// points (tag 0x8825) to a GPS IFD holding a latitude.
func jpegWithGPS(t *testing.T) []byte {
	var j bytes.Buffer
	if err := jpeg.Encode(&j, picture(32, 24, 1), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	var tiff bytes.Buffer
	w := func(v ...any) {
		for _, x := range v {
			binary.Write(&tiff, binary.BigEndian, x)
		}
	}
	tiff.WriteString("MM\x00\x2a")
	w(uint32(8))
	w(uint16(1), uint16(0x8825), uint16(4), uint32(1), uint32(26), uint32(0)) // IFD0 → GPS IFD at 26
	w(uint16(2))
	w(uint16(0x0001), uint16(2), uint32(2))
	tiff.WriteString("N\x00\x00\x00")
	w(uint16(0x0002), uint16(5), uint32(3), uint32(56), uint32(0))
	w(uint32(52), uint32(1), uint32(31), uint32(1))
	tiff.WriteString(gpsMark)
	w(uint32(10000))
	var seg bytes.Buffer
	seg.WriteString("\xFF\xE1")
	binary.Write(&seg, binary.BigEndian, uint16(2+6+tiff.Len()))
	seg.WriteString("Exif\x00\x00")
	seg.Write(tiff.Bytes())
	out := append([]byte{}, j.Bytes()[:2]...)
	out = append(out, seg.Bytes()...)
	return append(out, j.Bytes()[2:]...)
}

// jpegSegments lists a JPEG's segment markers from SOI up to SOS.
func jpegSegments(t *testing.T, b []byte) []byte {
	t.Helper()
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		t.Fatalf("not a JPEG")
	}
	var out []byte
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; i += 2 + int(binary.BigEndian.Uint16(b[i+2:])) {
		out = append(out, b[i+1])
		if b[i+1] == 0xDA {
			break
		}
	}
	return out
}

// gifPolyglot is a GIF that is also a script: the logical screen width is
// the bytes "/*", opening a JavaScript comment that the bytes after the
// trailer close: GIF89a/* … */=alert(1);
func gifPolyglot() []byte {
	var b bytes.Buffer
	b.WriteString("GIF89a")
	b.WriteString("/*")                                       // width 0x2A2F = 10799
	b.WriteString("\x01\x00")                                 // height 1
	b.WriteString("\x80\x00\x00")                             // a global colour table of 2
	b.WriteString("\x00\x00\x00\xFF\xFF\xFF")                 // black, white
	b.WriteString("\x2C\x00\x00\x00\x00\x01\x00\x01\x00\x00") // one 1×1 frame at 0,0
	b.WriteString("\x02\x02\x44\x01\x00")                     // LZW: clear, index 0, end
	b.WriteString("\x3B")                                     // trailer
	b.WriteString("*/=alert(1);")
	return b.Bytes()
}

func gifWithScript(t *testing.T) []byte {
	pal := color.Palette{color.Black, color.White}
	g := &gif.GIF{}
	for i := 0; i < 2; i++ {
		fr := image.NewPaletted(image.Rect(0, 0, 8, 8), pal)
		fr.Pix[i] = 1
		g.Image, g.Delay = append(g.Image, fr), append(g.Delay, 5)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return append(b.Bytes(), "<script>alert(1)</script>"...)
}

// pngHeaderClaiming is a PNG whose IHDR claims w×h, with a token IDAT.
func pngHeaderClaiming(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		var c bytes.Buffer
		binary.Write(&c, binary.BigEndian, uint32(len(data)))
		c.WriteString(typ)
		c.Write(data)
		binary.Write(&c, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
		return c.Bytes()
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	ihdr = append(ihdr, 8, 0, 0, 0, 0)
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01})...)
	return append(out, chunk("IEND", nil)...)
}

// mp4With is a well-formed MP4 whose mdat box holds payload.
func mp4With(payload string) []byte {
	return testutil.MP4([]byte(payload))
}

// assertServedImage fetches a media URL and checks it is an image of the
// wanted type with no trace of the hostile payload.
func (ti *tlsInstance) assertServedImage(what string, u any, ctype string) []byte {
	t := ti.t
	t.Helper()
	key := keyOf(t, u)
	r := ti.get(mediaOrigin + key)
	if r.status != 200 || r.header.Get("Content-Type") != ctype {
		t.Fatalf("%s: served %d %q, want 200 %s", what, r.status, r.header.Get("Content-Type"), ctype)
	}
	low := strings.ToLower(r.body)
	for _, needle := range []string{"<script", "<html", "alert", "*/="} {
		if strings.Contains(low, needle) {
			t.Errorf("%s: the served file still contains %q", what, needle)
		}
	}
	if _, format, err := image.Decode(strings.NewReader(r.body)); err != nil || "image/"+format != ctype {
		t.Errorf("%s: the served file does not decode as %s: %q %v", what, ctype, format, err)
	}
	return []byte(r.body)
}

// startMedia is startTLS for the media tests. Before the instance stops,
// background processing finishes and the client drops its idle
// connections: a connection dialed for a burst of concurrent requests but
// never used is "new" to the server, and Shutdown waits 5 s for those.
func startMedia(t *testing.T, extra ...string) *tlsInstance {
	t.Helper()
	ti := startTLS(t, extra...)
	t.Cleanup(func() {
		ti.inst.Media().Wait()
		ti.client.CloseIdleConnections()
	})
	return ti
}

// ---- tests ----

func TestHostileUploadsAreRefusedOrDefused(t *testing.T) {
	ti := startMedia(t, "[media]", `max_image_bytes = "8KiB"`, "max_image_pixels = 65536")
	tok, _ := ti.userToken("mallory", "write:media")
	before, _ := os.ReadDir(ti.mediaDir())

	html := []byte("<!DOCTYPE html><html><body><script>alert(document.domain)</script></body></html>")
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>`)
	note := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://example.test/users/alice/statuses/1","type":"Note","attributedTo":"https://example.test/users/alice","content":"forged"}`)
	zip := append([]byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), bytes.Repeat([]byte{0}, 64)...)
	tall := pngOf(t, image.NewGray(image.Rect(0, 0, 1, 70000)))
	var j bytes.Buffer
	jpeg.Encode(&j, picture(64, 64, 2), nil)
	truncated := j.Bytes()[:j.Len()/2]
	big := noisePNG(t, 64, 64)
	if len(big) <= 8<<10 {
		t.Fatalf("over-size fixture is only %d bytes", len(big))
	}

	refused := []struct {
		what      string
		name, ct  string
		data      []byte
		status    int
		errSubstr string
	}{
		{"HTML named .png", "cat.png", "image/png", html, 422, "this file type is not accepted"},
		{"SVG with a script", "logo.svg", "image/svg+xml", svg, 422, "this file type is not accepted"},
		{"SVG named .png", "logo.png", "image/png", svg, 422, "this file type is not accepted"},
		{"ActivityStreams JSON", "note.json", "application/activity+json", note, 422, "this file type is not accepted"},
		{"ActivityStreams JSON named .jpg", "note.jpg", "image/jpeg", note, 422, "this file type is not accepted"},
		{"zip", "photos.zip", "application/zip", zip, 422, "this file type is not accepted"},
		{"1×70000 PNG over max_image_pixels", "tall.png", "image/png", tall, 422, "the image is 1×70000 pixels; at most 65536 pixels are accepted"},
		{"PNG header claiming 100000×100000", "bomb.png", "image/png", pngHeaderClaiming(100000, 100000), 422, "the image is 100000×100000 pixels"},
		{"truncated JPEG", "half.jpg", "image/jpeg", truncated, 422, "the image could not be read"},
		{"0-byte file", "empty.png", "image/png", nil, 422, "the file is empty"},
		{"image over max_image_bytes", "big.png", "image/png", big, 422, fmt.Sprintf("the image is %d bytes; at most 8192 are accepted", len(big))},
		{"MP4 carrying HTML", "clip.mp4", "video/mp4", mp4With("<html><body><script>alert(1)</script></body></html>"), 422, "media files with embedded documents are not accepted"},
		{"MP4 carrying an ActivityStreams document", "clip.mp4", "video/mp4", mp4With(string(note)), 422, "media files with embedded documents are not accepted"},
	}
	for _, tc := range refused {
		r := ti.upload("/api/v1/media", tok, tc.name, tc.ct, tc.data)
		wantRejected(t, tc.what, r, tc.status, tc.errSubstr)
	}
	// Nothing refused was stored.
	if after, _ := os.ReadDir(ti.mediaDir()); len(after) != len(before) {
		t.Errorf("refused uploads left %d files in the media dir", len(after)-len(before))
	}

	// Not multipart, no file, no token, no write:media.
	r, _ := ti.request("POST", "/api/v1/media", strings.NewReader("x"), tok, "Content-Type", "image/png")
	wantRejected(t, "raw body", r, 422, "multipart/form-data")
	r, _ = ti.multipartRequest("POST", "/api/v1/media", tok, url.Values{"description": {"no file"}})
	wantRejected(t, "no file", r, 422, "can't be blank")
	if r := ti.upload("/api/v1/media", "", "a.png", "image/png", pngOf(t, picture(4, 4, 0))); r.status != 401 {
		t.Errorf("upload without a token: %d", r.status)
	}
	readTok, _ := ti.userToken("reader", "read")
	if r := ti.upload("/api/v1/media", readTok, "a.png", "image/png", pngOf(t, picture(4, 4, 0))); r.status != 403 {
		t.Errorf("upload with a read-only token: %d", r.status)
	}

	// Accepted after re-encoding: nothing of the payload survives.
	pngHTML := append(pngOf(t, picture(16, 16, 3)), "<html><script>alert(1)</script></html>"...)
	poly := gifPolyglot()
	if !bytes.HasPrefix(poly, []byte("GIF89a/*")) || !bytes.HasSuffix(poly, []byte("*/=alert(1);")) ||
		bytes.Count(poly, []byte("*/")) != 1 || bytes.Contains(poly[:len(poly)-12], []byte("*/")) {
		t.Fatal("the GIF/JS polyglot fixture is not a script")
	}
	if g, err := gif.DecodeAll(bytes.NewReader(poly)); err != nil || len(g.Image) != 1 {
		t.Fatalf("the GIF/JS polyglot fixture is not a GIF: %v", err)
	}
	defused := []struct {
		what, name, ct string
		data           []byte
		served         string
	}{
		{"PNG with HTML appended", "cat.png", "image/png", pngHTML, "image/png"},
		{"GIF/JS polyglot", "x.gif", "application/javascript", poly, "image/gif"},
		{"GIF with a script appended", "anim.gif", "image/gif", gifWithScript(t), "image/gif"},
	}
	for _, tc := range defused {
		r := ti.upload("/api/v1/media", tok, tc.name, tc.ct, tc.data, "description", tc.what)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tc.what, r.status, r.body)
		}
		m := r.json(t)
		if m["type"] != "image" || m["description"] != tc.what {
			t.Errorf("%s: attachment %v", tc.what, m)
		}
		file := ti.assertServedImage(tc.what, m["url"], tc.served)
		ti.assertServedImage(tc.what+" (preview)", m["preview_url"], "image/jpeg")
		if tc.served == "image/gif" {
			if _, err := gif.DecodeAll(bytes.NewReader(file)); err != nil {
				t.Errorf("%s: served GIF: %v", tc.what, err)
			}
		}
	}

	// EXIF and GPS are gone from what is served.
	withGPS := jpegWithGPS(t)
	if segs := jpegSegments(t, withGPS); bytes.IndexByte(segs, 0xE1) < 0 || !bytes.Contains(withGPS, []byte("Exif\x00\x00")) ||
		!bytes.Contains(withGPS, []byte("\x88\x25\x00\x04")) || !bytes.Contains(withGPS, []byte(gpsMark)) {
		t.Fatal("the EXIF fixture has no EXIF/GPS")
	}
	if _, err := jpeg.Decode(bytes.NewReader(withGPS)); err != nil {
		t.Fatalf("the EXIF fixture does not decode: %v", err)
	}
	r = ti.upload("/api/v1/media", tok, "holiday.jpg", "image/jpeg", withGPS)
	if r.status != 200 {
		t.Fatalf("JPEG with GPS: %d %s", r.status, r.body)
	}
	m := r.json(t)
	for _, u := range []any{m["url"], m["preview_url"]} {
		served := ti.assertServedImage("JPEG with GPS", u, "image/jpeg")
		if bytes.IndexByte(jpegSegments(t, served), 0xE1) >= 0 {
			t.Error("the served JPEG has an APP1 segment")
		}
		for _, needle := range []string{"Exif", "MM\x00\x2a", "\x88\x25\x00\x04", gpsMark} {
			if bytes.Contains(served, []byte(needle)) {
				t.Errorf("the served JPEG still contains %q", needle)
			}
		}
	}
}

func TestUploadOverTheBodyLimitIs413(t *testing.T) {
	ti := startMedia(t, "[media]", `max_image_bytes = "4KiB"`, `max_video_bytes = "4KiB"`, `max_audio_bytes = "4KiB"`)
	tok, _ := ti.userToken("mallory", "write:media")
	limit := 4<<10 + 64<<10
	body, ctype := multipartBody(nil, filePart{"file", "big.png", "image/png", noisePNG(t, 160, 160)})
	if len(body) <= limit {
		t.Fatalf("fixture is only %d bytes", len(body))
	}
	// With a Content-Length over the limit, the server refuses before the
	// API reads anything (internal/server's limitBody: a plain-text 413).
	r, err := ti.request("POST", "/api/v1/media", bytes.NewReader(body), tok, "Content-Type", ctype)
	if err != nil || r.status != 413 || !strings.Contains(r.body, "too large") {
		t.Errorf("an upload over the body limit: %d %q %v", r.status, r.body, err)
	}
	// Sent chunked, the cap is met while reading: the API's JSON 413.
	r, err = ti.request("POST", "/api/v1/media", io.MultiReader(bytes.NewReader(body)), tok, "Content-Type", ctype)
	if err != nil {
		t.Fatal(err)
	}
	wantRejected(t, "a chunked upload over the body limit", r, 413, fmt.Sprintf("The upload is too large (at most %d bytes)", limit))
	// Under the body limit but over the image limit: 422, saying which limit.
	r = ti.upload("/api/v1/media", tok, "mid.png", "image/png", noisePNG(t, 48, 48))
	wantRejected(t, "an image over max_image_bytes", r, 422, "at most 4096 are accepted")
}

func TestServedMediaHasInertHeadersAndOnlyItself(t *testing.T) {
	ti := startMedia(t)
	tok, _ := ti.userToken("alice", "write:media")
	data := pngOf(t, picture(40, 30, 7))
	// The client calls it a web page; the bytes say PNG, and PNG is what is served.
	r := ti.upload("/api/v1/media", tok, "page.html", "text/html", data, "description", "a gradient", "focus", "0.5,-0.25")
	if r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	m := r.json(t)
	key, previewKey := keyOf(t, m["url"]), keyOf(t, m["preview_url"])
	if m["type"] != "image" || m["description"] != "a gradient" || m["remote_url"] != nil || m["blurhash"] == nil {
		t.Errorf("attachment: %v", m)
	}
	meta, _ := m["meta"].(map[string]any)
	if orig, _ := meta["original"].(map[string]any); orig["width"] != 40.0 || orig["height"] != 30.0 {
		t.Errorf("meta: %v", meta)
	}
	if focus, _ := meta["focus"].(map[string]any); focus["x"] != 0.5 || focus["y"] != -0.25 {
		t.Errorf("meta focus: %v", meta)
	}
	if !strings.HasSuffix(key, ".png") || !strings.HasSuffix(previewKey, ".jpg") {
		t.Errorf("keys %s, %s", key, previewKey)
	}
	stored, err := os.ReadFile(filepath.Join(ti.mediaDir(), key))
	if err != nil {
		t.Fatal(err)
	}

	got := ti.get(mediaOrigin + key)
	if got.status != 200 || got.body != string(stored) {
		t.Fatalf("GET: %d, %d bytes (stored %d)", got.status, len(got.body), len(stored))
	}
	wantMediaHeaders(t, &http.Response{Header: got.header}, "served file")
	exact := map[string]string{
		"Content-Type":                 "image/png",
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'; sandbox",
		"X-Content-Type-Options":       "nosniff",
		"Cross-Origin-Resource-Policy": "cross-origin",
		"Content-Disposition":          `inline; filename="` + key + `"`,
		"Cache-Control":                "public, max-age=31536000, immutable",
		"Content-Length":               fmt.Sprint(len(stored)),
	}
	for k, v := range exact {
		if vs := got.header.Values(k); len(vs) != 1 || vs[0] != v {
			t.Errorf("%s = %q, want exactly %q", k, vs, v)
		}
	}
	etag := got.header.Get("ETag")
	if etag == "" || len(got.header.Values("ETag")) != 1 {
		t.Errorf("ETag %q", got.header.Values("ETag"))
	}
	if c := got.header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("Set-Cookie %q", c)
	}
	if p := ti.get(mediaOrigin + previewKey); p.status != 200 || p.header.Get("Content-Type") != "image/jpeg" ||
		p.header.Get("Content-Disposition") != `inline; filename="`+previewKey+`"` {
		t.Errorf("preview: %d %v", p.status, p.header)
	}

	// Range, HEAD, conditional GET.
	rg := ti.get(mediaOrigin+key, "Range", "bytes=0-9")
	if rg.status != 206 || rg.header.Get("Content-Range") != fmt.Sprintf("bytes 0-9/%d", len(stored)) || rg.body != string(stored[:10]) {
		t.Errorf("Range: %d %q %q", rg.status, rg.header.Get("Content-Range"), rg.body)
	}
	wantMediaHeaders(t, &http.Response{Header: rg.header}, "range")
	hd, err := ti.request("HEAD", mediaOrigin+key, nil, "")
	if err != nil || hd.status != 200 || hd.body != "" || hd.header.Get("Content-Type") != "image/png" ||
		hd.header.Get("Content-Length") != fmt.Sprint(len(stored)) || hd.header.Get("ETag") != etag {
		t.Errorf("HEAD: %d %v %q %v", hd.status, hd.header, hd.body, err)
	}
	if nm := ti.get(mediaOrigin+key, "If-None-Match", etag); nm.status != 304 || nm.body != "" {
		t.Errorf("If-None-Match: %d", nm.status)
	}
	if nm := ti.get(mediaOrigin+key, "If-None-Match", `"something-else"`); nm.status != 200 {
		t.Errorf("If-None-Match with another tag: %d", nm.status)
	}
	if p, _ := ti.request("POST", mediaOrigin+key, strings.NewReader("x"), ""); p.status != 405 {
		t.Errorf("POST to the media host: %d", p.status)
	}

	// The app host does not serve uploads.
	if a := ti.get("https://example.test/" + key); a.status != 404 || a.body == string(stored) {
		t.Errorf("app host /%s: %d", key, a.status)
	}

	// Keys no row references, and paths that are not keys, are 404.
	unreferenced := strings.Repeat("A", 43) + ".png"
	planted := strings.Repeat("b", 43) + ".png"
	if err := os.WriteFile(filepath.Join(ti.mediaDir(), planted), stored, 0o600); err != nil {
		t.Fatal(err)
	}
	dbName := filepath.Base(ti.inst.cfg.DatabasePath())
	for _, p := range []string{
		"/" + unreferenced, "/" + planted,
		"/../" + dbName, "/%2e%2e/" + dbName, "/%2E%2E%2F" + dbName, "/..%2f" + dbName, "/" + key + "/../../" + dbName,
		"/media/" + key, "/" + key + "/", "/" + key + "%2f..", "/./" + key, "/%2F" + key, "/" + strings.ToUpper(key),
		"/" + strings.TrimSuffix(key, ".png"), "/" + strings.TrimSuffix(key, ".png") + ".html", "/.upload-1", "/" + key + "%00.html",
		"/..", "/%2e%2e",
	} {
		r := ti.rawMedia(p)
		if r.status != 404 {
			t.Errorf("media host %s: %d, want 404", p, r.status)
		}
		if strings.Contains(r.body, "SQLite") || strings.Contains(r.body, "\x89PNG") {
			t.Errorf("media host %s leaked a file", p)
		}
		wantMediaHeaders(t, &http.Response{Header: r.header}, "media host "+p)
	}

	// The attachment is the owner's only.
	id := m["id"].(string)
	other, _ := ti.userToken("bob", "write:media")
	if r := ti.call(ti.client, "GET", "/api/v1/media/"+id, nil, other); r.status != 404 {
		t.Errorf("bob reads alice's upload: %d", r.status)
	}
	if r := ti.call(ti.client, "PUT", "/api/v1/media/"+id, url.Values{"description": {"mine now"}}, other); r.status != 404 {
		t.Errorf("bob describes alice's upload: %d", r.status)
	}
	if r := ti.call(ti.client, "GET", "/api/v1/media/"+id, nil, tok); r.status != 200 || r.json(t)["url"] != m["url"] {
		t.Errorf("alice reads her upload: %d %s", r.status, r.body)
	}
}

// pollMedia GETs /api/v1/media/:id until the answer is not 206 (at most
// 10 s) and returns every status seen and the last reply.
func (ti *tlsInstance) pollMedia(id, tok string) ([]int, reply) {
	ti.t.Helper()
	var seen []int
	// A bound for a hung processor, not a speed target: processing takes
	// ~2.5 s under -race and far more on a loaded machine (it once ran out
	// at 10 s), and the loop ends as soon as the answer is not 206.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r := ti.call(ti.client, "GET", "/api/v1/media/"+id, nil, tok)
		seen = append(seen, r.status)
		if r.status != 206 || time.Now().After(deadline) {
			return seen, r
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAsyncUploadFlow(t *testing.T) {
	ti := startMedia(t, "[media]", `sync_limit_bytes = "1KiB"`)
	tok, _ := ti.userToken("alice", "read write")

	// Small enough: processed at once even on v2.
	r := ti.upload("/api/v2/media", tok, "small.png", "image/png", pngOf(t, picture(4, 4, 1)))
	if r.status != 200 || r.json(t)["url"] == nil {
		t.Errorf("small v2 upload: %d %s", r.status, r.body)
	}

	// A large image: 202 with no URL yet, then 206 while processing, then 200.
	big := pngOf(t, image.NewGray(image.Rect(0, 0, 2000, 2000))) // ~150 ms to process; ~2.5 s under -race
	if len(big) <= 1<<10 {
		t.Fatalf("fixture is only %d bytes", len(big))
	}
	r = ti.upload("/api/v2/media", tok, "big.png", "image/png", big, "description", "processing")
	if r.status != 202 {
		t.Fatalf("v2 upload: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["url"] != nil || m["preview_url"] != nil || m["type"] != "image" || m["id"] == "" {
		t.Errorf("202 body: %v", m)
	}
	id := m["id"].(string)
	// Not attachable while processing.
	if r := ti.call(ti.client, "POST", "/api/v1/statuses", url.Values{"status": {"too soon"}, "media_ids[]": {id}}, tok); r.status != 422 {
		t.Errorf("attaching a processing upload: %d %s", r.status, r.body)
	}
	seen, last := ti.pollMedia(id, tok)
	if seen[0] != 206 {
		t.Errorf("the first poll answered %d, want 206 (processing)", seen[0])
	}
	if last.status != 200 {
		t.Fatalf("polling ended with %d %s after %v", last.status, last.body, seen)
	}
	done := last.json(t)
	if done["description"] != "processing" {
		t.Errorf("description lost: %v", done)
	}
	ti.assertServedImage("async upload", done["url"], "image/png")
	ti.assertServedImage("async upload preview", done["preview_url"], "image/jpeg")

	// Processing that fails ends as 422 with the reason.
	broken := noisePNG(t, 48, 48)
	broken = broken[:len(broken)*2/3]
	r = ti.upload("/api/v2/media", tok, "broken.png", "image/png", broken)
	if r.status != 202 {
		t.Fatalf("truncated v2 upload: %d %s", r.status, r.body)
	}
	_, last = ti.pollMedia(r.json(t)["id"].(string), tok)
	wantRejected(t, "failed async processing", last, 422, "the image could not be read")

	r = ti.upload("/api/v2/media", tok, "clip.mp4", "video/mp4", mp4With(strings.Repeat("\x00", 2048)+"<html><script>alert(1)</script>"))
	if r.status != 202 {
		t.Fatalf("MP4 v2 upload: %d %s", r.status, r.body)
	}
	failedID := r.json(t)["id"].(string)
	_, last = ti.pollMedia(failedID, tok)
	wantRejected(t, "async MP4 with HTML", last, 422, "media files with embedded documents are not accepted")
	if r := ti.call(ti.client, "POST", "/api/v1/statuses", url.Values{"status": {"broken"}, "media_ids[]": {failedID}}, tok); r.status != 422 {
		t.Errorf("attaching a failed upload: %d %s", r.status, r.body)
	}
}

func TestStatusWithMediaAndCleanup(t *testing.T) {
	ti := startMedia(t)
	ctx := context.Background()
	alice, _ := ti.userToken("alice", "read write")
	bob, _ := ti.userToken("bob", "read write")
	var ids []string
	var atts []map[string]any
	for i := 0; i < 5; i++ {
		r := ti.upload("/api/v1/media", alice, fmt.Sprintf("p%d.png", i), "image/png", pngOf(t, picture(12, 12, i)), "description", fmt.Sprintf("picture %d", i))
		if r.status != 200 {
			t.Fatalf("upload %d: %d %s", i, r.status, r.body)
		}
		atts = append(atts, r.json(t))
		ids = append(ids, atts[i]["id"].(string))
	}
	if r := ti.call(ti.client, "PUT", "/api/v1/media/"+ids[0], url.Values{"description": {"a described picture"}}, alice); r.status != 200 ||
		r.json(t)["description"] != "a described picture" {
		t.Fatalf("PUT description: %d %s", r.status, r.body)
	}
	post := func(tok, text string, mediaIDs ...string) reply {
		t.Helper()
		return ti.call(ti.client, "POST", "/api/v1/statuses", url.Values{"status": {text}, "media_ids[]": mediaIDs}, tok)
	}

	r := post(alice, "with a picture", ids[0])
	if r.status != 200 {
		t.Fatalf("post with media: %d %s", r.status, r.body)
	}
	st := r.json(t)
	list, _ := st["media_attachments"].([]any)
	if len(list) != 1 {
		t.Fatalf("media_attachments: %v", st["media_attachments"])
	}
	att := list[0].(map[string]any)
	if att["id"] != ids[0] || att["description"] != "a described picture" || att["type"] != "image" || att["url"] != atts[0]["url"] {
		t.Errorf("attachment: %v", att)
	}
	key, previewKey := keyOf(t, att["url"]), keyOf(t, att["preview_url"])
	if got := ti.call(ti.client, "GET", "/api/v1/statuses/"+st["id"].(string), nil, bob).json(t)["media_attachments"].([]any); len(got) != 1 {
		t.Errorf("bob sees %d attachments", len(got))
	}

	const notYours = "not an unattached, processed upload of yours"
	wantRejected(t, "bob attaches alice's upload", post(bob, "stolen", ids[1]), 422, notYours)
	wantRejected(t, "attaching an attached upload again", post(alice, "again", ids[0]), 422, notYours)
	wantRejected(t, "five attachments", post(alice, "too many", ids...), 422, "at most 4 attachments")
	wantRejected(t, "an unknown id", post(alice, "unknown", "12345"), 422, notYours)
	// The refusals attached nothing: four are still free.
	if r := post(alice, "four", ids[1:]...); r.status != 200 || len(r.json(t)["media_attachments"].([]any)) != 4 {
		t.Fatalf("four attachments: %d %s", r.status, r.body)
	}

	if r := ti.get(mediaOrigin + key); r.status != 200 {
		t.Fatalf("attached file: %d", r.status)
	}
	if r := ti.call(ti.client, "DELETE", "/api/v1/statuses/"+st["id"].(string), nil, alice); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	for _, k := range []string{key, previewKey} {
		if r := ti.get(mediaOrigin + k); r.status != 404 {
			t.Errorf("after the status was deleted, %s is %d, want 404", k, r.status)
		}
		if !ti.onDisk(k) {
			t.Errorf("%s was removed before the sweep", k)
		}
	}
	// The sweep keeps them for a day, for a re-draft (once they are older
	// than the minute it leaves uploads in flight)...
	old := time.Now().Add(-2 * time.Minute)
	for _, k := range []string{key, previewKey} {
		os.Chtimes(filepath.Join(ti.mediaDir(), k), old, old)
	}
	sw, err := ti.inst.Media().Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Files != 0 || sw.Rows != 0 || !ti.onDisk(key) {
		t.Errorf("sweep right after the delete: %+v", sw)
	}
	// ... and a day later, the row is swept, and then the files.
	if _, rows, err := ti.inst.store.ExpiredUploads(ctx, time.Now().Add(media.UnattachedTTL+time.Minute)); err != nil || rows != 1 {
		t.Fatalf("a day later: %d rows, %v", rows, err)
	}
	sw, err = ti.inst.Media().Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Files != 2 || sw.Rows != 0 {
		t.Errorf("sweep: %+v", sw)
	}
	if ti.onDisk(key) || ti.onDisk(previewKey) {
		t.Error("the deleted status's files are still on disk")
	}
	for _, a := range atts[1:] {
		if k := keyOf(t, a["url"]); !ti.onDisk(k) || ti.get(mediaOrigin+k).status != 200 {
			t.Errorf("another status's file %s was swept", k)
		}
	}
	ti.assertDBMatchesDisk()
}

func TestAvatarAndHeaderUpload(t *testing.T) {
	ti := startMedia(t)
	tok, _ := ti.userToken("alice", "read write")
	update := func(files ...filePart) reply {
		t.Helper()
		r, err := ti.multipartRequest("PATCH", "/api/v1/accounts/update_credentials", tok, url.Values{"display_name": {"Alice"}}, files...)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := update(filePart{"avatar", "me.png", "image/png", pngOf(t, picture(800, 400, 1))},
		filePart{"header", "banner.jpg", "image/jpeg", jpegWithGPS(t)})
	if r.status != 200 {
		t.Fatalf("update_credentials: %d %s", r.status, r.body)
	}
	acc := ti.call(ti.client, "GET", "/api/v1/accounts/verify_credentials", nil, tok).json(t)
	if acc["display_name"] != "Alice" || acc["avatar"] != r.json(t)["avatar"] || acc["avatar_static"] != acc["avatar"] {
		t.Errorf("verify_credentials: %v", acc)
	}
	avatar := ti.assertServedImage("avatar", acc["avatar"], "image/jpeg")
	if img, err := jpeg.Decode(bytes.NewReader(avatar)); err != nil || img.Bounds().Dx() != 640 || img.Bounds().Dy() != 320 {
		t.Errorf("avatar is %v, %v; want the 640×320 preview", img.Bounds(), err)
	}
	header := ti.assertServedImage("header", acc["header"], "image/jpeg")
	if bytes.Contains(header, []byte("Exif")) || bytes.Contains(header, []byte(gpsMark)) {
		t.Error("the header kept its EXIF/GPS")
	}

	// A non-image avatar is refused and changes nothing.
	mp3 := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), bytes.Repeat([]byte{0xFF, 0xFB, 0x90, 0x64}, 64)...)
	wantRejected(t, "an MP3 avatar", update(filePart{"avatar", "me.png", "image/png", mp3}), 422, "avatars and headers must be images")
	wantRejected(t, "an HTML header", update(filePart{"header", "h.png", "image/png", []byte("<html><script>alert(1)</script>")}), 422, "not accepted")
	if again := ti.call(ti.client, "GET", "/api/v1/accounts/verify_credentials", nil, tok).json(t); again["avatar"] != acc["avatar"] || again["header"] != acc["header"] {
		t.Errorf("a refused image changed the profile: %v", again)
	}
	// Profile images survive the sweep.
	if _, err := ti.inst.Media().Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := ti.get(acc["avatar"].(string)); r.status != 200 {
		t.Errorf("avatar after sweep: %d", r.status)
	}
	ti.assertDBMatchesDisk()
}

// assertDBMatchesDisk checks, by reading the database directly, that every
// ready attachment's files and every profile image exist on disk, and
// returns how many ready rows there are.
func (ti *tlsInstance) assertDBMatchesDisk() int {
	t := ti.t
	t.Helper()
	db := testdb.Open(t, ti.inst.cfg.DatabasePath())
	rows, err := db.Query(`SELECT id, state, file_key, preview_key, kind FROM media_attachments
		UNION ALL SELECT id, 'profile', avatar_key, header_key, '' FROM accounts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ready := 0
	for rows.Next() {
		var id int64
		var state, file, preview, kind string
		if err := rows.Scan(&id, &state, &file, &preview, &kind); err != nil {
			t.Fatal(err)
		}
		switch state {
		case "ready":
			ready++
			if file == "" || !ti.onDisk(file) {
				t.Errorf("ready row %d points at a missing file %q", id, file)
			}
			if kind == "image" && (preview == "" || !ti.onDisk(preview)) {
				t.Errorf("ready row %d points at a missing preview %q", id, preview)
			}
		case "profile":
			for _, k := range []string{file, preview} {
				if k != "" && !ti.onDisk(k) {
					t.Errorf("account %d's profile image %q is missing", id, k)
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ready
}

func TestConcurrentUploadsAndCrashLeftovers(t *testing.T) {
	ti := startMedia(t)
	ctx := context.Background()
	tok, _ := ti.userToken("alice", "write:media")
	const n = 8
	results := make([]map[string]any, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		body, ctype := multipartBody(nil, filePart{"file", "p.png", "image/png", pngOf(t, picture(64, 48, i))})
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := ti.request("POST", "/api/v1/media", bytes.NewReader(body), tok, "Content-Type", ctype)
			if err == nil && r.status != 200 {
				err = fmt.Errorf("status %d: %s", r.status, r.body)
			}
			if err == nil {
				err = json.Unmarshal([]byte(r.body), &results[i])
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	ids := map[any]bool{}
	for i, m := range results {
		ids[m["id"]] = true
		for _, u := range []any{m["url"], m["preview_url"]} {
			k := keyOf(t, u)
			if keys[k] {
				t.Errorf("key %s given twice", k)
			}
			keys[k] = true
			if !ti.onDisk(k) {
				t.Errorf("upload %d's %s is not on disk", i, k)
			}
		}
		ti.assertServedImage(fmt.Sprint("concurrent upload ", i), m["url"], "image/png")
	}
	if len(ids) != n || len(keys) != 2*n {
		t.Errorf("%d ids and %d keys for %d uploads", len(ids), len(keys), n)
	}
	if ready := ti.assertDBMatchesDisk(); ready != n {
		t.Errorf("%d ready rows, want %d", ready, n)
	}

	// A crash mid-upload leaves a temporary file; a crash between storing a
	// file and writing its row leaves a file under a valid key with no row.
	dir := ti.mediaDir()
	staleTemp := filepath.Join(dir, ".upload-123456789")
	freshTemp := filepath.Join(dir, ".upload-987654321")
	orphan := strings.Repeat("Q", 43) + ".png"
	youngOrphan := strings.Repeat("R", 43) + ".png"
	for _, p := range []string{staleTemp, freshTemp, filepath.Join(dir, orphan), filepath.Join(dir, youngOrphan)} {
		if err := os.WriteFile(p, []byte("\x89PNG\r\n\x1a\npartial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hoursAgo, minutesAgo := time.Now().Add(-3*time.Hour), time.Now().Add(-2*time.Minute)
	os.Chtimes(staleTemp, hoursAgo, hoursAgo)
	os.Chtimes(filepath.Join(dir, orphan), minutesAgo, minutesAgo)
	for k := range keys { // the referenced files are old too: age alone never removes them
		os.Chtimes(filepath.Join(dir, k), hoursAgo, hoursAgo)
	}
	if r := ti.get(mediaOrigin + orphan); r.status != 404 {
		t.Errorf("orphan served before the sweep: %d", r.status)
	}
	sw, err := ti.inst.Media().Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Files != 1 || sw.Rows != 0 {
		t.Errorf("sweep: %+v, want the one old orphan", sw)
	}
	if ti.onDisk(orphan) {
		t.Error("the orphan file was not removed")
	}
	if _, err := os.Stat(staleTemp); !errors.Is(err, os.ErrNotExist) {
		t.Error("the stale temporary file was not removed")
	}
	if !ti.onDisk(youngOrphan) {
		t.Error("a file younger than a minute (its row may be on the way) was removed")
	}
	if _, err := os.Stat(freshTemp); err != nil {
		t.Error("a fresh temporary file (an upload in progress) was removed")
	}
	for k := range keys {
		if !ti.onDisk(k) {
			t.Errorf("referenced file %s was removed", k)
		}
	}
	if ready := ti.assertDBMatchesDisk(); ready != n {
		t.Errorf("after the sweep, %d ready rows, want %d", ready, n)
	}
}

func TestDisabledAccountsMediaStopsBeingServed(t *testing.T) {
	ti := startTLS(t)
	tok, id := ti.userToken("mallory", "read write")
	r := ti.upload("/api/v1/media", tok, "a.png", "image/png", noisePNG(t, 32, 32))
	if r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	key := keyOf(t, r.json(t)["url"])
	if got := ti.rawMedia("/" + key); got.status != 200 {
		t.Fatalf("before disabling: %d", got.status)
	}
	accID, _ := strconv.ParseInt(id, 10, 64)
	yes := true
	if _, err := ti.inst.Accounts().Modify(context.Background(), accID, accounts.Change{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if got := ti.rawMedia("/" + key); got.status != 404 {
		t.Errorf("a disabled account's upload is still served: %d", got.status)
	}
}

// Only a body the handlers read as a multipart form gets the upload cap. A
// Content-Type that merely begins with "multipart/form-data" parses as no
// type at all, which the API reads whole as a form, and outside an upload
// slot: eight such 99 MB profile updates at once took the server to 1.7 GiB.
func TestOnlyAMultipartFormGetsTheUploadBodyCap(t *testing.T) {
	ti := startMedia(t)
	tok, _ := ti.userToken("mallory", "write:accounts")
	body := strings.Repeat("a", 2<<20) // over http.max_body_bytes, far under the upload cap
	for _, ct := range []string{"multipart/form-data,x", "multipart/form-data(x)", "multipart/form-data/x; boundary=b"} {
		r, err := ti.request("PATCH", "/api/v1/accounts/update_credentials", strings.NewReader(body), tok, "Content-Type", ct)
		if err != nil {
			t.Fatal(err)
		}
		if r.status != 413 {
			t.Errorf("Content-Type %q with a 2 MiB body: %d %q, want the small cap's 413", ct, r.status, r.body)
		}
	}
	// A real multipart form over the small cap keeps the upload cap, in any letter case.
	form, ctype := multipartBody(url.Values{"display_name": {"Mallory"}}, filePart{"header", "h.png", "image/png", noisePNG(t, 600, 600)})
	if len(form) <= 1<<20 {
		t.Fatalf("the form is only %d bytes", len(form))
	}
	ctype = strings.Replace(ctype, "multipart/form-data", "Multipart/Form-Data", 1)
	r, err := ti.request("PATCH", "/api/v1/accounts/update_credentials", bytes.NewReader(form), tok, "Content-Type", ctype)
	if err != nil || r.status != 200 {
		t.Errorf("a multipart profile update of %d bytes: %d %q %v", len(form), r.status, r.body, err)
	}
}
