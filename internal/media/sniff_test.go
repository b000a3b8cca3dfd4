package media

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// readableRejection checks err is an ErrRejected whose message a person can
// read: valid UTF-8, no control characters, not a dump of the file, and
// containing want.
func readableRejection(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted, want a rejection mentioning %q", what, want)
		return
	}
	if !errors.Is(err, ErrRejected) {
		t.Errorf("%s: error %v is not an ErrRejected", what, err)
	}
	msg := err.Error()
	if !utf8.ValidString(msg) || len(msg) > 300 {
		t.Errorf("%s: message is not readable: %q", what, msg)
	}
	for _, r := range msg {
		if unicode.IsControl(r) {
			t.Errorf("%s: message has a control character: %q", what, msg)
			break
		}
	}
	if !strings.Contains(msg, want) {
		t.Errorf("%s: message %q does not mention %q", what, msg, want)
	}
}

func TestSniffAcceptsEveryAllowedFormatByItsMagic(t *testing.T) {
	webmHead := "\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\xF7\x81\x01\x42\xF2\x81\x04\x42\xF3\x81\x08\x42\x82\x84webm\x42\x87\x81\x04"
	cases := []struct {
		name string
		head string
		want Format
	}{
		{"JPEG JFIF", "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01", JPEG},
		{"JPEG Exif", "\xFF\xD8\xFF\xE1\x00\x20Exif\x00\x00", JPEG},
		{"PNG", "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", PNG},
		{"GIF87a", "GIF87a\x01\x00\x01\x00\x80\x00\x00", GIF},
		{"GIF89a", "GIF89a\x01\x00\x01\x00\x80\x00\x00", GIF},
		{"WebP", "RIFF\x24\x00\x00\x00WEBPVP8L", WebP},
		{"WAV", "RIFF\x24\x00\x00\x00WAVEfmt ", WAV},
		{"WebM", webmHead, WebM},
		{"MP4 isom", "\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", MP4},
		{"MP4 mp42", "\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", MP4},
		{"MP4 QuickTime", "\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", MP4},
		{"M4V", "\x00\x00\x00\x1cftypM4V \x00\x00\x00\x01M4V M4A mp42", MP4},
		{"M4A", "\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom", M4A},
		{"Ogg", "OggS\x00\x02\x00\x00\x00\x00", OGG},
		{"FLAC", "fLaC\x00\x00\x00\x22\x10\x00", FLAC},
		{"3GP of ffmpeg (major brand 3gp6)", "\x00\x00\x00\x20ftyp3gp6\x00\x00\x01\x003gp6isomiso2avc1", MP4},
		{"Sony XAVC", "\x00\x00\x00\x1cftypXAVC\x01\x00\x1f\xffXAVCmp42iso2", MP4},
		{"MP3 ID3", "ID3\x04\x00\x00\x00\x00\x00\x00", MP3},
		{"MP3 frame", "\xFF\xFB\x90\x64\x00\x00\x00", MP3},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		got, err := Sniff([]byte(tc.head))
		if err != nil || got != tc.want {
			t.Errorf("%s: Sniff = %v, %v; want %v", tc.name, got, err, tc.want)
		}
		seen[tc.want.MIME] = true
	}
	for _, f := range Formats {
		if !seen[f.MIME] {
			t.Errorf("allowed format %s has no magic in this table", f.MIME)
		}
	}
}

