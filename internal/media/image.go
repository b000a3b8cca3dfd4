package media

import (
	"bytes"
	"fmt"
	"image"
	stddraw "image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"

	"github.com/buckket/go-blurhash"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // registers the WebP decoder
)

// Limits bound what an upload may make the server do.
type Limits struct {
	MaxPixels int // width × height, checked before decoding
}

// Size is an image's dimensions.
type Size struct {
	Width, Height int
}

// Aspect is width over height.
func (s Size) Aspect() float64 {
	if s.Height == 0 {
		return 0
	}
	return float64(s.Width) / float64(s.Height)
}

// ProcessedImage is a re-encoded upload.
type ProcessedImage struct {
	Format   Format // what the stored file is (WebP is stored as PNG)
	Data     []byte // the re-encoded original
	Size     Size
	Thumb    []byte // JPEG preview
	ThumbIs  Size
	Blurhash string
}

// thumbEdge is the longest edge of a preview.
const thumbEdge = 640

// ProcessImage decodes and re-encodes an image. Re-encoding keeps pixels
// only: EXIF, GPS, comments, colour profiles and anything appended after the
// image data are gone. The pixel count is checked from the header before the
// image is decoded, so a decompression bomb costs nothing.
func ProcessImage(data []byte, f Format, lim Limits) (*ProcessedImage, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, reject("the image could not be read (%v)", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, reject("the image has no pixels")
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > int64(lim.MaxPixels) {
		return nil, reject("the image is %d×%d pixels; at most %d pixels are accepted", cfg.Width, cfg.Height, lim.MaxPixels)
	}
	out := &ProcessedImage{Format: f, Size: Size{cfg.Width, cfg.Height}}
	var buf bytes.Buffer
	var first image.Image
	switch f {
	case GIF:
		g, err := gif.DecodeAll(bytes.NewReader(data))
		if err != nil {
			return nil, reject("the GIF could not be read (%v)", err)
		}
		if len(g.Image) == 0 || len(g.Image) > 2000 {
			return nil, reject("the GIF has %d frames; 1 to 2000 are accepted", len(g.Image))
		}
		g.Config.Width, g.Config.Height = cfg.Width, cfg.Height
		if err := gif.EncodeAll(&buf, g); err != nil {
			return nil, fmt.Errorf("re-encode GIF: %w", err)
		}
		first = g.Image[0]
	default:
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, reject("the image could not be read (%v)", err)
		}
		first = img
		switch f {
		case JPEG:
			err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
		default: // PNG, and WebP (no pure-Go lossy encoder; PNG keeps it lossless)
			out.Format = PNG
			err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img)
		}
		if err != nil {
			return nil, fmt.Errorf("re-encode image: %w", err)
		}
	}
	out.Data = buf.Bytes()
	thumb := scaleDown(first, thumbEdge)
	out.ThumbIs = Size{thumb.Bounds().Dx(), thumb.Bounds().Dy()}
	var tb bytes.Buffer
	if err := jpeg.Encode(&tb, thumb, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("encode preview: %w", err)
	}
	out.Thumb = tb.Bytes()
	if out.Blurhash, err = blurhash.Encode(4, 3, scaleDown(first, 64)); err != nil {
		out.Blurhash = ""
	}
	return out, nil
}

// scaleDown fits img within edge×edge, keeping its aspect; smaller images are copied.
func scaleDown(img image.Image, edge int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > edge || h > edge {
		if w >= h {
			w, h = edge, max(1, h*edge/w)
		} else {
			w, h = max(1, w*edge/h), edge
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if w == b.Dx() && h == b.Dy() {
		stddraw.Draw(dst, dst.Bounds(), img, b.Min, stddraw.Src)
		return dst
	}
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}
