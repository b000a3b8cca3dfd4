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
	// Some 30 uploads by one account: limits.uploads (30 per 30 minutes) off.
	ti := startMedia(t, "[limits]", "uploads = 0")
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

// Real files the container walks once refused (a reviewer uploaded each to
// a running server) are accepted through the API, served byte for byte
// with their sniffed type, with a duration from the audio they hold; each
// leniency abused to carry a document is still a 422.
func TestRealWorldAudioQuirksAreAccepted(t *testing.T) {
	ti := startMedia(t)
	tok, _ := ti.userToken("alice", "write:media")
	samples := mediaSamples(t)

	// An ID3v2 tag with an 8 KiB picture before a FLAC stream: the stream
	// begins past the head that CheckSize sniffs.
	picture := append([]byte("\x00image/png\x00\x03\x00"), bytes.Repeat([]byte{0x89}, 8<<10)...)
	frame := append([]byte("APIC"), byte(len(picture)>>24), byte(len(picture)>>16), byte(len(picture)>>8), byte(len(picture)), 0, 0)
	frame = append(frame, picture...)
	n := len(frame)
	tag := append([]byte{'I', 'D', '3', 3, 0, 0, byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}, frame...)
	pictured := append(tag, samples["flac-tool.flac"]...)

	for _, tc := range []struct {
		name     string
		data     []byte
		mime     string
		duration float64 // 0: none is read from this kind
	}{
		{"cut.mp3", samples["cut.mp3"], "audio/mpeg", 0},
		{"id3-padding.mp3", samples["id3-padding.mp3"], "audio/mpeg", 0},
		{"id3v1.flac", samples["id3v1.flac"], "audio/flac", 0.5},
		{"id3lib.flac", samples["id3lib.flac"], "audio/flac", 0.5},
		{"a FLAC after an ID3v2 tag with a picture", pictured, "audio/flac", 0.5},
		{"piped.wav", samples["piped.wav"], "audio/wav", 0.5},
		{"sox-piped.wav", samples["sox-piped.wav"], "audio/wav", 0.3},
	} {
		r := ti.upload("/api/v1/media", tok, "clip.bin", "application/octet-stream", tc.data)
		if r.status != 200 {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
			continue
		}
		m := r.json(t)
		served := ti.get(mediaOrigin + keyOf(t, m["url"]))
		if served.status != 200 || served.body != string(tc.data) || served.header.Get("Content-Type") != tc.mime {
			t.Errorf("%s: served %d %q (%d bytes), want the %d bytes as %s", tc.name, served.status, served.header.Get("Content-Type"),
				len(served.body), len(tc.data), tc.mime)
		}
		var duration float64
		if meta, ok := m["meta"].(map[string]any); ok {
			if original, ok := meta["original"].(map[string]any); ok {
				duration, _ = original["duration"].(float64)
			}
		}
		if duration != tc.duration {
			t.Errorf("%s: duration %v, want %v (meta %v)", tc.name, duration, tc.duration, m["meta"])
		}
	}

	before := dirCount(t, ti.mediaDir())
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	bare := samples["lame-bare.mp3"] // 288-byte frames
	zip128 := append([]byte("PK\x03\x04\x14\x00\x00\x00\x00\x00"), make([]byte, 118)...)
	sine := samples["sine.wav"] // its data chunk at 70, 8000 bytes
	streamed := bytes.Clone(sine)
	copy(streamed[4:], "\xff\xff\xff\xff")
	for _, tc := range []struct {
		what string
		data []byte
		want string
	}{
		{"a PDF after a frame header that is not at the end", concat(bare[:576], bare[:4], bytes.Repeat(pdf, 5)), "the MP3 file is malformed at byte 864"},
		{"a frame header and a PDF, no whole frame", concat(bare[:4], pdf), "the MPEG audio frame is cut short"},
		{"a PDF in the padding after the ID3v2 tag", concat([]byte("ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00"), pdf, bare), "the MP3 file is malformed at byte 12"},
		{"a ZIP in place of a FLAC's ID3v1 tag", concat(samples["flac-tool.flac"], zip128), "the FLAC file is malformed"},
		{"a streamed WAV with a chunk after its data", concat(streamed, []byte("LIST\x50\x00\x00\x00"), pdf), "the WAV file's RIFF size does not match"},
	} {
		r := ti.upload("/api/v1/media", tok, "clip.bin", "application/octet-stream", tc.data)
		wantRejected(t, tc.what, r, 422, tc.want)
	}
	if after := dirCount(t, ti.mediaDir()); after != before {
		t.Errorf("refused uploads left %d files in the media dir", after-before)
	}
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
