package media

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

// defaultLimits are the limits of the default config.
var defaultLimits = Limits{MaxPixels: 50_000_000, MaxMemory: 512 << 20}

const mib = 1 << 20

var (
	yuv420 = []jpegComponent{{H: 2, V: 2}, {H: 1, V: 1}, {H: 1, V: 1}}
	yuv444 = []jpegComponent{{H: 1, V: 1}, {H: 1, V: 1}, {H: 1, V: 1}}
	four   = []jpegComponent{{H: 1, V: 1}, {H: 1, V: 1}, {H: 1, V: 1}, {H: 1, V: 1}}
	ycck   = []jpegComponent{{H: 2, V: 2}, {H: 1, V: 1}, {H: 1, V: 1}, {H: 2, V: 2}}
	grey   = []jpegComponent{{H: 1, V: 1}}
)

// The estimate of each decoder's memory is what the decoder really takes:
// never less (else admission lets images through that need more), and not
// so much more that it refuses what fits. Each case is decoded alone and its
// heap peak measured through the runtime's statistics.
func TestImageCostMatchesTheDecoders(t *testing.T) {
	const w, h = 1600, 1200
	_, anim := animatedGIF(t, 6, 800, 600)
	cases := []struct {
		name string
		data []byte
		f    Format
	}{
		{"baseline 4:2:0 JPEG", flatJPEG(w, h, yuv420, false, -1, 1), JPEG},
		{"progressive 4:2:0 JPEG", flatJPEG(w, h, yuv420, true, -1, 1), JPEG},
		{"progressive 4:4:4 JPEG", flatJPEG(w, h, yuv444, true, -1, 1), JPEG},
		{"progressive CMYK JPEG", flatJPEG(w, h, four, true, 0, 1), JPEG},
		{"baseline YCCK JPEG", flatJPEG(w, h, ycck, false, 2, 1), JPEG},
		{"progressive grey JPEG", flatJPEG(w, h, grey, true, -1, 1), JPEG},
		{"baseline RGB JPEG", flatJPEG(w, h, yuv444, false, 0, 1), JPEG},
		{"8-bit RGBA PNG", zeroPNG(w, h, 8, 6, false), PNG},
		{"16-bit RGBA interlaced PNG", zeroPNG(w, h, 16, 6, true), PNG},
		{"16-bit grey PNG", zeroPNG(w, h, 16, 0, false), PNG},
		{"8-bit grey interlaced PNG", zeroPNG(w, h, 8, 0, true), PNG},
		{"paletted PNG", zeroPNG(w, h, 8, 3, false), PNG},
		{"lossless WebP", webpSolid(w, h, color.NRGBA{10, 20, 30, 255}), WebP},
		{"animated GIF", anim, GIF},
	}
	for _, tc := range cases {
		p, err := planImage(tc.data, tc.f, defaultLimits)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		decode := p.steps[0].alloc
		var derr error
		measured := int64(testutil.HeapPeak(func() {
			if tc.f == GIF {
				_, derr = gif.DecodeAll(bytes.NewReader(tc.data))
			} else {
				_, _, derr = image.Decode(bytes.NewReader(tc.data))
			}
		}))
		if derr != nil {
			t.Fatalf("%s: the fixture does not decode: %v", tc.name, derr)
		}
		t.Logf("%-28s decode estimated %6.1f MiB, measured %6.1f MiB (%.1f bytes a pixel)", tc.name,
			float64(decode)/mib, float64(measured)/mib, float64(measured)/float64(w*h))
		if measured > decode+mib {
			t.Errorf("%s: decoding took %d bytes, over the estimate of %d", tc.name, measured, decode)
		}
		if decode > measured*3/2+2*mib {
			t.Errorf("%s: the estimate of %d bytes is far over the %d decoding took", tc.name, decode, measured)
		}
		// The whole processing stays within the plan's estimate, margin included.
		var perr error
		whole := int64(testutil.HeapPeak(func() { _, perr = p.process(context.Background(), tc.data) }))
		if perr != nil {
			t.Fatalf("%s: %v", tc.name, perr)
		}
		if whole > p.bytes {
			t.Errorf("%s: processing took %d bytes, over the plan's %d", tc.name, whole, p.bytes)
		}
	}
}

