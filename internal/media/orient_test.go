package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// jpegWithOrientation encodes img as JPEG with an EXIF APP1 carrying orientation o.
func jpegWithOrientation(t *testing.T, img image.Image, o uint16) []byte {
	t.Helper()
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")
	ifd := make([]byte, 2+12+4)
	binary.BigEndian.PutUint16(ifd[0:], 1)
	binary.BigEndian.PutUint16(ifd[2:], 0x0112)
	binary.BigEndian.PutUint16(ifd[4:], 3)
	binary.BigEndian.PutUint32(ifd[6:], 1)
	binary.BigEndian.PutUint16(ifd[10:], o)
	payload := append([]byte("Exif\x00\x00"), append(tiff, ifd...)...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	b := enc.Bytes()
	return append(append(append([]byte{}, b[:2]...), append(seg, payload...)...), b[2:]...)
}

func TestEXIFOrientationIsAppliedBeforeStripping(t *testing.T) {
	// 40×20, left half red, right half blue.
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for y := 0; y < 20; y++ {
		for x := 0; x < 40; x++ {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 20 {
				c = color.RGBA{0, 0, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	data := jpegWithOrientation(t, img, 6) // "rotate 90° clockwise to display"
	if got := jpegOrientation(data); got != 6 {
		t.Fatalf("fixture orientation = %d", got)
	}
	out, err := ProcessImage(context.Background(), data, JPEG, Limits{MaxPixels: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if out.Size != (Size{20, 40}) {
		t.Fatalf("size %v, want the rotated 20×40", out.Size)
	}
	served, err := jpeg.Decode(bytes.NewReader(out.Data))
	if err != nil {
		t.Fatal(err)
	}
	if b := served.Bounds(); b.Dx() != 20 || b.Dy() != 40 {
		t.Fatalf("served image is %dx%d", b.Dx(), b.Dy())
	}
	// Rotated clockwise, the red (left) half is now on top.
	r, _, bl, _ := served.At(10, 5).RGBA()
	if r < bl {
		t.Errorf("top of the rotated image is not red: r=%d b=%d", r>>8, bl>>8)
	}
	if bytes.Contains(out.Data, []byte("Exif")) {
		t.Error("EXIF survived re-encoding")
	}
	if jpegOrientation([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF}) != 1 {
		t.Error("a malformed segment must read as orientation 1")
	}
}
