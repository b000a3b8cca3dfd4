package instance

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

// mediaSamples reads the real encoders' files the media package's tests use.
func mediaSamples(t *testing.T) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob("../media/testdata/*.*")
	if err != nil || len(names) < 20 {
		t.Fatalf("media samples: %v %q", err, names)
	}
	out := map[string][]byte{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(name)] = b
	}
	return out
}

func dirCount(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// Issue 9: audio and video were accepted on their first bytes, so an MPEG
// frame header followed by a PDF, a zip, a script or a page (without the
// tags checkNoMarkup looks for) was stored and served verbatim. Every
// container is now walked to its end.
func TestAudioVideoPolyglotsAreRefused(t *testing.T) {
	ti := startMedia(t)
	tok, _ := ti.userToken("mallory", "write:media")
	before := dirCount(t, ti.mediaDir())

	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	zip := []byte("PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x05\x00\x00\x00\x05\x00\x00\x00a.txthelloPK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	js := []byte("\n;fetch('/api/v1/accounts/verify_credentials',{credentials:'include'}).then(r=>r.text()).then(alert)//")
	page := []byte("<meta charset=utf-8><img src=x onerror=alert(document.cookie)><a href=/x onclick=alert(1)>go</a>")
	samples := mediaSamples(t)
	cases := []struct {
		what string
		data []byte
		want string
	}{
		{"MPEG frame header + PDF", append([]byte("\xff\xfb\x90\x64"), pdf...), "the MP3 file is malformed"},
		{"MPEG frame header + ZIP", append([]byte("\xff\xfb\x90\x64"), zip...), "the MP3 file is malformed"},
		{"MPEG frame header + JavaScript", append([]byte("\xff\xfb"), js...), "the MP3 file is malformed"},
		{"MPEG frame header + HTML without the tags", append([]byte("\xff\xfb"), page...), "the MP3 file is malformed"},
		{"ID3 header + PDF", append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), pdf...), "the MP3 file is malformed"},
		{"MP3 + PDF", append(bytes.Clone(samples["lame-tags.mp3"]), pdf...), "the MP3 file is malformed"},
		{"MP4 + PDF", append(bytes.Clone(samples["video.mp4"]), pdf...), "the MP4 file is malformed"},
		{"M4A + ZIP", append(bytes.Clone(samples["audio.m4a"]), zip...), "the MP4 file is malformed"},
		{"WebM + PDF", append(bytes.Clone(samples["video.webm"]), pdf...), "the WebM file"},
		{"Ogg + PDF", append(bytes.Clone(samples["vorbis.ogg"]), pdf...), "the Ogg file is malformed"},
		{"WAV + HTML", append(bytes.Clone(samples["sine.wav"]), page...), "the WAV file's RIFF size does not match"},
		{"FLAC + JavaScript", append(bytes.Clone(samples["flac-tool.flac"]), js...), "the FLAC file is malformed"},
		{"MP4 header + PDF", append(bytes.Clone(samples["video.mp4"][:32]), pdf...), "the MP4 file is malformed"},
	}
	for _, tc := range cases {
		r := ti.upload("/api/v1/media", tok, "clip.bin", "application/octet-stream", tc.data)
		wantRejected(t, tc.what, r, 422, tc.want)
		// v2 above sync_limit_bytes is processed in the background: the
		// refusal comes when the client polls.
	}
	if after := dirCount(t, ti.mediaDir()); after != before {
		t.Errorf("refused uploads left %d files in the media dir", after-before)
	}

	// Every real file of every kind is still accepted, and served byte for
	// byte with its sniffed type.
	types := map[string]string{".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".m4a": "audio/mp4", ".wav": "audio/wav", ".flac": "audio/flac",
		".mp4": "video/mp4", ".mov": "video/mp4", ".3gp": "video/mp4", ".webm": "video/webm"}
	for name, data := range samples {
		r := ti.upload("/api/v1/media", tok, name, "application/octet-stream", data)
		if r.status != 200 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
			continue
		}
		m := r.json(t)
		served := ti.get(mediaOrigin + keyOf(t, m["url"]))
		if served.status != 200 || served.body != string(data) || served.header.Get("Content-Type") != types[filepath.Ext(name)] {
			t.Errorf("%s: served %d %q (%d bytes), want the %d bytes as %s", name, served.status, served.header.Get("Content-Type"),
				len(served.body), len(data), types[filepath.Ext(name)])
		}
	}
}

// Issue 9: focus=nan,nan (and a third number, infinities, trailing junk)
// passed the range check, failed in the store with a 500, and left the
// processed files behind. Each is now a 422 before anything is stored, on
// upload and on update, and a refused update changes nothing.
func TestFocusMustBeTwoFiniteNumbers(t *testing.T) {
	ti := startMedia(t)
	tok, _ := ti.userToken("alice", "read write")
	bad := []string{"nan,nan", "NaN,0", "0.5,0.5,0.5", "inf,0", "0,-inf", "0.5,0.5junk", "0.5", "2,0", "0x1p-1,0"}
	png := testutil.GradientPNG(t, 8, 8)
	before := dirCount(t, ti.mediaDir())
	for _, focus := range bad {
		for _, path := range []string{"/api/v1/media", "/api/v2/media"} {
			r := ti.upload(path, tok, "a.png", "image/png", png, "focus", focus)
			wantRejected(t, path+" focus="+focus, r, 422, "focus must be two numbers between -1 and 1")
		}
		r := ti.upload("/api/v1/media", tok, "clip.mp4", "video/mp4", testutil.MP4(nil), "focus", focus)
		wantRejected(t, "video with focus="+focus, r, 422, "focus must be two numbers between -1 and 1")
	}
	if after := dirCount(t, ti.mediaDir()); after != before {
		t.Errorf("uploads refused for their focus left %d files in the media dir", after-before)
	}

	r := ti.upload("/api/v1/media", tok, "a.png", "image/png", png, "focus", "0.5,-0.25", "description", "kept")
	if r.status != 200 {
		t.Fatalf("upload with a valid focus: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	stored := dirCount(t, ti.mediaDir())
	for _, focus := range bad {
		r := ti.call(ti.client, "PUT", "/api/v1/media/"+id, url.Values{"focus": {focus}, "description": {"changed"}}, tok)
		wantRejected(t, "PUT focus="+focus, r, 422, "focus must be two numbers between -1 and 1")
	}
	r = ti.call(ti.client, "GET", "/api/v1/media/"+id, nil, tok)
	if m := r.json(t); r.status != 200 || m["description"] != "kept" {
		t.Errorf("after refused updates the upload is %d %v", r.status, m)
	}
	if after := dirCount(t, ti.mediaDir()); after != stored {
		t.Errorf("refused updates changed the media dir by %d files", after-stored)
	}
	r = ti.call(ti.client, "PUT", "/api/v1/media/"+id, url.Values{"focus": {" -1 , 1 "}}, tok)
	if r.status != 200 || !strings.Contains(r.body, `"id":"`+id+`"`) {
		t.Errorf("PUT with a valid focus: %d %s", r.status, r.body)
	}
}
