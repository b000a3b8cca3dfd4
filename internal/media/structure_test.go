package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
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
		"flacFrames": flacFrames(3, 64), "flacFrames (2-byte frame numbers)": flacFrames(300, 16),
		// MPEG-1 layer I, 32 kbit/s, 44.1 kHz: 4×⌊12×32000/44100⌋ = 32 bytes, 36 with the padding bit.
		"MPEG-1 layer I frames":        cat([]byte{0xFF, 0xFF, 0x10, 0x00}, make([]byte, 28), []byte{0xFF, 0xFF, 0x12, 0x00}, make([]byte, 32), []byte{0xFF, 0xFF, 0x10, 0x00}, make([]byte, 28)),
		"an ID3v2.4 tag with a footer": cat([]byte("ID3\x04\x00\x10\x00\x00\x00\x02\x00\x003DI\x04\x00\x10\x00\x00\x00\x02"), sample(t, "lame-bare.mp3"))} {

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

// openEnded are the samples whose last part the end of the file leaves
// open, so that bytes appended continue it: a WAV's data whose header does
// not give its end, an MP3 frame cut short (until it is whole).
// TestCheckStructureOpenEndsTakeOnlyTheirLastPart tests what may follow them.
var openEnded = map[string]bool{"piped.wav": true, "sox-piped.wav": true, "cut.mp3": true}

func TestCheckStructureRefusesAnythingOutsideTheContainer(t *testing.T) {
	all := samples(t)
	for name, b := range all {
		f, _ := Sniff(b)
		cases := map[string][]byte{}
		if !openEnded[name] {
			cases["one byte appended"], cases["a PDF appended"], cases["a ZIP appended"], cases["JavaScript"] = cat(b, []byte{1}), cat(b, pdfDoc), cat(b, zipDoc), cat(b, jsDoc)
		}
		// An MP3 cut inside its last frame and a WAV cut inside its data
		// are accepted: TestCheckStructureAcceptsACutFileOnlyInsideItsLastPart.
		if f != MP3 && f != WAV {
			cases["the last byte gone"], cases["the first half"] = b[:len(b)-1], b[:len(b)/2]
		}
		for what, bad := range cases {
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
	bare := all["lame-bare.mp3"]
	for what, b := range map[string][]byte{"an APEv2 tag with a header": cat(bare, apeTag(true)), "an APEv2 tag without a header": cat(bare, apeTag(false)),
		"an APEv2 tag and an ID3v1 tag": cat(bare, apeTag(true), all["lame-tags.mp3"][len(all["lame-tags.mp3"])-128:])} {
		if err := checkStructure(b, MP3); err != nil {
			t.Errorf("MP3 with %s: %v", what, err)
		}
	}
	wantRefused(t, "garbage before an APEv2 tag", cat(bare, garbage, apeTag(false)), MP3, "is malformed at byte")
	wantRefused(t, "garbage between an APEv2 tag and an ID3v1 tag", cat(bare, apeTag(true), garbage, all["lame-tags.mp3"][len(all["lame-tags.mp3"])-128:]), MP3, "is malformed at byte")
	wantRefused(t, "ID3v2 tag alone", all["lame-tags.mp3"][:mustID3(t, all["lame-tags.mp3"])], MP3, "no MPEG audio frames")
	wantRefused(t, "ID3v2 tag claiming more than the file", cat([]byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7f"), mp3), MP3, "cut short")

	wantRefused(t, "128 bytes after the frames that are not an ID3v1 tag", cat(bare, bytes.Repeat([]byte("x"), 128)), MP3, "is malformed at byte")
	headless := apeTag(true)
	copy(headless, garbage) // the footer says there is a header; there is not
	wantRefused(t, "an APEv2 tag whose header is missing", cat(bare, headless), MP3, "is malformed at byte")
	wantRefused(t, "an ID3v2 header cut short", []byte("ID3\x04\x00\x00\x00\x00\x00"), MP3, "ID3v2 tag is cut short")
	for what, tag := range map[string]string{"version 5": "ID3\x05\x00\x00\x00\x00\x00\x00",
		"revision 255": "ID3\x04\xff\x00\x00\x00\x00\x00", "a flag v2.3 does not define": "ID3\x03\x00\x10\x00\x00\x00\x00",
		"a size byte over 127": "ID3\x04\x00\x00\x00\x00\x00\x80"} {
		wantRefused(t, "an ID3v2 tag with "+what, cat([]byte(tag), bare), MP3, "ID3v2 tag")
	}

	// Ogg
	ogg := cat(all["opus.ogg"])
	ogg[len(ogg)-1] ^= 1
	wantRefused(t, "Ogg page whose CRC does not match", ogg, OGG, "CRC does not match")
	ogg = cat(all["vorbis.ogg"])
	page := oggPageLength(ogg)
	wantRefused(t, "Ogg without its first page", ogg[page:], OGG, "does not begin a stream")
	theora := cat(ogg)
	copy(theora[27+int(ogg[26]):], "\x80theora") // the first packet names another codec
	binary.LittleEndian.PutUint32(theora[22:], 0)
	binary.LittleEndian.PutUint32(theora[22:], oggCRC(0, theora[:page]))
	wantRefused(t, "Ogg whose first stream is Theora video", theora, OGG, "not Vorbis, Opus, FLAC or Speex")

	// ISO BMFF
	mvhd := make([]byte, 100)
	ftyp := boxOf("ftyp", []byte("isom\x00\x00\x02\x00isom"))
	wantRefused(t, "MP4 without moov", cat(ftyp, boxOf("mdat", []byte("x"))), MP4, "0 moov boxes")
	wantRefused(t, "MP4 with two moov", cat(ftyp, boxOf("moov", boxOf("mvhd", mvhd)), boxOf("moov", boxOf("mvhd", mvhd))), MP4, "2 moov boxes")
	wantRefused(t, "MP4 moov without mvhd", cat(ftyp, boxOf("moov", boxOf("trak", nil))), MP4, "no mvhd")
	wantRefused(t, "MP4 moov whose children do not fill it", cat(ftyp, boxOf("moov", cat(boxOf("mvhd", mvhd), garbage))), MP4, "malformed in the box")
	wantRefused(t, "MP4 whose first box is not ftyp", cat(boxOf("free", nil), ftyp, boxOf("moov", boxOf("mvhd", mvhd))), MP4, "does not begin with an ftyp")
	wantRefused(t, "MP4 box larger than the file", cat(ftyp, []byte("\x00\x01\x00\x00moov")), MP4, "past the end")
	wantRefused(t, "MP4 with a second ftyp", cat(ftyp, boxOf("moov", boxOf("mvhd", mvhd)), ftyp), MP4, "second ftyp")
	wantRefused(t, "MP4 with a box of size 0 inside moov", cat(ftyp, boxOf("moov", cat(boxOf("mvhd", mvhd), []byte("\x00\x00\x00\x00trak")))), MP4, "size 0")
	deep := boxOf("mvhd", mvhd)
	for range 100 {
		deep = boxOf("trak", deep)
	}
	wantRefused(t, "MP4 whose boxes nest 100 deep", cat(ftyp, boxOf("moov", cat(boxOf("mvhd", mvhd), deep))), MP4, "nested too deep")
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
	timestamp := ebmlEl([]byte{0xE7}, []byte{0})
	if err := checkStructure(withSegmentGrown(webm, len(webm), ebmlEl([]byte{0x1F, 0x43, 0xB6, 0x75}, timestamp)), WebM); err != nil {
		t.Errorf("WebM with one more Cluster: %v", err)
	}
	foreign := ebmlEl([]byte{0x1F, 0x43, 0xB6, 0x75}, cat(timestamp, ebmlEl([]byte{0x86}, []byte("V_VP8")))) // CodecID belongs in Tracks
	wantRefused(t, "WebM whose Cluster holds an element a Cluster may not", withSegmentGrown(webm, len(webm), foreign), WebM, "a Cluster holds an element")
	piped := all["piped.webm"]
	head := cat(piped[:webmSegmentStart(t, piped)], []byte{0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	info, tracks := webmChild(t, piped, mkvInfoID), webmChild(t, piped, mkvTracksID)
	if err := checkStructure(cat(head, info, tracks, lastCluster(t, piped)), WebM); err != nil {
		t.Errorf("WebM rebuilt from its Info, Tracks and a Cluster: %v", err)
	}
	wantRefused(t, "WebM without Tracks", cat(head, info, lastCluster(t, piped)), WebM, "no Info or no Tracks")
	wantRefused(t, "WebM without Info", cat(head, tracks, lastCluster(t, piped)), WebM, "no Info or no Tracks")
	wantRefused(t, "WebM whose Tracks has an unknown size", unknownSized(t, webm, mkvTracksID), WebM, "only a Segment or a Cluster")
	cluster := lastCluster(t, webm)
	segment := webmSegmentStart(t, webm)
	early := cat(webm)
	binary.BigEndian.PutUint64(early[segment+4:], (binary.BigEndian.Uint64(early[segment+4:])&^(0xFF<<56)-uint64(len(cluster)))|1<<56)
	wantRefused(t, "WebM whose last Cluster is after the end of the Segment", early, WebM, "data after its Segment")
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
	wantRefused(t, "WAV with a second fmt chunk", withRIFFSize(cat(wav[:36], wav[12:36], wav[36:])), WAV, "second fmt chunk")
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
	tool := all["flac-tool.flac"]
	streaminfo := tool[4 : 4+4+34]
	wantRefused(t, "FLAC with a second STREAMINFO", cat(tool[:4+4+34], streaminfo, tool[4+4+34:]), FLAC, "second STREAMINFO")
	wantRefused(t, "FLAC whose STREAMINFO is not 34 bytes", cat([]byte("fLaC\x00\x00\x00\x21"), tool[8:]), FLAC, "does not begin with a STREAMINFO")
	wantRefused(t, "FLAC with a metadata block of type 7", cat(tool[:4+4+34], []byte("\x07\x00\x00\x00"), tool[4+4+34:]), FLAC, "reserved type")
	stereo := flacFrames(2, 64)
	stereo[4+4+12] |= 1 << 1 // STREAMINFO says two channels; the frames are mono
	wantRefused(t, "FLAC whose frames disagree with STREAMINFO's channels", stereo, FLAC, "the data is not a FLAC frame")
	empty := flacFrames(2, 16)
	second := 42 + 8 + 1 + 2*16 + 2
	noSubframe := cat(empty[:42+8], binary.BigEndian.AppendUint16(nil, flacCRC16(0, empty[42:42+8])), empty[second:])
	wantRefused(t, "FLAC frame with a header and a CRC-16 but no subframe", noSubframe, FLAC, "has no subframe")
	switched := cat(empty)
	switched[second+1] = 0xF9 // the second frame says variable block size; the first, fixed
	switched[second+7] = flacCRC8(switched[second : second+7])
	binary.BigEndian.PutUint16(switched[len(switched)-2:], flacCRC16(0, switched[second:len(switched)-2]))
	wantRefused(t, "FLAC whose blocking strategy changes", switched, FLAC, "changes the blocking strategy")
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

func TestCraftedWAVFromIssue9(t *testing.T) {
	b := testutil.CraftedWAV()
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

// apeTag is an APEv2 tag holding one item, with or without its header.
func apeTag(header bool) []byte {
	item := cat(binary.LittleEndian.AppendUint32(nil, 5), make([]byte, 4), []byte("Title\x00hello"))
	frame := func(flags uint32) []byte {
		b := cat([]byte("APETAGEX"), binary.LittleEndian.AppendUint32(nil, 2000), binary.LittleEndian.AppendUint32(nil, uint32(len(item)+32)),
			binary.LittleEndian.AppendUint32(nil, 1), binary.LittleEndian.AppendUint32(nil, flags), make([]byte, 8))
		return b
	}
	if !header {
		return cat(item, frame(0))
	}
	return cat(frame(1<<31|1<<29), item, frame(1<<31))
}

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

// webmChild is the first element id of b's Segment.
func webmChild(t testing.TB, b []byte, id uint32) []byte {
	t.Helper()
	for p := webmFirstChild(t, b); p < len(b); {
		got, size, n, _, err := ebmlElement(b[p:])
		if err != nil {
			t.Fatal(err)
		}
		if got == id {
			return b[p : p+n+size]
		}
		p += n + size
	}
	t.Fatalf("no element %#x", id)
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

// Each rule of each walk, broken alone: the refusal names that rule.
func TestCheckStructureRefusesEachMalformation(t *testing.T) {
	all := samples(t)
	bare := all["lame-bare.mp3"] // MPEG-2.5 layer III, 32 kbit/s, 8 kHz: header ff e3 48 c4
	mp3Header := func(h string) []byte { return cat([]byte(h), bare[4:]) }

	vorbis := all["vorbis.ogg"]
	oggFirst := func(at int, v byte) []byte { // one byte of the first page changed, its CRC made to fit
		b := cat(vorbis)
		b[at] = v
		page := oggPageLength(b)
		binary.LittleEndian.PutUint32(b[22:], 0)
		binary.LittleEndian.PutUint32(b[22:], oggCRC(0, b[:page]))
		return b
	}
	cutPage := cat(vorbis[:27])
	cutPage[26] = 255

	mvhd := boxOf("mvhd", make([]byte, 100))
	ftyp := boxOf("ftyp", []byte("isom\x00\x00\x02\x00isom"))

	webm := all["piped.webm"] // an EBML header, then a Segment of unknown size
	seg := webmSegmentStart(t, webm)
	inSegment := func(elements ...[]byte) []byte { return cat(append([][]byte{webm}, elements...)...) }
	openCluster := []byte{0x1F, 0x43, 0xB6, 0x75, 0xFF} // a Cluster of unknown size (1-byte VINT)

	wav := all["sine.wav"]

	flac := flacFrames(2, 16) // header of frame 0 at 42: ff f8 74 08 00 00 0f CRC-8
	frame0 := 42
	stereo := cat(flac)
	stereo[4+4+12] |= 1 << 1                             // STREAMINFO: two channels
	withHeaderIn := func(base []byte, h string) []byte { // frame 0's header replaced (CRC-8 computed), its body kept
		head := cat([]byte(h), []byte{flacCRC8([]byte(h))})
		return cat(base[:frame0], head, base[frame0+8:])
	}
	withHeader := func(h string) []byte { return withHeaderIn(flac, h) }
	noRate := cat(flac)
	noRate[4+4+10], noRate[4+4+11], noRate[4+4+12] = 0, 0, noRate[4+4+12]&0x0F
	ebmlHeader := []byte("\x1a\x45\xdf\xa3\x8a\x42\x82\x84webm\x42\x87\xff") // DocType, then a DocTypeVersion of unknown size
	badCRC8 := cat(flac)
	badCRC8[frame0+7] ^= 1

	for _, tc := range []struct {
		what   string
		f      Format
		b      []byte
		reason string
	}{
		{"MPEG version 'reserved'", MP3, mp3Header("\xff\xeb\x48\xc4"), "reserved values"},
		{"MPEG layer 'reserved'", MP3, mp3Header("\xff\xe1\x48\xc4"), "reserved values"},
		{"MPEG sample rate 'reserved'", MP3, mp3Header("\xff\xe3\x4c\xc4"), "reserved values"},
		{"MPEG emphasis 'reserved'", MP3, mp3Header("\xff\xe3\x48\xc6"), "reserved values"},
		{"MPEG bitrate index 15", MP3, mp3Header("\xff\xe3\xf8\xc4"), "invalid bitrate"},
		{"MPEG frame cut short", MP3, bare[:100], "cut short"},

		{"Ogg page version 1", OGG, oggFirst(4, 1), "unknown page version or flags"},
		{"Ogg page flag 0x08", OGG, oggFirst(5, 0x0A), "unknown page version or flags"},
		{"Ogg segment table cut short", OGG, cutPage, "cut short"},
		{"Ogg page header cut short", OGG, vorbis[:26], "not an Ogg page"},

		{"ftyp of 6 bytes", MP4, cat(boxOf("ftyp", []byte("isom\x00\x00")), boxOf("moov", mvhd)), "ftyp box is malformed"},
		{"ftyp with half a brand", MP4, cat(boxOf("ftyp", []byte("isom\x00\x00\x02\x00is")), boxOf("moov", mvhd)), "ftyp box is malformed"},
		{"a box type that is not printable", MP4, cat(ftyp, boxOf("moov", mvhd), boxOf("\x00\x01\x02\x03", nil)), "not printable"},
		{"a box smaller than its header", MP4, cat(ftyp, boxOf("moov", mvhd), []byte("\x00\x00\x00\x04free")), "smaller than its header"},
		{"a 64-bit size smaller than its header", MP4, cat(ftyp, boxOf("moov", mvhd), []byte("\x00\x00\x00\x01free\x00\x00\x00\x00\x00\x00\x00\x08")), "smaller than its header"},
		{"a 64-bit box header cut short", MP4, cat(ftyp, boxOf("moov", mvhd), []byte("\x00\x00\x00\x01mdat\x00\x00")), "64-bit box header is cut short"},
		{"a box header cut short", MP4, cat(ftyp, boxOf("moov", mvhd), []byte("\x00\x00\x00")), "box header is cut short"},

		{"an EBML header of unknown size", WebM, cat([]byte{0x1A, 0x45, 0xDF, 0xA3, 0xFF}, webm[5:]), "does not begin with an EBML header"},
		{"an EBML header child of unknown size", WebM, cat(ebmlHeader, webm[seg:]), "EBML header is malformed"},
		{"a Cluster where the Segment should be", WebM, cat(webm[:seg], lastCluster(t, webm)), "has no Segment"},
		{"an element ID of 5 bytes", WebM, inSegment([]byte{0x08, 1, 2, 3, 4, 0x80}), "element ID is malformed"},
		{"the reserved element ID 0xFF", WebM, inSegment([]byte{0xFF, 0x80}), "element ID is reserved"},
		{"the invalid element ID 0x80", WebM, inSegment([]byte{0x80, 0x80}), "element ID is reserved"},
		{"an element size of 9 bytes", WebM, inSegment([]byte{0xEC, 0x00, 0, 0, 0, 0, 0, 0, 0, 0}), "element size is malformed"},
		{"an element size cut short", WebM, inSegment([]byte{0xEC, 0x40}), "element size is malformed or cut short"},
		{"an element ID cut short", WebM, inSegment([]byte{0x1F, 0x43}), "element ID is malformed or cut short"},
		{"a Cluster child of unknown size", WebM, inSegment(openCluster, []byte{0xA3, 0xFF, 0x81, 0x00}), "an element in a Cluster has an unknown size"},
		{"an Info child of unknown size", WebM, inSegment(ebmlEl([]byte{0x15, 0x49, 0xA9, 0x66}, []byte{0x2A, 0xD7, 0xB1, 0xFF})), "unknown size where that is not allowed"},

		{"RIFF that is not WAVE", WAV, cat([]byte("RIFF"), wav[4:8], []byte("AVI "), wav[12:]), "does not begin with a RIFF/WAVE header"},
		{"RIFX", WAV, cat([]byte("RIFX"), wav[4:]), "does not begin with a RIFF/WAVE header"},
		{"a chunk header cut short", WAV, withRIFFSize(cat(wav, []byte("LIST"))), "chunk header is cut short"},
		{"a chunk whose ID is not printable", WAV, withRIFFSize(cat(wav, []byte("\x00\x01\x02\x03\x00\x00\x00\x00"))), "the data is not a chunk"},

		{"fLaX", FLAC, cat([]byte("fLaX"), flac[4:]), "does not begin with fLaC"},
		{"metadata cut short", FLAC, flac[:20], "metadata is cut short"},
		{"a metadata block header cut short", FLAC, flac[:4+2], "metadata is cut short"},
		{"no sync code", FLAC, withHeader("\xff\xf0\x74\x08\x00\x00\x0f"), "not a FLAC frame"},
		{"block size code 0", FLAC, withHeader("\xff\xf8\x04\x08\x00"), "not a FLAC frame"},
		{"sample rate code 15", FLAC, withHeader("\xff\xf8\x7f\x08\x00\x00\x0f"), "not a FLAC frame"},
		{"channel code 11 in a stereo stream", FLAC, withHeaderIn(stereo, "\xff\xf8\x74\xb8\x00\x00\x0f"), "not a FLAC frame"},
		{"a STREAMINFO without a sample rate", FLAC, noRate, "no sample rate"},
		{"a frame header of 4 bytes", FLAC, flac[:frame0+4], "not a FLAC frame"},
		{"sample size code 3", FLAC, withHeader("\xff\xf8\x74\x06\x00\x00\x0f"), "not a FLAC frame"},
		{"the reserved bit set", FLAC, withHeader("\xff\xf8\x74\x09\x00\x00\x0f"), "not a FLAC frame"},
		{"8-bit samples where STREAMINFO says 16", FLAC, withHeader("\xff\xf8\x74\x02\x00\x00\x0f"), "not a FLAC frame"},
		{"16 kHz where STREAMINFO says 8", FLAC, withHeader("\xff\xf8\x75\x08\x00\x00\x0f"), "not a FLAC frame"},
		{"a frame number with a bad continuation byte", FLAC, withHeader("\xff\xf8\x74\x08\xc2\x00\x00\x0f"), "not a FLAC frame"},
		{"a frame number starting with a continuation byte", FLAC, withHeader("\xff\xf8\x74\x08\x80\x00\x0f"), "not a FLAC frame"},
		{"a 7-byte frame number in a fixed-block-size stream", FLAC, withHeader("\xff\xf8\x74\x08\xfe\x80\x80\x80\x80\x80\x80\x00\x0f"), "not a FLAC frame"},
		{"a frame header whose CRC-8 does not match", FLAC, badCRC8, "not a FLAC frame"},
		{"a frame header cut short", FLAC, flac[:frame0+5], "not a FLAC frame"},
		{"a frame header cut short before its block size", FLAC, flac[:frame0+6], "not a FLAC frame"},
		{"a frame number cut short", FLAC, cat(flac[:frame0], []byte("\xff\xf8\x74\x08\xe0\x80")), "not a FLAC frame"},
	} {
		wantRefused(t, tc.what, tc.b, tc.f, tc.reason)
	}
}

// ---- real-world quirks, accepted narrowly ----

// mp3Frames are where an MP3 file's frames begin (the last may be cut
// short by the end of the file) and where they end (a trailing tag, or the
// end of the file), read from the whole file.
func mp3Frames(t testing.TB, b []byte) (starts []int, end int) {
	t.Helper()
	p := mustID3Skip(t, b)
	for p > 0 && p < len(b) && b[p] == 0 {
		p++ // zero padding after the ID3v2 tag
	}
	for p < len(b) && !mp3TrailerIs(b[p:]) {
		starts = append(starts, p)
		p += mustFrame(t, b[p:])
	}
	return starts, min(p, len(b))
}

func mustID3Skip(t testing.TB, b []byte) int {
	t.Helper()
	p, err := id3v2Skip(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wavData is where a WAV file's data chunk begins, and its declared size.
func wavData(t testing.TB, b []byte) (at int, size uint32) {
	t.Helper()
	for p := 12; p+8 <= len(b); {
		size := binary.LittleEndian.Uint32(b[p+4:])
		if string(b[p:p+4]) == "data" {
			return p, size
		}
		p += 8 + int(size) + int(size&1)
	}
	t.Fatal("no data chunk")
	return 0, 0
}

// withWAVSizes is a copy of b with its RIFF size and its data chunk's size set.
func withWAVSizes(t testing.TB, b []byte, riff, data uint32) []byte {
	t.Helper()
	at, _ := wavData(t, b)
	out := cat(b)
	binary.LittleEndian.PutUint32(out[4:], riff)
	binary.LittleEndian.PutUint32(out[at+4:], data)
	return out
}

// A file cut anywhere is refused, except where the end of the file may
// fall: an MP3 cut inside a frame after at least one whole frame, its
// header whole, and a WAV cut inside its data chunk (the last), so that the
// sizes its header gives are more than it holds. Every cut of every real
// MP3 and WAV file is tried against that rule, stated from the whole file.
func TestCheckStructureAcceptsACutFileOnlyInsideItsLastPart(t *testing.T) {
	accepted := 0
	for name, b := range samples(t) {
		f, _ := Sniff(b)
		var want func(n int) bool
		switch f {
		case MP3:
			starts, end := mp3Frames(t, b)
			want = func(n int) bool {
				k := -1 // the frame the cut falls in or begins
				for i, s := range starts {
					if s <= n {
						k = i
					}
				}
				switch {
				case k < 0 || n > end: // in the ID3v2 tag or its padding, in a trailing tag
					return false
				case n == end || n == starts[k]: // between frames: the cut is a whole file
					return n > starts[0]
				}
				return k >= 1 && n-starts[k] >= 4 // inside a frame after a whole one, its header whole
			}
		case WAV:
			at, size := wavData(t, b)
			want = func(n int) bool { return n >= at+8 && int64(n-at-8) < int64(size) }
		default:
			continue
		}
		for n := 1; n < len(b); n++ {
			err := checkStructure(b[:n:n], f)
			if err != nil && !errors.Is(err, ErrRejected) {
				t.Fatalf("%s cut at %d: %v", name, n, err)
			}
			if got := err == nil; got != want(n) {
				t.Errorf("%s cut at byte %d of %d: accepted %v, want %v (%v)", name, n, len(b), got, want(n), err)
			}
			if err == nil {
				accepted++
			}
		}
	}
	if accepted == 0 {
		t.Fatal("no cut was accepted: the rule is not exercised")
	}
}

// What may follow an open end: only what continues the last part.
func TestCheckStructureOpenEndsTakeOnlyTheirLastPart(t *testing.T) {
	all := samples(t)
	cut := all["cut.mp3"]
	starts, _ := mp3Frames(t, cut)
	last := starts[len(starts)-1]
	missing := last + mustFrame(t, cut[last:]) - len(cut)
	if missing <= 0 || missing >= len(pdfDoc) {
		t.Fatalf("cut.mp3 misses %d bytes of its last frame", missing)
	}
	if err := checkStructure(cat(cut, pdfDoc[:missing]), MP3); err != nil {
		t.Errorf("cut.mp3 with its last frame made whole by any bytes: %v", err)
	}
	wantRefused(t, "cut.mp3 with a PDF appended", cat(cut, pdfDoc), MP3, fmt.Sprintf("malformed at byte %d: the data is not an MPEG audio frame", len(cut)+missing))
	wantRefused(t, "cut.mp3 with a ZIP appended", cat(cut, zipDoc), MP3, "the data is not an MPEG audio frame")
	wantRefused(t, "cut.mp3 with an ID3v1 tag appended", cat(cut, all["lame-tags.mp3"][len(all["lame-tags.mp3"])-128:]), MP3, "the data is not an MPEG audio frame")

	// A WAV whose header leaves the end of its data open takes what is
	// appended as samples, which are never inspected (as a PDF as the
	// samples of a complete WAV is not: TestCheckStructureDoesNotInspectPayloads).
	for _, name := range []string{"piped.wav", "sox-piped.wav"} {
		b := cat(all[name], pdfDoc)
		if err := checkStructure(b, WAV); err != nil {
			t.Errorf("%s with more samples: %v", name, err)
		}
		at, _ := wavData(t, b)
		if got, want := Duration(b, WAV), math.Round(float64(len(b)-at-8)/16000*100)/100; got != want {
			t.Errorf("%s with more samples lasts %v s, want %v", name, got, want)
		}
	}
}

func TestCheckStructureMP3Quirks(t *testing.T) {
	all := samples(t)
	bare := all["lame-bare.mp3"] // MPEG-2.5 layer III, 32 kbit/s, 8 kHz: 288-byte frames, header ff e3 48 c4
	frame := mustFrame(t, bare)
	tag := []byte("ID3\x03\x00\x00\x00\x00\x00\x0aTIT2\x00\x00\x00\x00\x00\x00") // an ID3v2.3 tag with an empty title frame

	for what, b := range map[string][]byte{
		"64 KiB of zero bytes between the ID3v2 tag and the frames": cat(tag, make([]byte, 64<<10), bare),
		"one zero byte between the ID3v2 tag and the frames":        cat(tag, []byte{0}, bare),
		"zero padding after two ID3v2 tags":                         cat(tag, tag, make([]byte, 100), bare),
		"two whole frames and 4 bytes of a third":                   bare[:2*frame+4],
		"an ID3v2 tag, padding, a whole frame and a cut one":        cat(tag, make([]byte, 10), bare[:frame+100]),
	} {
		if err := checkStructure(b[:len(b):len(b)], MP3); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}

	// Each leniency, abused.
	long := bytes.Repeat(pdfDoc, frame/len(pdfDoc)+2)
	for _, tc := range []struct {
		what   string
		b      []byte
		reason string
	}{
		{"a PDF after a frame header that is not at the end of the file", cat(bare[:2*frame], bare[:4], long), fmt.Sprintf("malformed at byte %d: the data is not an MPEG audio frame", 3*frame)},
		{"a frame header and a PDF, no whole frame before", cat(bare[:4], pdfDoc), "the MPEG audio frame is cut short"},
		{"an ID3v2 tag, padding, a frame header and a PDF", cat(tag, make([]byte, 16), bare[:4], pdfDoc), "the MPEG audio frame is cut short"},
		{"a cut frame of another sample rate", cat(bare[:frame], []byte{0xFF, 0xE3, 0x44, 0xC4}, pdfDoc), "differs from the first frame's"},
		{"half a frame header at the end", cat(bare[:frame], bare[:2]), "the data is not an MPEG audio frame"},
		{"a PDF in the padding after the ID3v2 tag", cat(tag, make([]byte, 16), pdfDoc, bare), "malformed at byte 36: the data is not an MPEG audio frame"},
		{"a non-zero byte in the padding", cat(tag, make([]byte, 16), []byte{1}, make([]byte, 16), bare), "malformed at byte 36"},
		{"64 KiB and one zero bytes after the ID3v2 tag", cat(tag, make([]byte, 64<<10+1), bare), "more than 65536 zero bytes after its ID3v2 tag"},
		{"zero bytes between frames", cat(bare[:frame], make([]byte, 16), bare[frame:]), fmt.Sprintf("malformed at byte %d", frame)},
		{"zero bytes before the frames, no ID3v2 tag", cat(make([]byte, 16), bare), "malformed at byte 0"},
		{"zero bytes after the frames", cat(bare, make([]byte, 16)), "the data is not an MPEG audio frame"},
		{"an ID3v2 tag and padding, no frames", cat(tag, make([]byte, 100)), "no MPEG audio frames"},
	} {
		wantRefused(t, tc.what, tc.b, MP3, tc.reason)
	}
}

func TestCheckStructureFLACTags(t *testing.T) {
	all := samples(t)
	tool := all["flac-tool.flac"]
	v1 := all["id3v1.flac"][len(all["id3v1.flac"])-128:]
	id3lib := all["id3lib.flac"]
	v2 := id3lib[:mustID3Skip(t, id3lib)]
	if string(v1[:3]) != "TAG" || len(v2) < 10 || !bytes.Equal(id3lib[len(v2):len(id3lib)-128], tool) {
		t.Fatal("the samples are not flac-tool.flac with tags added")
	}
	for what, b := range map[string][]byte{
		"an ID3v1 tag after Go-built frames": cat(flacFrames(3, 64), v1),
		"an ID3v2.4 tag before fLaC":         cat([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), tool),
		"two ID3v2 tags before fLaC":         cat(v2, v2, tool),
	} {
		if f, err := Sniff(b); err != nil || f != FLAC {
			t.Errorf("%s: sniffs as %v %v", what, f.MIME, err)
		}
		if err := checkStructure(b[:len(b):len(b)], FLAC); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	if d := Duration(id3lib, FLAC); d != 0.5 {
		t.Errorf("the FLAC with an ID3v2 tag before it lasts %v s, want 0.5", d)
	}
	// Sniff reads the ID3v2 tags only when its head holds them: longer ones
	// (a picture) need the whole file, which Upload gives it.
	if f, _ := Sniff(id3lib[:len(v2)+3]); f != MP3 {
		t.Errorf("ID3v2 tags not followed by fLaC in the head sniff as %s", f.MIME)
	}

	zip128 := cat(zipDoc, make([]byte, 128-len(zipDoc)))
	three := flacFrames(3, 64) // the samples have one frame each: these have several
	second := 4 + 4 + 34 + (len(three)-(4+4+34))/3
	for _, tc := range []struct {
		what   string
		b      []byte
		reason string
	}{
		{"a ZIP in place of the ID3v1 tag", cat(tool, zip128), "malformed in the frame"},
		{"a PDF between the last of three frames and the ID3v1 tag", cat(three, pdfDoc, v1), "malformed in the frame"},
		{"a PDF between two of three frames, an ID3v1 tag after them", cat(three[:second], pdfDoc, three[second:], v1), "malformed in the frame"},
		{"an ID3v1 tag then a PDF", cat(tool, v1, pdfDoc), "malformed in the frame"},
		{"a PDF then an ID3v1 tag", cat(tool, pdfDoc, v1), "malformed in the frame"},
		{"an ID3v1 tag one byte short", cat(tool, v1[:127]), "malformed in the frame"},
		{"an ID3v1 tag one byte long", cat(tool, v1, []byte{0}), "malformed in the frame"},
		{"two ID3v1 tags", cat(tool, v1, v1), "malformed in the frame"},
		{"an ID3v1 tag and no frames", cat(flacFrames(1, 16)[:4+4+34], v1), "no audio frames"},
		{"an ID3v2 tag before a PDF", cat(v2, pdfDoc), "does not begin with fLaC"},
		{"an ID3v2 tag claiming more than the file", cat([]byte("ID3\x03\x00\x00\x00\x00\x7f\x7f"), tool), "ID3v2 tag is cut short"},
		{"zero padding between the ID3v2 tag and fLaC", cat(v2, make([]byte, 16), tool), "does not begin with fLaC"},
	} {
		wantRefused(t, tc.what, tc.b, FLAC, tc.reason)
	}
	// As sniffed, an ID3v2 tag before anything but fLaC is an MP3's.
	wantRefused(t, "an ID3v2 tag before a PDF, as sniffed", cat(v2, pdfDoc), MP3, "the data is not an MPEG audio frame")
}

func TestCheckStructureWAVWrittenToAPipe(t *testing.T) {
	all := samples(t)
	sine := all["sine.wav"] // fmt, LIST, then data: 8000 bytes at 16000 bytes a second
	at, size := wavData(t, sine)
	whole := uint32(at) + size // the RIFF size had the data been size bytes (data body at at+8, less 8)
	for what, b := range map[string][]byte{
		"ffmpeg to a pipe":                        all["piped.wav"],
		"sox to a pipe":                           all["sox-piped.wav"],
		"RIFF size 0, data size 0":                withWAVSizes(t, sine, 0, 0),
		"RIFF size 0, data size 0xFFFFFFFF":       withWAVSizes(t, sine, 0, 0xFFFFFFFF),
		"RIFF size 0xFFFFFFFF, data size 0":       withWAVSizes(t, sine, 0xFFFFFFFF, 0),
		"arecord to a pipe (data 0x7FFFFF00)":     withWAVSizes(t, sine, 0x7FFFFF00+uint32(at), 0x7FFFFF00),
		"cut inside its data":                     sine[:len(sine)-1000],
		"an odd data size whose pad byte counted": withWAVSizes(t, sine[:len(sine)-2], whole+2, size+1),
	} {
		if err := checkStructure(b[:len(b):len(b)], WAV); err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		dataAt, _ := wavData(t, b)
		if got, want := Duration(b, WAV), math.Round(float64(len(b)-dataAt-8)/16000*100)/100; got != want {
			t.Errorf("%s: Duration = %v, want %v (the data the file holds)", what, got, want)
		}
	}

	// Each leniency, abused: the data must be the last chunk, running to
	// the end, and the sizes exactly what such writers leave.
	lastChunk := cat([]byte("LIST"), binary.LittleEndian.AppendUint32(nil, uint32(len(pdfDoc))), pdfDoc)
	for _, tc := range []struct {
		what   string
		b      []byte
		reason string
	}{
		{"a streamed WAV with a chunk after its data", cat(withWAVSizes(t, sine, 0xFFFFFFFF, size), lastChunk), "RIFF size does not match"},
		{"a streamed WAV whose data has its real size", withWAVSizes(t, sine, 0xFFFFFFFF, size), "RIFF size does not match"},
		{"a RIFF size 0 with sox's data size", withWAVSizes(t, sine, 0, 0x7FFFF000), "RIFF size does not match"},
		{"sox's data size with a RIFF size one more", withWAVSizes(t, sine, 0x7FFFF000+uint32(at)+1, 0x7FFFF000), "RIFF size does not match"},
		{"sox's data size with a RIFF size one less", withWAVSizes(t, sine, 0x7FFFF000+uint32(at)-1, 0x7FFFF000), "RIFF size does not match"},
		{"a data size past the end in a file whose RIFF size fits", withWAVSizes(t, sine, uint32(len(sine)-8), 0xFFFFFFFF), "reaches past the end"},
		{"a streamed WAV without a data chunk", withRIFFSize(cat(sine[:at], lastChunk)), "no fmt or no data chunk"},
		{"a streamed WAV's data before its fmt", cat(sine[:12], []byte("data\xff\xff\xff\xff"), sine[12:at], pdfDoc), "not the one data chunk after the fmt chunk"},
		{"a streamed WAV whose LIST reaches past the end", cat(withWAVSizes(t, sine, 0xFFFFFFFF, 0xFFFFFFFF)[:36], []byte("LIST\xff\xff\xff\x7f"), pdfDoc), "reaches past the end"},
		{"a RIFF size less than the file with the data's size past it", withWAVSizes(t, cat(sine, pdfDoc), uint32(len(sine)-8), size+1), "RIFF size does not match"},
	} {
		wantRefused(t, tc.what, tc.b, WAV, tc.reason)
	}
	streamedNoData := cat(sine[:at], lastChunk)
	binary.LittleEndian.PutUint32(streamedNoData[4:], 0xFFFFFFFF)
	wantRefused(t, "a streamed WAV without a data chunk", streamedNoData, WAV, "RIFF size does not match")
}
