package media

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

// ---- fixtures, all generated here ----

// gradient is an image whose every pixel differs a little, so a lossless
// round trip can be checked pixel by pixel.
func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 7), uint8(y * 13), uint8(x*y + 40), 255})
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gpsMark is the numerator of the GPS latitude seconds in the EXIF fixture:
// four bytes that occur nowhere else.
const gpsMark = "\x0B\xAD\xCA\xFE"

// exifGPSSegment is an APP1 segment: "Exif\0\0" and a big-endian TIFF whose
// IFD0 points (tag 0x8825) at a GPS IFD with GPSLatitudeRef and GPSLatitude.
func exifGPSSegment() []byte {
	var t bytes.Buffer
	be16 := func(v uint16) { binary.Write(&t, binary.BigEndian, v) }
	be32 := func(v uint32) { binary.Write(&t, binary.BigEndian, v) }
	t.WriteString("MM\x00\x2a")
	be32(8) // IFD0 offset
	// IFD0 at 8: one entry, the GPS IFD pointer.
	be16(1)
	be16(0x8825)
	be16(4) // LONG
	be32(1)
	be32(26) // GPS IFD offset
	be32(0)  // no next IFD
	// GPS IFD at 26: latitude reference and latitude.
	be16(2)
	be16(0x0001)
	be16(2) // ASCII
	be32(2)
	t.WriteString("N\x00\x00\x00")
	be16(0x0002)
	be16(5) // RATIONAL
	be32(3)
	be32(56) // value offset
	be32(0)
	// Values at 56: 52/1, 31/1, gpsMark/10000.
	be32(52)
	be32(1)
	be32(31)
	be32(1)
	t.WriteString(gpsMark)
	be32(10000)

	var seg bytes.Buffer
	seg.WriteString("\xFF\xE1")
	binary.Write(&seg, binary.BigEndian, uint16(2+6+t.Len()))
	seg.WriteString("Exif\x00\x00")
	seg.Write(t.Bytes())
	return seg.Bytes()
}

// jpegWithGPS is a real JPEG with the EXIF/GPS segment right after SOI.
func jpegWithGPS(t testing.TB, img image.Image) []byte {
	t.Helper()
	j := encodeJPEG(t, img)
	out := append([]byte{}, j[:2]...)
	out = append(out, exifGPSSegment()...)
	return append(out, j[2:]...)
}

// jpegMarkers lists the markers of a JPEG's segments from SOI to SOS.
func jpegMarkers(t testing.TB, b []byte) []byte {
	t.Helper()
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		t.Fatalf("not a JPEG: % x", b[:min(len(b), 4)])
	}
	var markers []byte
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			t.Fatalf("JPEG segment at %d does not start with 0xFF", i)
		}
		m := b[i+1]
		markers = append(markers, m)
		if m == 0xDA || m == 0xD9 {
			break
		}
		i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
	}
	return markers
}

// assertNoEXIF fails if b (a JPEG) has an APP1 segment, "Exif" or GPS bytes.
func assertNoEXIF(t testing.TB, what string, b []byte) {
	t.Helper()
	if bytes.IndexByte(jpegMarkers(t, b), 0xE1) >= 0 {
		t.Errorf("%s has an APP1 (EXIF) segment", what)
	}
	for _, needle := range []string{"Exif", "MM\x00\x2a", "II\x2a\x00", gpsMark, "\x88\x25\x00\x04"} {
		if bytes.Contains(b, []byte(needle)) {
			t.Errorf("%s still contains %q", what, needle)
		}
	}
}

func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	binary.Write(&b, binary.BigEndian, crc.Sum32())
	return b.Bytes()
}

