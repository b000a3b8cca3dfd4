package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"math"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

// Fuzz targets for every parser here that reads uploaded bytes and is not
// an image decoder (ProcessImage has its own). Each passes its input with no
// spare capacity, data[:len(data):len(data)]: a read past len but within cap
// does not panic, and that is how issue 9's WAV went unnoticed. They are
// seeded with the real files of testdata/ and small Go-built ones, never
// with a known crash, so what they find they find by mutation.

// seedSamples adds every testdata file whose sniffed format is one of fs
// (all of them when fs is empty).
func seedSamples(f *testing.F, fs ...Format) {
	for _, b := range samples(f) {
		got, err := Sniff(b)
		if err != nil {
			f.Fatal(err)
		}
		for _, want := range fs {
			if got == want {
				f.Add(b)
			}
		}
		if len(fs) == 0 {
			f.Add(b)
		}
	}
}

// refusal fails the fuzz run unless err is nil or a readable rejection.
func refusal(t *testing.T, err error) {
	if err != nil && !errors.Is(err, ErrRejected) {
		t.Fatalf("an error that is not a rejection: %v", err)
	}
}

func FuzzSniff(f *testing.F) {
	seedSamples(f)
	for _, s := range []string{"", "\xff\xfb", "RIFF\x00\x00\x00\x00WAVE", "\x00\x00\x00\x08ftyp", "\x1a\x45\xdf\xa3webm", "GIF89a", "\x89PNG\r\n\x1a\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = data[:len(data):len(data)]
		got, err := Sniff(data)
		refusal(t, err)
		if err == nil && got.MIME == "" {
			t.Fatal("accepted without a format")
		}
	})
}

// fuzzDuration fuzzes Duration for one format, and so the container
// reader behind it. Seeds are small files: a mutation that moves a chunk's
// end next to the end of the input is likelier in 60 bytes than in 8 KB.
func fuzzDuration(f *testing.F, format Format, seeds ...[]byte) {
	for _, b := range seeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = data[:len(data):len(data)]
		if d := Duration(data, format); d < 0 || d > 24*3600 || math.IsNaN(d) {
			t.Fatalf("duration %v", d)
		}
	})
}

// FuzzDurationWAV fuzzes wavDuration.
func FuzzDurationWAV(f *testing.F) {
	wav := testutil.WAV([]byte{1, 2, 3, 4})
	junk := append([]byte("JUNK\x04\x00\x00\x00\x00\x00\x00\x00"), wav[12:]...) // a JUNK chunk before fmt, as BWF writers leave
	// Sizes a pipe left open: the data runs to the end.
	streamed := testutil.WAV([]byte{1, 2, 3, 4})
	binary.LittleEndian.PutUint32(streamed[4:], 0xFFFFFFFF)
	binary.LittleEndian.PutUint32(streamed[40:], 0)
	fuzzDuration(f, WAV, wav, withRIFFSize(append(wav[:12:12], junk...)), streamed)
}

// FuzzDurationMP4 fuzzes mp4Duration and findBox.
func FuzzDurationMP4(f *testing.F) {
	fuzzDuration(f, MP4, testutil.MP4(nil), testutil.MP4([]byte("data")))
}

// FuzzDurationFLAC fuzzes flacDuration.
func FuzzDurationFLAC(f *testing.F) {
	fuzzDuration(f, FLAC, flacFrames(1, 16))
}

// fuzzStructure fuzzes one container walk, seeded with files of its format.
func fuzzStructure(f *testing.F, format Format, more ...[]byte) {
	seedSamples(f, format)
	for _, b := range more {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = data[:len(data):len(data)]
		refusal(t, checkStructure(data, format))
	})
}

