package media

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"
)

// FuzzProcessImage: any bytes that sniff as an image are refused with a
// readable rejection or become a valid image of the stored format, of the
// size reported, with a JPEG preview at most thumbEdge a side; never a
// panic, never an estimate exceeded without refusal. The limits are small
// so each input is processed in milliseconds.
func FuzzProcessImage(f *testing.F) {
	_, anim := animatedGIF(f, 3, 12, 9)
	for _, seed := range [][]byte{
		encodePNG(f, gradient(12, 9)),
		encodeJPEG(f, gradient(12, 9)),
		jpegWithGPS(f, gradient(16, 16)),
		anim,
		webpSolid(7, 5, color.NRGBA{200, 100, 50, 128}),
		flatJPEG(40, 24, four, true, 0, 6),
		flatJPEG(33, 17, yuv420, false, -1, 8),
		flatJPEG(20, 30, []jpegComponent{{H: 4, V: 1}, {H: 1, V: 1}, {H: 1, V: 1}}, true, -1, 5),
		zeroPNG(9, 7, 16, 6, true),
		zeroPNG(5, 300, 8, 3, false),
		pngClaiming(100000, 100000),
	} {
		f.Add(seed)
	}
	lim := Limits{MaxPixels: 1 << 16, MaxMemory: 32 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = data[:len(data):len(data)]
		format, err := Sniff(data)
		if err != nil || format.Kind != Image {
			return
		}
		out, err := ProcessImage(context.Background(), data, format, lim)
		if err != nil {
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("%s: %v is not a rejection", format.MIME, err)
			}
			return
		}
		if _, name, err := image.Decode(bytes.NewReader(out.Data)); err != nil || name != strings.TrimPrefix(out.Format.MIME, "image/") {
			t.Fatalf("%s stored as %s does not decode as it: %q, %v", format.MIME, out.Format.MIME, name, err)
		}
		// (A GIF's size is its logical screen; its first frame may be smaller.)
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(out.Data)); err != nil || cfg.Width != out.Size.Width || cfg.Height != out.Size.Height {
			t.Fatalf("stored image is %d×%d, reported %v (%v)", cfg.Width, cfg.Height, out.Size, err)
		}
		th, err := jpeg.Decode(bytes.NewReader(out.Thumb))
		if err != nil {
			t.Fatalf("preview: %v", err)
		}
		if b := th.Bounds(); b.Dx() != out.ThumbIs.Width || b.Dy() != out.ThumbIs.Height || max(b.Dx(), b.Dy()) > thumbEdge {
			t.Fatalf("preview is %v, reported %v", b.Size(), out.ThumbIs)
		}
	})
}