// processPeak runs ProcessImage and returns its result and the heap peak.
func processPeak(data []byte, f Format, lim Limits) (*ProcessedImage, uint64, error) {
	var out *ProcessedImage
	var err error
	peak := testutil.HeapPeak(func() { out, err = ProcessImage(context.Background(), data, f, lim) })
	return out, peak, err
}

// The bombs of issue 9, each inside the pixel limit. Before estimates, the
// CMYK JPEG took 1.2 GiB of heap, the PNG 880 MiB, the WebP 265 MiB and the
// strip 6.1 GiB.
func TestImageBombsAreRefusedOrProcessedUnderTheirEstimate(t *testing.T) {
	// A 313 KB progressive CMYK JPEG of 8000×5000 with EXIF orientation 6:
	// 24 bytes a pixel to decode. Refused from its header, for nothing.
	cmyk := flatJPEG(8000, 5000, four, true, 0, 6)
	out, peak, err := processPeak(cmyk, JPEG, defaultLimits)
	readableRejection(t, "progressive CMYK JPEG", err, "the image is a progressive CMYK JPEG of 8000×5000 pixels, which would take about 1034 MiB of memory to process; at most 512 MiB are allowed for one image")
	if peak > 4*mib || out != nil {
		t.Errorf("refusing the CMYK JPEG took %d bytes of heap: it was decoded", peak)
	}

	// A 317 KB 16-bit interlaced RGBA PNG of 8000×5000: 8 bytes a pixel,
	// and the Adam7 passes as much again.
	png16 := zeroPNG(8000, 5000, 16, 6, true)
	_, peak, err = processPeak(png16, PNG, defaultLimits)
	readableRejection(t, "16-bit interlaced PNG", err, "the image is a 16-bit interlaced PNG of 8000×5000 pixels, which would take about 691 MiB")
	if peak > 4*mib {
		t.Errorf("refusing the 16-bit PNG took %d bytes of heap: it was decoded", peak)
	}

	// A lossless WebP of 8000×5000 and one colour, a few dozen bytes: within
	// the budget, processed under its estimate (219 MiB), and refused under
	// a budget smaller than that.
	webp := webpSolid(8000, 5000, color.NRGBA{200, 100, 50, 255})
	p, err := planImage(webp, WebP, defaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	out, peak, err = processPeak(webp, WebP, defaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lossless WebP: estimated %d MiB, heap peak %d MiB", p.bytes/mib, peak/mib)
	if int64(peak) > p.bytes || p.bytes > 224*mib {
		t.Errorf("lossless WebP: heap peak %d, estimate %d: want the peak under the estimate, and that under 224 MiB", peak, p.bytes)
	}
	if out.Size != (Size{8000, 5000}) || out.Format != PNG || len(out.Data) > 1*mib {
		t.Errorf("lossless WebP: %v %v, %d bytes", out.Size, out.Format, len(out.Data))
	}
	_, err = ProcessImage(context.Background(), webp, WebP, Limits{MaxPixels: 50_000_000, MaxMemory: 128 * mib})
	readableRejection(t, "lossless WebP under 128 MiB", err, "which would take about 219 MiB of memory to process; at most 128 MiB are allowed for one image")

	// A 79 KB grey PNG of 1×40000000: its preview made x/image/draw keep
	// 32 bytes a source row, twice.
	strip := zeroPNG(1, 40_000_000, 8, 0, false)
	out, peak, err = processPeak(strip, PNG, defaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if peak > 96*mib {
		t.Errorf("1×40000000 PNG: heap peak %d MiB, want under 96 (the image is 38 MiB)", peak/mib)
	}
	if out.ThumbIs != (Size{1, thumbEdge}) {
		t.Errorf("1×40000000 PNG: preview %v", out.ThumbIs)
	}
}

// photo is a w×h picture with the detail of a photo: gradients and noise,
// which JPEG cannot compress away.
func photo(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewPCG(5, 6))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Y[y*img.YStride+x] = uint8((x+y)/32) + uint8(r.IntN(48))
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = uint8(100+i%50), uint8(140-i%40)
	}
	return img
}

// Ordinary photos still upload under the default limits: a 12-megapixel
// phone JPEG turned by EXIF is processed under its estimate, and the
// estimate of a 48-megapixel progressive one (calibrated above per pixel)
// fits the default budget.
func TestOrdinaryPhotosFitTheDefaultBudget(t *testing.T) {
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, photo(4000, 3000), &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	b := enc.Bytes()
	phone := append(append(append([]byte{}, b[:2]...), jpegSegment(0xE1, exifOrientationPayload(6))...), b[2:]...)
	p, err := planImage(phone, JPEG, defaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	out, peak, err := processPeak(phone, JPEG, defaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("12 MP baseline JPEG, orientation 6 (%d KB): estimated %d MiB, heap peak %d MiB", len(phone)>>10, p.bytes/mib, peak/mib)
	if int64(peak) > p.bytes {
		t.Errorf("heap peak %d over the estimate %d", peak, p.bytes)
	}
	if got, err := jpeg.DecodeConfig(bytes.NewReader(out.Data)); err != nil || out.Size != (Size{3000, 4000}) || got.Width != 3000 || got.Height != 4000 {
		t.Errorf("stored as %v (%v, %v), want the turned 3000×4000", out.Size, got, err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		most int64
	}{
		{"48 MP progressive 4:2:0, orientation 6", flatJPEG(8064, 6048, yuv420, true, -1, 6), 420 * mib},
		{"50 MP progressive 4:2:0", flatJPEG(8160, 6120, yuv420, true, -1, 1), 430 * mib},
		{"50 MP baseline 4:2:2, orientation 8", flatJPEG(8160, 6120, []jpegComponent{{H: 2, V: 1}, {H: 1, V: 1}, {H: 1, V: 1}}, false, -1, 8), 224 * mib},
	} {
		p, err := planImage(tc.data, JPEG, defaultLimits)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		t.Logf("%s: estimated %d MiB", tc.name, p.bytes/mib)
		if p.bytes > tc.most {
			t.Errorf("%s: estimated %d MiB, more than %d", tc.name, p.bytes/mib, tc.most/mib)
		}
	}
}

// exifOrientationPayload is an APP1 payload: EXIF whose IFD0 holds Orientation = o.
func exifOrientationPayload(o uint16) []byte {
	var b bytes.Buffer
	b.WriteString("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01")
	b.Write([]byte{byte(o >> 8), byte(o), 0, 0, 0, 0, 0, 0})
	return b.Bytes()
}

// The output cap: an image whose re-encoding would be far larger than the
// upload is refused, not held.
func TestReencodingIsCapped(t *testing.T) {
	// Noise does not compress: 1200×1200 grey noise is a 1.4 MB PNG whose
	// re-encoding is as large, within the cap (16 MiB)...
	noise := image.NewGray(image.Rect(0, 0, 1200, 1200))
	r := rand.New(rand.NewPCG(7, 8))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(r.Uint32())
	}
	data := encodePNG(t, noise)
	if _, err := ProcessImage(context.Background(), data, PNG, defaultLimits); err != nil {
		t.Fatal(err)
	}
	// ...and a plan whose cap is lower refuses it while encoding.
	p, err := planImage(data, PNG, defaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	p.outLimit = int64(len(data)) / 2
	_, err = p.process(context.Background(), data)
	readableRejection(t, "noise over its cap", err, "re-encoded it would be over")
	if err != nil && !strings.Contains(err.Error(), "at most 4 times the upload") {
		t.Errorf("the refusal does not say why: %v", err)
	}
}

// image/jpeg visits every block in every scan, and a progressive scan can
// cover 32767 blocks with a few bits: a 1.1 MB JPEG of 70,000 such scans
// over 2000×2000 pixels took 55 s of CPU on v1 (then 503) and 85 s in the
// background on v2, and refinement scans cost four times that. The scans
// are counted from the markers, and a JPEG with more than maxJPEGScans is
// refused before anything is decoded.
func TestJPEGScansAreBoundedBeforeDecoding(t *testing.T) {
	// 20,000 refinement scans over 2000×2000: 300 KB that would take minutes.
	bomb := testutil.ScanBombJPEG(2000, 2000, 20000, true)
	_, err := planImage(bomb, JPEG, defaultLimits)
	readableRejection(t, "a JPEG of 20001 scans", err, "the JPEG has 20001 scans; at most 100 are accepted")

	// The limit itself: one DC scan and 99 AC scans are processed, one more is refused.
	for _, refine := range []bool{false, true} {
		at := testutil.ScanBombJPEG(64, 48, maxJPEGScans-1, refine)
		out, err := ProcessImage(context.Background(), at, JPEG, defaultLimits)
		if err != nil {
			t.Fatalf("a JPEG of %d scans (refine %v): %v", maxJPEGScans, refine, err)
		}
		if out.Size != (Size{64, 48}) {
			t.Errorf("a JPEG of %d scans became %v", maxJPEGScans, out.Size)
		}
		over := testutil.ScanBombJPEG(64, 48, maxJPEGScans, refine)
		_, err = ProcessImage(context.Background(), over, JPEG, defaultLimits)
		readableRejection(t, "a JPEG of 101 scans", err, "the JPEG has 101 scans; at most 100 are accepted")
	}
}

// image/png's encoder keeps six rows of the output: nothing for a photo,
// but for a PNG of 8000000×1 RGBA pixels (a 32 KB file) 192 MB, which the
// estimate left out (it was 184 MiB; processing took about 240).
func TestWidePNGEncoderRowsAreInTheEstimate(t *testing.T) {
	wide := zeroPNG(8_000_000, 1, 8, 6, false)
	p, err := planImage(wide, PNG, defaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var perr error
	peak := int64(testutil.HeapPeak(func() { _, perr = p.process(context.Background(), wide) }))
	if perr != nil {
		t.Fatal(perr)
	}
	t.Logf("estimated %.1f MiB, took %.1f MiB", float64(p.bytes)/mib, float64(peak)/mib)
	if peak > p.bytes {
		t.Errorf("processing a PNG of 8000000×1 pixels took %d bytes, over the plan's %d", peak, p.bytes)
	}
}

// image/gif makes a new LZW reader (20 KiB of tables) for each frame it
// reads and its encoder a new LZW writer (a 64 KiB hash table) for each
// frame it writes: 2000 frames of 316×316 took 359 MiB when the estimate,
// counting 8 KiB a frame, was 261.
func TestGIFFramesLZWStateIsInTheEstimate(t *testing.T) {
	_, anim := animatedGIF(t, 2000, 316, 316)
	p, err := planImage(anim, GIF, defaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var perr error
	peak := int64(testutil.HeapPeak(func() { _, perr = p.process(context.Background(), anim) }))
	if perr != nil {
		t.Fatal(perr)
	}
	t.Logf("estimated %.1f MiB, took %.1f MiB", float64(p.bytes)/mib, float64(peak)/mib)
	if peak > p.bytes {
		t.Errorf("processing a GIF of 2000 frames of 316×316 took %d bytes, over the plan's %d", peak, p.bytes)
	}
}