// pngClaiming is a well-formed PNG header claiming w×h 8-bit grey pixels,
// followed by one small IDAT of zeros and IEND: decoding it would allocate
// w×h bytes before finding the data short.
func pngClaiming(w, h uint32) []byte {
	var ihdr bytes.Buffer
	binary.Write(&ihdr, binary.BigEndian, w)
	binary.Write(&ihdr, binary.BigEndian, h)
	ihdr.Write([]byte{8, 0, 0, 0, 0}) // depth 8, greyscale, deflate, filter 0, no interlace
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 1024))
	zw.Close()
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr.Bytes())...)
	out = append(out, pngChunk("IDAT", z.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

// tallPNG is a real, fully decodable 1×h PNG (a few hundred bytes).
func tallPNG(t testing.TB, h int) []byte {
	return encodePNG(t, image.NewGray(image.Rect(0, 0, 1, h)))
}

// animatedGIF is an n-frame w×h animation, each frame a different colour
// with its own delay, looping 3 times.
func animatedGIF(t testing.TB, n, w, h int) (*gif.GIF, []byte) {
	t.Helper()
	pal := color.Palette{color.Black, color.White, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}}
	g := &gif.GIF{LoopCount: 3}
	for i := 0; i < n; i++ {
		fr := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for p := range fr.Pix {
			fr.Pix[p] = uint8((i + p) % len(pal))
		}
		g.Image = append(g.Image, fr)
		g.Delay = append(g.Delay, 10*(i+1))
		g.Disposal = append(g.Disposal, gif.DisposalNone)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return g, b.Bytes()
}

// webpSolid is a lossless (VP8L) WebP of one colour: no transforms, no
// colour cache, and five one-symbol prefix codes, so every pixel takes zero
// bits. There is no WebP encoder in Go's standard library or x/image.
func webpSolid(w, h int, c color.NRGBA) []byte { return testutil.SolidWebP(w, h, c) }

// webpClaiming is a VP8L WebP header claiming w×h pixels and nothing else.
func webpClaiming(w, h int) []byte { return testutil.WebPClaiming(w, h) }

// jpegClaiming is SOI, a baseline SOF0 claiming w×h and an SOS header (image/jpeg
// reads a header up to SOS), then EOI.
func jpegClaiming(w, h uint16) []byte {
	var b bytes.Buffer
	b.WriteString("\xFF\xD8\xFF\xC0\x00\x11\x08")
	binary.Write(&b, binary.BigEndian, h)
	binary.Write(&b, binary.BigEndian, w)
	b.WriteString("\x03\x01\x22\x00\x02\x11\x00\x03\x11\x00")
	b.WriteString("\xFF\xDA\x00\x0C\x03\x01\x00\x02\x11\x03\x11\x00\x3F\x00\xFF\xD9")
	return b.Bytes()
}

// gifClaiming is a GIF header claiming a w×h screen with one 1×1 frame.
func gifClaiming(w, h uint16) []byte {
	var b bytes.Buffer
	b.WriteString("GIF89a")
	binary.Write(&b, binary.LittleEndian, w)
	binary.Write(&b, binary.LittleEndian, h)
	b.WriteString("\x80\x00\x00\x00\x00\x00\xFF\xFF\xFF")     // 2-colour global table
	b.WriteString("\x2C\x00\x00\x00\x00\x01\x00\x01\x00\x00") // 1×1 frame
	b.WriteString("\x02\x02\x44\x01\x00\x3B")                 // LZW data, trailer
	return b.Bytes()
}

// payload is what hostile uploads append.
const payload = "<html><script>alert(1)</script></html>"

func assertNoPayload(t testing.TB, what string, b []byte) {
	t.Helper()
	low := bytes.ToLower(b)
	for _, needle := range []string{"<script", "<html", "alert", "</"} {
		if bytes.Contains(low, []byte(needle)) {
			t.Errorf("%s still contains %q", what, needle)
		}
	}
}

var testLimits = Limits{MaxPixels: 40_000_000, MaxMemory: 512 << 20}

// ---- tests ----

func TestProcessImageStripsAppendedPayloads(t *testing.T) {
	src := gradient(24, 16)
	_, gifData := animatedGIF(t, 2, 24, 16)
	cases := []struct {
		name string
		data []byte
		in   Format
		out  Format
	}{
		{"PNG", encodePNG(t, src), PNG, PNG},
		{"JPEG", encodeJPEG(t, src), JPEG, JPEG},
		{"GIF", gifData, GIF, GIF},
		{"WebP", webpSolid(24, 16, color.NRGBA{200, 100, 50, 255}), WebP, PNG},
	}
	for _, tc := range cases {
		for _, suffix := range []string{payload, "\n" + payload + "\x00", "/*" + payload + "*/"} {
			hostile := append(append([]byte{}, tc.data...), suffix...)
			f, err := Sniff(hostile)
			if err != nil || f != tc.in {
				t.Fatalf("%s: fixture sniffs as %v, %v", tc.name, f, err)
			}
			out, err := ProcessImage(context.Background(), hostile, f, testLimits)
			if err != nil {
				t.Fatalf("%s+payload: %v", tc.name, err)
			}
			if out.Format != tc.out {
				t.Errorf("%s: stored as %v, want %v", tc.name, out.Format, tc.out)
			}
			assertNoPayload(t, tc.name+" re-encoded", out.Data)
			assertNoPayload(t, tc.name+" preview", out.Thumb)
			if got, err := Sniff(out.Data); err != nil || got != tc.out {
				t.Errorf("%s: re-encoded file sniffs as %v, %v", tc.name, got, err)
			}
			img, format, err := image.Decode(bytes.NewReader(out.Data))
			if err != nil || format != strings.TrimPrefix(tc.out.MIME, "image/") {
				t.Fatalf("%s: re-encoded file does not decode as %s: %q %v", tc.name, tc.out.MIME, format, err)
			}
			if b := img.Bounds(); b.Dx() != 24 || b.Dy() != 16 || out.Size != (Size{24, 16}) {
				t.Errorf("%s: size %v / %v, want 24×16", tc.name, b, out.Size)
			}
			if _, err := jpeg.Decode(bytes.NewReader(out.Thumb)); err != nil {
				t.Errorf("%s: preview is not a JPEG: %v", tc.name, err)
			}
			if out.Blurhash == "" {
				t.Errorf("%s: no blurhash", tc.name)
			}
		}
	}
	// Lossless formats keep their pixels exactly.
	out, err := ProcessImage(context.Background(), append(encodePNG(t, src), payload...), PNG, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := png.Decode(bytes.NewReader(out.Data))
	for y := 0; y < 16; y++ {
		for x := 0; x < 24; x++ {
			if a, b := color.NRGBAModel.Convert(got.At(x, y)), src.At(x, y); a != b {
				t.Fatalf("PNG pixel (%d,%d) = %v, want %v", x, y, a, b)
			}
		}
	}
}

func TestProcessImageRemovesEXIFAndGPS(t *testing.T) {
	data := jpegWithGPS(t, gradient(32, 32))
	// The fixture really carries EXIF with a GPS IFD, and is a valid JPEG.
	if m := jpegMarkers(t, data); len(m) == 0 || m[0] != 0xE1 {
		t.Fatalf("fixture's first segment is % x, want APP1", m)
	}
	for _, needle := range []string{"Exif\x00\x00", "MM\x00\x2a", "\x88\x25\x00\x04", gpsMark} {
		if !bytes.Contains(data, []byte(needle)) {
			t.Fatalf("fixture lacks %q", needle)
		}
	}
	if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("fixture does not decode: %v", err)
	}
	out, err := ProcessImage(context.Background(), data, JPEG, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	assertNoEXIF(t, "re-encoded JPEG", out.Data)
	assertNoEXIF(t, "preview", out.Thumb)
	if _, err := jpeg.Decode(bytes.NewReader(out.Data)); err != nil {
		t.Errorf("re-encoded JPEG does not decode: %v", err)
	}
}

func TestProcessImageChecksPixelsBeforeDecoding(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		f    Format
		want string
	}{
		{"PNG 100000×100000", pngClaiming(100000, 100000), PNG, "100000×100000 pixels"},
		{"PNG 1×2000000000", pngClaiming(1, 2_000_000_000), PNG, "1×2000000000 pixels"},
		{"JPEG 65500×65500", jpegClaiming(65500, 65500), JPEG, "65500×65500 pixels"},
		{"GIF 65535×65535", gifClaiming(65535, 65535), GIF, "65535×65535 pixels"},
		{"WebP 16384×16384", webpClaiming(16384, 16384), WebP, "16384×16384 pixels"},
	}
	for _, tc := range cases {
		if f, err := Sniff(tc.data); err != nil || f != tc.f {
			t.Fatalf("%s: fixture sniffs as %v, %v", tc.name, f, err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := ProcessImage(context.Background(), tc.data, tc.f, testLimits)
		runtime.ReadMemStats(&after)
		readableRejection(t, tc.name, err, tc.want)
		readableRejection(t, tc.name, err, "at most 40000000 pixels are accepted")
		// Decoding even the smallest of these would allocate hundreds of megabytes.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
			t.Errorf("%s: %d bytes allocated: the image was decoded before its size was checked", tc.name, alloc)
		}
	}

	// A real, decodable 1×70000 strip: over a 65536-pixel limit it is refused
	// by its header, under a larger one it goes through.
	tall := tallPNG(t, 70000)
	if len(tall) > 4096 {
		t.Fatalf("tall PNG fixture is %d bytes", len(tall))
	}
	_, err := ProcessImage(context.Background(), tall, PNG, Limits{MaxPixels: 65536})
	readableRejection(t, "1×70000 at 65536", err, "the image is 1×70000 pixels; at most 65536 pixels are accepted")
	out, err := ProcessImage(context.Background(), tall, PNG, Limits{MaxPixels: 70000})
	if err != nil || out.Size != (Size{1, 70000}) {
		t.Fatalf("1×70000 at 70000: %v, %v", out, err)
	}
	if out.ThumbIs.Height != thumbEdge || out.ThumbIs.Width != 1 {
		t.Errorf("preview of 1×70000 is %v", out.ThumbIs)
	}
}

func TestProcessImageKeepsGIFAnimation(t *testing.T) {
	in, data := animatedGIF(t, 3, 20, 10)
	data = append(data, "alert(1)//"+payload...)
	out, err := ProcessImage(context.Background(), data, GIF, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	assertNoPayload(t, "re-encoded GIF", out.Data)
	g, err := gif.DecodeAll(bytes.NewReader(out.Data))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) != 3 || g.LoopCount != in.LoopCount || g.Config.Width != 20 || g.Config.Height != 10 {
		t.Fatalf("re-encoded: %d frames, loop %d, %d×%d", len(g.Image), g.LoopCount, g.Config.Width, g.Config.Height)
	}
	for i := range g.Image {
		if g.Delay[i] != in.Delay[i] {
			t.Errorf("frame %d delay %d, want %d", i, g.Delay[i], in.Delay[i])
		}
		for p := range in.Image[i].Pix {
			if a, b := g.Image[i].At(p%20, p/20), in.Image[i].At(p%20, p/20); color.RGBAModel.Convert(a) != color.RGBAModel.Convert(b) {
				t.Fatalf("frame %d pixel %d changed", i, p)
			}
		}
	}
	if out.Format != GIF || out.Size != (Size{20, 10}) {
		t.Errorf("format %v size %v", out.Format, out.Size)
	}
}

func TestGIFFramesCountsWhatTheDecoderReads(t *testing.T) {
	_, plain := animatedGIF(t, 5, 30, 20)
	// Insert a comment extension of two sub-blocks between the header (and
	// global colour table, if any) and the first block, as real GIFs have.
	at := 13
	if plain[10]&0x80 != 0 {
		at += 3 << (1 + plain[10]&7)
	}
	withExt := append(append(append([]byte{}, plain[:at]...), "\x21\xFE\x05hello\x03abc\x00"...), plain[at:]...)
	for name, data := range map[string][]byte{"plain": plain, "with comment": withExt, "with trailing JS": append(append([]byte{}, plain...), "*/=alert(1)"...)} {
		g, err := gif.DecodeAll(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		frames, pixels := gifFrames(data)
		var want int64
		for _, fr := range g.Image {
			want += int64(fr.Bounds().Dx() * fr.Bounds().Dy())
		}
		if frames != len(g.Image) || pixels != want {
			t.Errorf("%s: gifFrames = %d frames, %d pixels; decoder read %d, %d", name, frames, pixels, len(g.Image), want)
		}
	}
	for _, short := range [][]byte{nil, []byte("GIF89a"), plain[:20], plain[:len(plain)/2]} {
		gifFrames(short) // must not panic on truncated input
	}
}

// A GIF frame bomb: every frame is within the pixel limit, the file is
// small, but DecodeAll would allocate all frames at once.
func TestProcessImageRefusesGIFFrameBombs(t *testing.T) {
	lim := Limits{MaxPixels: 65536}
	// 8 full frames of 256×256: 524288 pixels, twice the 4×65536 budget.
	_, many := animatedGIF(t, 8, 256, 256)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := ProcessImage(context.Background(), many, GIF, lim)
	runtime.ReadMemStats(&after)
	readableRejection(t, "8×256×256 GIF", err, "the GIF's 8 frames hold 524288 pixels in all; at most 262144 are accepted")
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<10 {
		t.Errorf("%d bytes allocated: the frames were decoded before they were counted", alloc)
	}
	// Within the budget the same animation is fine.
	_, few := animatedGIF(t, 3, 256, 256)
	if _, err := ProcessImage(context.Background(), few, GIF, lim); err != nil {
		t.Errorf("3×256×256 GIF: %v", err)
	}
	// Too many frames, however small.
	_, tiny := animatedGIF(t, maxGIFFrames+1, 1, 1)
	_, err = ProcessImage(context.Background(), tiny, GIF, lim)
	readableRejection(t, "2001-frame GIF", err, "the GIF has 2001 frames; at most 2000 are accepted")
}

func TestProcessImageStoresWebPAsPNG(t *testing.T) {
	c := color.NRGBA{200, 100, 50, 255}
	data := webpSolid(5, 3, c)
	if f, err := Sniff(data); err != nil || f != WebP {
		t.Fatalf("WebP fixture sniffs as %v, %v", f, err)
	}
	out, err := ProcessImage(context.Background(), data, WebP, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if out.Format != PNG {
		t.Errorf("WebP stored as %v, want PNG", out.Format)
	}
	img, err := png.Decode(bytes.NewReader(out.Data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 5 || b.Dy() != 3 {
		t.Errorf("size %v", b)
	}
	if got := color.NRGBAModel.Convert(img.At(4, 2)); got != c {
		t.Errorf("pixel %v, want %v", got, c)
	}
}

func TestProcessImageRefusesBrokenImages(t *testing.T) {
	j := encodeJPEG(t, gradient(64, 64))
	p := encodePNG(t, gradient(64, 64))
	_, g := animatedGIF(t, 2, 16, 16)
	cases := []struct {
		name string
		data []byte
		f    Format
	}{
		{"truncated JPEG", j[:len(j)/2], JPEG},
		{"JPEG header only", j[:20], JPEG},
		{"truncated PNG", p[:len(p)/2], PNG},
		{"PNG signature only", p[:8], PNG},
		{"PNG with a bad IHDR checksum", append(append(append([]byte{}, p[:29]...), 0, 0, 0, 0), p[33:]...), PNG},
		{"zero-sized PNG", pngClaiming(0, 10), PNG},
		{"truncated GIF", g[:len(g)-10], GIF},
		{"WebP header only", []byte("RIFF\x04\x00\x00\x00WEBP"), WebP},
	}
	for _, tc := range cases {
		out, err := ProcessImage(context.Background(), tc.data, tc.f, testLimits)
		if err == nil {
			t.Errorf("%s: accepted (%v)", tc.name, out.Size)
			continue
		}
		if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "could not be read") && !strings.Contains(err.Error(), "no pixels") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestProcessImagePreviewFitsThumbEdge(t *testing.T) {
	out, err := ProcessImage(context.Background(), encodePNG(t, gradient(1600, 800)), PNG, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	th, err := jpeg.Decode(bytes.NewReader(out.Thumb))
	if err != nil {
		t.Fatal(err)
	}
	if b := th.Bounds(); b.Dx() != 640 || b.Dy() != 320 || out.ThumbIs != (Size{640, 320}) {
		t.Errorf("preview %v / %v, want 640×320", b, out.ThumbIs)
	}
	if out.Size.Aspect() != 2 {
		t.Errorf("aspect %v", out.Size.Aspect())
	}
}