func TestSniffRefusesEverythingElseReadably(t *testing.T) {
	const generic = "this file type is not accepted"
	cases := []struct {
		name, head, want string
	}{
		{"empty", "", "the file is empty"},
		{"HTML", "<!DOCTYPE html><html><body><script>alert(1)</script>", generic},
		{"HTML lower", "<html><script>alert(1)</script></html>", generic},
		{"HTML after BOM and space", "\xEF\xBB\xBF  \n<html>", generic},
		{"SVG", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, generic},
		{"SVG with XML declaration", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`, generic},
		{"XHTML", `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"/>`, generic},
		{"ActivityStreams JSON", `{"@context":"https://www.w3.org/ns/activitystreams","type":"Note","content":"hi"}`, generic},
		{"JSON array", `[{"@context":"https://www.w3.org/ns/activitystreams"}]`, generic},
		{"JavaScript", "alert(document.cookie)", generic},
		{"plain text", "hello world", generic},
		{"shell script", "#!/bin/sh\nrm -rf /\n", generic},
		{"zip", "PK\x03\x04\x14\x00\x00\x00\x08\x00", generic},
		{"empty zip", "PK\x05\x06\x00\x00\x00\x00", generic},
		{"gzip", "\x1F\x8B\x08\x00\x00\x00\x00\x00", generic},
		{"PDF", "%PDF-1.7\n%\xE2\xE3\xCF\xD3", generic},
		{"ELF", "\x7FELF\x02\x01\x01\x00", generic},
		{"Windows executable", "MZ\x90\x00\x03\x00\x00\x00", generic},
		{"BMP", "BM\x36\x00\x0C\x00\x00\x00", generic},
		{"TIFF little-endian", "II*\x00\x08\x00\x00\x00", generic},
		{"TIFF big-endian", "MM\x00*\x00\x00\x00\x08", generic},
		{"ICO", "\x00\x00\x01\x00\x01\x00\x10\x10", generic},
		{"AVI", "RIFF\x24\x00\x00\x00AVI LIST", generic},
		{"RIFF other", "RIFF\x24\x00\x00\x00RMIDdata", generic},
		{"GIF lookalike", "GIF90a\x01\x00\x01\x00", generic},
		{"PNG without its full signature", "\x89PNG\r\n", generic},
		{"two JPEG bytes", "\xFF\xD8", generic},
		{"Matroska, not WebM", "\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x88matroska", "Matroska files other than WebM are not accepted"},
		{"HEIC", "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", `the MP4 brand "heic" is not accepted`},
		{"AVIF", "\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1", `the MP4 brand "avif" is not accepted`},
		{"MP4 with a broken box size", "\x00\x00\x00\x04ftypisom\x00\x00", "the MP4 file is malformed"},
		{"unknown brand whose listed brand is outside its ftyp box", "\x00\x00\x00\x10ftypzzzz\x00\x00\x00\x00isom", `the MP4 brand "zzzz" is not accepted`},
	}
	for _, tc := range cases {
		f, err := Sniff([]byte(tc.head))
		if err == nil {
			t.Errorf("%s: accepted as %v", tc.name, f)
			continue
		}
		readableRejection(t, tc.name, err, tc.want)
		if tc.want == generic {
			// The refusal says what would be accepted.
			for _, w := range []string{"JPEG", "PNG", "GIF", "WebP", "MP4", "WebM", "MP3"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: message %q does not list %s", tc.name, err, w)
				}
			}
		}
		if strings.Contains(err.Error(), "<script") || strings.Contains(err.Error(), "alert") {
			t.Errorf("%s: message echoes the file: %q", tc.name, err)
		}
	}
}

func TestSniffReadsOnlyTheBytesNotTheName(t *testing.T) {
	// An HTML page stays an HTML page whatever it is called: Sniff has no
	// other input than the bytes, and the bytes decide.
	page := []byte("<html><script>alert(1)</script></html>")
	if _, err := Sniff(page); !errors.Is(err, ErrRejected) {
		t.Errorf("HTML accepted: %v", err)
	}
	// A PNG with a page appended is still a PNG by its head (the re-encode
	// removes the page; see image_test.go).
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), page...)
	if f, err := Sniff(png); err != nil || f != PNG {
		t.Errorf("PNG+HTML: %v, %v", f, err)
	}
}

func TestCheckNoMarkup(t *testing.T) {
	mp4 := []byte("\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41\x00\x00\x00\x08free")
	if err := checkNoMarkup(mp4); err != nil {
		t.Errorf("clean MP4 refused: %v", err)
	}
	payloads := []string{
		"<script>alert(1)</script>", "<SCRIPT SRC=//evil.test/x.js>", "<html><body>", "<HTML>",
		`<svg onload="alert(1)">`, `<?xml version="1.0"?>`, "<!DOCTYPE html>", "<iframe src=//evil.test>",
		"<BODY onload=alert(1)>", "JavaScript:alert(1)", `{"@context":"https://www.w3.org/ns/activitystreams"}`,
	}
	for _, p := range payloads {
		for _, where := range []string{"middle", "end"} {
			b := append([]byte{}, mp4...)
			if where == "middle" {
				b = append(b[:20:20], append([]byte(p), mp4[20:]...)...)
			} else {
				b = append(b, p...)
			}
			err := checkNoMarkup(b)
			readableRejection(t, p+" at the "+where, err, "media files with embedded documents are not accepted")
		}
	}
	// The markup list is all lower case: checkNoMarkup lowers the file, not the needles.
	for _, m := range markup {
		if !bytes.Equal(m, bytes.ToLower(m)) {
			t.Errorf("markup needle %q is not lower case and could never match", m)
		}
	}
}
