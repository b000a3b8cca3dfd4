package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

// The files in testdata/ are real encoders' output, made once with Debian's
// ffmpeg 5.1, lame 3.100, flac 1.4.2, vorbis-tools 1.4.2 and sox 14.4.2
// (0.5 s of a 440 Hz tone, 32×24 test video): see testdata/README.

// samples reads every file of testdata/ with its sniffed format.
func samples(t testing.TB) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob("testdata/*.*")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(name)] = b[:len(b):len(b)]
	}
	if len(out) < 20 {
		t.Fatalf("only %d sample files in testdata/", len(out))
	}
	return out
}

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cat joins byte slices into a new one with no spare capacity.
func cat(parts ...[]byte) []byte {
	out := bytes.Join(parts, nil)
	return out[:len(out):len(out)]
}

func wantRefused(t *testing.T, what string, b []byte, f Format, reason string) {
	t.Helper()
	err := checkStructure(b[:len(b):len(b)], f)
	if !errors.Is(err, ErrRejected) {
		t.Errorf("%s: checkStructure = %v, want a rejection", what, err)
		return
	}
	if !strings.Contains(err.Error(), reason) {
		t.Errorf("%s: %q does not say %q", what, err, reason)
	}
}

func TestCheckStructureAcceptsRealFiles(t *testing.T) {
	kinds := map[Format]int{}
	for name, b := range samples(t) {
		f, err := Sniff(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		kinds[f]++
		if err := checkStructure(b, f); err != nil {
			t.Errorf("%s (%s): %v", name, f.MIME, err)
		}
	}
	for _, f := range Formats {
		if f.Kind != Image && kinds[f] == 0 {
			t.Errorf("no sample file of %s", f.MIME)
		}
	}
	// The Go-built files the other packages' tests upload.
	for what, b := range map[string][]byte{"testutil.MP4": testutil.MP4([]byte("frames")), "testutil.WAV": testutil.WAV([]byte{1, 2, 3}),
		"flacFrames": flacFrames(3, 64), "flacFrames (2-byte frame numbers)": flacFrames(300, 16)} {
		f, err := Sniff(b)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if err := checkStructure(b, f); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
}

// Polyglots: bytes that begin like media (and hold none of the markup
// checkNoMarkup looks for) but are another kind of document.
var (
	pdfDoc  = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	zipDoc  = []byte("PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x05\x00\x00\x00\x05\x00\x00\x00a.txthelloPK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	jsDoc   = []byte("\n;fetch('/api/v1/accounts/verify_credentials',{credentials:'include'}).then(r=>r.text()).then(alert);//")
	htmlDoc = []byte("<meta charset=utf-8><title>hi</title><img src=x onerror=alert(document.cookie)><a href=/x onclick=alert(1)>go</a>")
)

func TestCheckStructureRefusesPolyglotsFromTheIssue(t *testing.T) {
	for _, head := range []string{"\xff\xfb", "\xff\xfb\x90\x64", "\xff\xfb\x90\x64\x00\x00\x00\x00"} {
		for what, doc := range map[string][]byte{"PDF": pdfDoc, "ZIP": zipDoc, "JavaScript": jsDoc, "HTML without the tags": htmlDoc} {
			b := cat([]byte(head), doc)
			if f, err := Sniff(b); err != nil || f != MP3 {
				t.Fatalf("%q + %s sniffs as %v, %v: the fixture must pass the first check", head, what, f, err)
			}
			if err := checkNoMarkup(b); err != nil {
				t.Fatalf("%q + %s: checkNoMarkup already refuses it (%v): the fixture does not test the container check", head, what, err)
			}
			wantRefused(t, "MPEG frame header "+what, b, MP3, "the MP3 file")
		}
	}
}

// garbage is what tests put between a container's parts.
var garbage = []byte("\x00junk between parts\x00")

func TestCheckStructureRefusesAnythingOutsideTheContainer(t *testing.T) {
	all := samples(t)
	for name, b := range all {
		f, _ := Sniff(b)
		for what, bad := range map[string][]byte{
			"one byte appended":  cat(b, []byte{1}),
			"a PDF appended":     cat(b, pdfDoc),
			"a ZIP appended":     cat(b, zipDoc),
			"JavaScript":         cat(b, jsDoc),
			"the last byte gone": b[:len(b)-1],
			"the first half":     b[:len(b)/2],
		} {
			if err := checkStructure(bad[:len(bad):len(bad)], f); !errors.Is(err, ErrRejected) {
				t.Errorf("%s with %s: checkStructure = %v, want a rejection", name, what, err)
			}
		}
	}

	// Garbage between two parts of each kind of container.
	mp3 := all["lame-bare.mp3"]
	n, _, _ := mpegFrame(mp3)
	wantRefused(t, "garbage between MP3 frames", cat(mp3[:n], garbage, mp3[n:]), MP3, "is malformed at byte")
	tagged := all["lame-tags.mp3"]
	id3, _ := id3v2Length(tagged)
	wantRefused(t, "garbage after the ID3v2 tag", cat(tagged[:id3], garbage, tagged[id3:]), MP3, "is malformed at byte")
	wantRefused(t, "garbage before the ID3v1 tag", cat(tagged[:len(tagged)-128], garbage, tagged[len(tagged)-128:]), MP3, "is malformed at byte")
	wantRefused(t, "garbage after the ID3v1 tag", cat(tagged, garbage), MP3, "is malformed at byte")

	ogg := all["vorbis.ogg"]
	page := oggPageLength(ogg)
	wantRefused(t, "garbage between Ogg pages", cat(ogg[:page], garbage, ogg[page:]), OGG, "the data is not an Ogg page")

	for _, name := range []string{"video.mp4", "audio.m4a", "qt.mov", "fragmented.mp4"} {
		mp4 := all[name]
		f, _ := Sniff(mp4)
		ftyp := int(binary.BigEndian.Uint32(mp4))
		wantRefused(t, name+": garbage between boxes", cat(mp4[:ftyp], garbage, mp4[ftyp:]), f, "is malformed at byte")
		wantRefused(t, name+": an unknown box between boxes", cat(mp4[:ftyp], boxOf("pdf ", pdfDoc), mp4[ftyp:]), f, "unknown top-level box")
	}

	for _, name := range []string{"video.webm", "piped.webm"} {
		webm := all[name]
		segment := webmSegmentStart(t, webm)
		wantRefused(t, name+": garbage between the EBML header and the Segment", cat(webm[:segment], garbage, webm[segment:]), WebM, "has no Segment")
		first := webmFirstChild(t, webm)
		wantRefused(t, name+": garbage between Segment elements", withSegmentGrown(webm, first, garbage), WebM, "malformed")
	}

	wav := all["sine.wav"]
	withJunk := withRIFFSize(cat(wav[:36], garbage, wav[36:])) // after the fmt chunk, the RIFF size made to fit
	wantRefused(t, "garbage between WAV chunks", withJunk, WAV, "the data is not a chunk")
	wantRefused(t, "a PDF after the WAV's data chunk, the RIFF size made to fit", withRIFFSize(cat(wav, pdfDoc)), WAV, "malformed at byte 8078")
	// The whole file again after itself: a second header inside the first.
	for _, name := range []string{"video.mp4", "audio.m4a", "video.webm", "sine.wav", "flac-tool.flac", "lame-tags.mp3"} {
		f, _ := Sniff(all[name])
		if err := checkStructure(cat(all[name], all[name]), f); !errors.Is(err, ErrRejected) {
			t.Errorf("%s twice: checkStructure = %v, want a rejection", name, err)
		}
	}

	flac := flacFrames(4, 64)
	frame := (len(flac) - (4 + 4 + 34)) / 4
	at := 4 + 4 + 34 + frame
	wantRefused(t, "garbage between FLAC frames", cat(flac[:at], garbage, flac[at:]), FLAC, "does not end with a valid CRC-16")
	wantRefused(t, "a FLAC file with an ID3v1 tag appended", cat(all["flac-tool.flac"], []byte("TAG"), make([]byte, 125)), FLAC, "malformed in the frame")
}

func TestCheckStructureRefusesBrokenContainers(t *testing.T) {
	all := samples(t)

	// MP3
	mp3 := all["lame-bare.mp3"]
	free := cat(mp3)
	free[2] &^= 0xF0 // bitrate index 0: free format
	wantRefused(t, "free-format MP3", free, MP3, "free-format MPEG audio is not accepted")
	n, _, _ := mpegFrame(mp3)
	other := cat(mp3)
	other[n+2] ^= 0x08 // the second frame's sample rate differs
	wantRefused(t, "MP3 whose sample rate changes", other, MP3, "differs from the first frame's")
	wantRefused(t, "ID3v2 tag alone", all["lame-tags.mp3"][:mustID3(t, all["lame-tags.mp3"])], MP3, "no MPEG audio frames")
	wantRefused(t, "ID3v2 tag claiming more than the file", cat([]byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7f"), mp3), MP3, "cut short")

	// Ogg
	ogg := cat(all["opus.ogg"])
	ogg[len(ogg)-1] ^= 1
	wantRefused(t, "Ogg page whose CRC does not match", ogg, OGG, "CRC does not match")
	ogg = cat(all["vorbis.ogg"])
	page := oggPageLength(ogg)
	wantRefused(t, "Ogg without its first page", ogg[page:], OGG, "does not begin a stream")

	// ISO BMFF
	mvhd := make([]byte, 100)
	ftyp := boxOf("ftyp", []byte("isom\x00\x00\x02\x00isom"))
	wantRefused(t, "MP4 without moov", cat(ftyp, boxOf("mdat", []byte("x"))), MP4, "0 moov boxes")
	wantRefused(t, "MP4 with two moov", cat(ftyp, boxOf("moov", boxOf("mvhd", mvhd)), boxOf("moov", boxOf("mvhd", mvhd))), MP4, "2 moov boxes")
	wantRefused(t, "MP4 moov without mvhd", cat(ftyp, boxOf("moov", boxOf("trak", nil))), MP4, "no mvhd")
	wantRefused(t, "MP4 moov whose children do not fill it", cat(ftyp, boxOf("moov", cat(boxOf("mvhd", mvhd), garbage))), MP4, "malformed in the box")
	wantRefused(t, "MP4 whose first box is not ftyp", cat(boxOf("free", nil), ftyp, boxOf("moov", boxOf("mvhd", mvhd))), MP4, "does not begin with an ftyp")
	wantRefused(t, "MP4 box larger than the file", cat(ftyp, []byte("\x00\x01\x00\x00moov")), MP4, "past the end")
	big := cat(ftyp, []byte("\x00\x00\x00\x01mdat\x00\x00\x00\x00\x00\x00\x00\x10"), boxOf("moov", boxOf("mvhd", mvhd)))
	if err := checkStructure(big, MP4); err != nil {
		t.Errorf("MP4 with a 64-bit mdat size: %v", err)
	}
	toEnd := cat(ftyp, boxOf("moov", boxOf("mvhd", mvhd)), []byte("\x00\x00\x00\x00mdatanything"))
	if err := checkStructure(toEnd, MP4); err != nil {
		t.Errorf("MP4 whose last box has size 0 (to the end): %v", err)
	}

	// WebM
	webm := all["video.webm"]
	docType := bytes.Index(webm, []byte("\x42\x82\x84webm"))
	matroska := cat(webm[:docType+3], []byte("mkv\x00"), webm[docType+7:])
	wantRefused(t, "Matroska that is not WebM", matroska, WebM, "DocType is not webm")
	first := webmFirstChild(t, webm)
	attachments := ebmlEl([]byte{0x19, 0x41, 0xA4, 0x69}, ebmlEl([]byte{ebmlVoidID}, pdfDoc)) // Attachments holding a PDF
	wantRefused(t, "WebM with Attachments", withSegmentGrown(webm, first, attachments), WebM, "does not allow in a Segment")
	wantRefused(t, "WebM whose Tracks has an unknown size", unknownSized(t, webm, mkvTracksID), WebM, "only a Segment or a Cluster")
	open := unknownSized(t, all["piped.webm"], mkvClusterID)
	if err := checkStructure(open, WebM); err != nil {
		t.Errorf("WebM whose Cluster has an unknown size: %v", err)
	}
	wantRefused(t, "WebM whose Cluster of unknown size is followed by garbage", cat(open, garbage), WebM, "malformed")

	// WAV
	wav := all["sine.wav"]
	short := cat(wav)
	binary.LittleEndian.PutUint32(short[4:], uint32(len(wav)-9))
	wantRefused(t, "WAV whose RIFF size is one short", short, WAV, "RIFF size does not match")
	wantRefused(t, "WAV without data", withRIFFSize(wav[:36]), WAV, "no fmt or no data chunk")
	noFmt := cat(wav[:12], wav[36:])
	wantRefused(t, "WAV without fmt", withRIFFSize(noFmt), WAV, "not the one data chunk after the fmt chunk")
	zeroRate := cat(wav)
	binary.LittleEndian.PutUint32(zeroRate[24:], 0)
	wantRefused(t, "WAV with sample rate 0", zeroRate, WAV, "no channels, sample rate or block alignment")

	// FLAC
	flac := cat(all["flac-tool.flac"])
	flac[len(flac)-10] ^= 0x40
	wantRefused(t, "FLAC frame whose CRC-16 does not match", flac, FLAC, "does not end with a valid CRC-16")
	meta := cat(all["flac-tool.flac"][:4+4+34])
	meta[4] |= 0x80 // STREAMINFO is the last metadata block
	wantRefused(t, "FLAC without frames", meta, FLAC, "no audio frames")
	wantRefused(t, "FLAC whose STREAMINFO is not first", cat([]byte("fLaC\x01\x00\x00\x00"), all["flac-tool.flac"][4:]), FLAC, "does not begin with a STREAMINFO")
	skipped := flacFrames(3, 64)
	frame := (len(skipped) - 42) / 3
	wantRefused(t, "FLAC with a frame left out", cat(skipped[:42+frame], skipped[42+2*frame:]), FLAC, "not numbered right after")
	wantRefused(t, "FLAC with frames swapped", cat(skipped[:42], skipped[42+frame:42+2*frame], skipped[42:42+frame], skipped[42+2*frame:]), FLAC, "not numbered right after")
	long := cat(all["ffmpeg.flac"], make([]byte, 300))
	wantRefused(t, "FLAC with zero bytes after the last frame, past STREAMINFO's maximum frame size", long, FLAC, "maximum frame size")
}

// A valid container's payload is not inspected: a PDF as PCM samples or in
// an mdat is accepted. What keeps a browser from reading it as a document is
// the media origin's serving, not this check (docs/hardening.md says so).
func TestCheckStructureDoesNotInspectPayloads(t *testing.T) {
	for f, b := range map[Format][]byte{WAV: testutil.WAV(pdfDoc), MP4: testutil.MP4(pdfDoc)} {
		if err := checkStructure(b, f); err != nil {
			t.Errorf("%s carrying a PDF as its payload: %v", f.MIME, err)
		}
	}
}

// The issue's file: RIFF/WAVE, a JUNK chunk, then a fmt chunk whose bytes
// end exactly at the end of the file, 1,056,768 bytes, with no spare
// capacity past its end (a read past len within cap would not panic).
func craftedWAV() []byte {
	const size = 1056768
	b := make([]byte, size)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], size-8)
	copy(b[8:], "WAVEJUNK")
	fmtAt := size - 16
	binary.LittleEndian.PutUint32(b[16:], uint32(fmtAt-20))
	copy(b[fmtAt:], "fmt ")
	binary.LittleEndian.PutUint32(b[fmtAt+4:], 8)
	return b
}

func TestCraftedWAVFromIssue9(t *testing.T) {
	b := craftedWAV()
	if len(b) != 1056768 || cap(b) != len(b) || string(b[len(b)-16:len(b)-12]) != "fmt " || len(b)%8192 != 0 {
		t.Fatal("the fixture is not the issue's file")
	}
	if f, err := Sniff(b); err != nil || f != WAV {
		t.Fatalf("sniffs as %v %v", f, err)
	}
	if d := Duration(b, WAV); d != 0 {
		t.Errorf("Duration = %v, want 0 (no byte rate, no data)", d)
	}
	wantRefused(t, "the crafted WAV", b, WAV, "the WAV file's fmt chunk is too short")

	// Through the service, processed now (v1) and in the background (v2):
	// refused with the reason, never a recovered panic, nothing stored.
	ts := newTestService(t, "[media]", `sync_limit_bytes = "1KiB"`)
	ctx := context.Background()
	_, err := ts.Upload(ctx, ts.owner.ID, UploadParams{Data: b})
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "fmt chunk is too short") {
		t.Errorf("sync upload: %v, want the fmt chunk's rejection", err)
	}
	m, err := ts.Upload(ctx, ts.owner.ID, UploadParams{Data: b, Async: true})
	if err != nil || m.State != "processing" {
		t.Fatalf("async upload: %+v %v", m, err)
	}
	ts.Wait()
	done, err := ts.st.MediaByID(ctx, m.ID)
	if err != nil || done.State != "failed" || !strings.Contains(done.Failure, "fmt chunk is too short") {
		t.Errorf("the background upload ended as %+v, %v; want failed with the fmt chunk's reason", done, err)
	}
	if names := dirNames(t, ts.dir); len(names) != 0 {
		t.Errorf("the refused uploads left %q", names)
	}
}

// Validating costs a small constant, not a copy of the file: each walk
// reads the upload in place.
func TestCheckStructureUsesConstantMemory(t *testing.T) {
	const size = 8 << 20
	all := samples(t)
	files := map[Format][]byte{
		WAV:  testutil.WAV(make([]byte, size)),
		MP4:  testutil.MP4(make([]byte, size)),
		MP3:  repeatUntil(all["lame-bare.mp3"][:mustFrame(t, all["lame-bare.mp3"])], size),
		OGG:  cat(all["vorbis.ogg"], repeatUntil(lastOggPage(all["vorbis.ogg"]), size)),
		WebM: withSegmentGrown(all["piped.webm"], len(all["piped.webm"]), repeatUntil(lastCluster(t, all["piped.webm"]), size)),
		FLAC: flacFrames(size/(2*4096), 4096),
	}
	for f, b := range files {
		if len(b) < size*9/10 {
			t.Fatalf("%s fixture is only %d bytes", f.MIME, len(b))
		}
		if err := checkStructure(b, f); err != nil {
			t.Fatalf("%s fixture: %v", f.MIME, err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := checkStructure(b, f)
		errMarkup := checkNoMarkup(b)
		runtime.ReadMemStats(&after)
		if err != nil || errMarkup != nil {
			t.Fatalf("%s: %v %v", f.MIME, err, errMarkup)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<10 {
			t.Errorf("checking a %d-byte %s allocated %d bytes; the walk must not copy the file", len(b), f.MIME, grew)
		}
	}
}

// ---- builders of test files ----

func boxOf(kind string, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(payload)))
	return cat(b, []byte(kind), payload)
}

func mustFrame(t testing.TB, b []byte) int {
	t.Helper()
	n, _, why := mpegFrame(b)
	if why != "" {
		t.Fatal(why)
	}
	return n
}

func mustID3(t testing.TB, b []byte) int {
	t.Helper()
	n, err := id3v2Length(b)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func repeatUntil(unit []byte, size int) []byte {
	return bytes.Repeat(unit, size/len(unit)+1)
}

func oggPageLength(b []byte) int {
	n := 27 + int(b[26])
	for _, l := range b[27 : 27+int(b[26])] {
		n += int(l)
	}
	return n
}

func lastOggPage(b []byte) []byte {
	var last []byte
	for p := 0; p < len(b); p += oggPageLength(b[p:]) {
		last = b[p : p+oggPageLength(b[p:])]
	}
	// Not the end of the stream, so copies of it may follow.
	page := cat(last)
	page[5] &^= 4
	binary.LittleEndian.PutUint32(page[22:], 0)
	binary.LittleEndian.PutUint32(page[22:], oggCRC(0, page))
	return page
}

// withRIFFSize sets a RIFF file's size field to fit its length.
func withRIFFSize(b []byte) []byte {
	b = cat(b)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

// webmSegmentStart is where the Segment element begins.
func webmSegmentStart(t testing.TB, b []byte) int {
	_, size, n, _, err := ebmlElement(b)
	if err != nil {
		t.Fatal(err)
	}
	return n + size
}

// webmFirstChild is where the Segment's first child begins.
func webmFirstChild(t testing.TB, b []byte) int {
	p := webmSegmentStart(t, b)
	_, _, n, _, err := ebmlElement(b[p:])
	if err != nil {
		t.Fatal(err)
	}
	return p + n
}

// ebmlEl is an element with an 8-byte size.
func ebmlEl(id, content []byte) []byte {
	return cat(id, binary.BigEndian.AppendUint64(nil, uint64(len(content))|1<<56), content)
}

// withSegmentGrown inserts extra at offset at inside the Segment, growing
// the Segment's size (when known) to hold it.
func withSegmentGrown(b []byte, at int, extra []byte) []byte {
	out := cat(b[:at], extra, b[at:])
	_, size, n, _, _ := ebmlElement(out)
	p := n + size // the Segment follows the EBML header
	_, segSize, sn, unknown, _ := ebmlElement(out[p:])
	if !unknown && sn == 12 { // ffmpeg writes 8-byte sizes: rewrite in place
		binary.BigEndian.PutUint64(out[p+4:], uint64(segSize+len(extra))|1<<56)
	}
	return out
}

// unknownSized rewrites the size of the first element id in b's Segment as
// unknown (all ones, same length) and returns the new file.
func unknownSized(t testing.TB, b []byte, id uint32) []byte {
	t.Helper()
	out := cat(b)
	for p := webmFirstChild(t, b); p < len(out); {
		got, size, n, _, err := ebmlElement(out[p:])
		if err != nil {
			t.Fatal(err)
		}
		if got == id {
			idLen := bits.LeadingZeros8(out[p]) + 1
			sizeLen := n - idLen
			out[p+idLen] = 0xFF >> (sizeLen - 1)
			for i := 1; i < sizeLen; i++ {
				out[p+idLen+i] = 0xFF
			}
			return out
		}
		p += n + size
	}
	t.Fatalf("no element %#x in the Segment", id)
	return nil
}

// lastCluster is a copy of the last Cluster of b's Segment.
func lastCluster(t testing.TB, b []byte) []byte {
	t.Helper()
	var last []byte
	for p := webmFirstChild(t, b); p < len(b); {
		id, size, n, _, err := ebmlElement(b[p:])
		if err != nil {
			t.Fatal(err)
		}
		if id == mkvClusterID {
			last = b[p : p+n+size]
		}
		p += n + size
	}
	if last == nil {
		t.Fatal("no Cluster")
	}
	return last
}

// flacFrames builds a FLAC stream of n frames of blockSize 16-bit mono
// samples at 8 kHz, each a VERBATIM subframe, numbered from 0.
func flacFrames(n, blockSize int) []byte {
	si := make([]byte, 34)
	binary.BigEndian.PutUint16(si[0:], uint16(blockSize))
	binary.BigEndian.PutUint16(si[2:], uint16(blockSize))
	const rate, bps = 8000, 16
	si[10], si[11] = byte(rate>>12), byte(rate>>4&0xFF)
	si[12] = byte(rate<<4&0xF0) | 0<<1 | (bps-1)>>4 // mono
	total := uint64(n * blockSize)
	si[13] = byte((bps-1)&0x0F)<<4 | byte(total>>32)
	binary.BigEndian.PutUint32(si[14:], uint32(total))
	b := cat([]byte("fLaC\x80\x00\x00\x22"), si)
	for i := range n {
		start := len(b)
		b = append(b, 0xFF, 0xF8, 0x74, 0x08) // fixed block size; block size in 16 bits after the number, 8 kHz; mono, 16 bits
		switch {                              // the frame number, coded like UTF-8
		case i < 0x80:
			b = append(b, byte(i))
		case i < 0x800:
			b = append(b, 0xC0|byte(i>>6), 0x80|byte(i&0x3F))
		default:
			b = append(b, 0xE0|byte(i>>12), 0x80|byte(i>>6&0x3F), 0x80|byte(i&0x3F))
		}
		b = binary.BigEndian.AppendUint16(b, uint16(blockSize-1))
		b = append(b, flacCRC8(b[start:]))
		b = append(b, 0x02) // VERBATIM subframe, no wasted bits
		for s := range blockSize {
			b = binary.BigEndian.AppendUint16(b, uint16(s*2654435761>>7+i))
		}
		b = binary.BigEndian.AppendUint16(b, flacCRC16(0, b[start:]))
	}
	return b[:len(b):len(b)]
}