// The small seeds below reach each leniency of the walks: a cut last MP3
// frame, zero padding after an ID3v2 tag, ID3 tags around FLAC frames, a
// WAV whose sizes a pipe left open.
func FuzzCheckMP3(f *testing.F) {
	frame := append([]byte{0xFF, 0xE3, 0x48, 0xC4}, make([]byte, 284)...) // MPEG-2.5 layer III, 288 bytes
	fuzzStructure(f, MP3, []byte("\xff\xfb\x90\x64%PDF-1.4"), []byte("ID3\x04\x00\x00\x00\x00\x00\x00"),
		append(frame[:288:288], frame[:40]...), append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00"), frame...))
}

func FuzzCheckOgg(f *testing.F) { fuzzStructure(f, OGG) }

func FuzzCheckISOBMFF(f *testing.F) { fuzzStructure(f, MP4, testutil.MP4([]byte("x"))) }

func FuzzCheckWebM(f *testing.F) { fuzzStructure(f, WebM) }

func FuzzCheckWAV(f *testing.F) {
	streamed := testutil.WAV([]byte{1, 2, 3, 4})
	binary.LittleEndian.PutUint32(streamed[4:], 0xFFFFFFFF)
	binary.LittleEndian.PutUint32(streamed[40:], 0xFFFFFFFF)
	guessed := testutil.WAV([]byte{1, 2, 3, 4})
	binary.LittleEndian.PutUint32(guessed[4:], 0x7FFFF000+36)
	binary.LittleEndian.PutUint32(guessed[40:], 0x7FFFF000)
	fuzzStructure(f, WAV, testutil.WAV([]byte{1, 2, 3}), streamed, guessed)
}

func FuzzCheckFLAC(f *testing.F) {
	v1 := append([]byte("TAG"), make([]byte, 125)...)
	fuzzStructure(f, FLAC, flacFrames(3, 16), append(flacFrames(2, 16), v1...), append([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"), flacFrames(2, 16)...))
}

// FuzzCheckNoMarkup compares the windowed scan with a plain search of the
// whole file lowered to ASCII lower case: a marker straddling two windows
// must not slip through.
func FuzzCheckNoMarkup(f *testing.F) {
	f.Add([]byte("<ScRiPt>"), 0)
	f.Add([]byte("x javascript: y"), 32<<10-5)
	f.Add([]byte(`"@CONTEXT"`), 32<<10-4)
	f.Fuzz(func(t *testing.T, data []byte, pad int) {
		pad = min(max(pad, 0), 200<<10) // put the input anywhere around the window edges
		b := append(make([]byte, pad, pad+len(data)), data...)
		b = b[:len(b):len(b)]
		lower := make([]byte, len(b)) // the reference: the whole file in ASCII lower case
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		want := false
		for _, m := range markup {
			want = want || bytes.Contains(lower, m)
		}
		err := checkNoMarkup(b)
		refusal(t, err)
		if (err != nil) != want {
			t.Fatalf("checkNoMarkup = %v; a search of the whole file finds markup: %v", err, want)
		}
	})
}

func FuzzJPEGOrientation(f *testing.F) {
	var j bytes.Buffer
	if err := jpeg.Encode(&j, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		f.Fatal(err)
	}
	f.Add(j.Bytes())
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x16Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00"))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x16Exif\x00\x00II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		data = data[:len(data):len(data)]
		if o := jpegOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

func FuzzGIFFrames(f *testing.F) {
	pal := color.Palette{color.Black, color.White}
	anim := &gif.GIF{}
	for range 3 {
		anim.Image = append(anim.Image, image.NewPaletted(image.Rect(0, 0, 8, 8), pal))
		anim.Delay = append(anim.Delay, 10)
	}
	var g bytes.Buffer
	if err := gif.EncodeAll(&g, anim); err != nil {
		f.Fatal(err)
	}
	f.Add(g.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		data = data[:len(data):len(data)]
		if frames, pixels := gifFrames(data); frames < 0 || pixels < 0 || int64(frames) > int64(len(data)) {
			t.Fatalf("%d frames, %d pixels from %d bytes", frames, pixels, len(data))
		}
	})
}

func FuzzParseFocus(f *testing.F) {
	for _, s := range []string{"", "0.5,-0.2", "nan,nan", "0.5,0.5,0.5", "inf,0", "1e0,-1", " 0 , 0 ", "0x1p-1,0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, y, err := parseFocus(s)
		refusal(t, err)
		if err == nil && (math.IsNaN(x) || math.IsNaN(y) || x < -1 || x > 1 || y < -1 || y > 1) {
			t.Fatalf("parseFocus(%q) = %v, %v", s, x, y)
		}
	})
}
