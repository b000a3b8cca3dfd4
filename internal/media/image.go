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

// maxGIFFrames bounds an animation's frame count.
const maxGIFFrames = 2000

// gifPixelFactor bounds the pixels of all of an animation's frames together,
// as a multiple of Limits.MaxPixels: a decoded GIF frame takes one byte a
// pixel where a still image takes four or more, so an animation may cost the
// memory of a still image at the limit, not that times its frame count.
const gifPixelFactor = 4

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
		// image/gif decodes every frame at once, so the frames are counted
		// from the block structure first: the header check above bounds one
		// frame, not an animation of thousands of full-screen ones.
		frames, pixels := gifFrames(data)
		if frames > maxGIFFrames {
			return nil, reject("the GIF has %d frames; at most %d are accepted", frames, maxGIFFrames)
		}
		if limit := gifPixelFactor * int64(lim.MaxPixels); pixels > limit {
			return nil, reject("the GIF's %d frames hold %d pixels in all; at most %d are accepted", frames, pixels, limit)
		}
		g, err := gif.DecodeAll(bytes.NewReader(data))
		if err != nil {
			return nil, reject("the GIF could not be read (%v)", err)
		}
		if len(g.Image) == 0 || len(g.Image) > maxGIFFrames {
			return nil, reject("the GIF has %d frames; 1 to %d are accepted", len(g.Image), maxGIFFrames)
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
		if f == JPEG {
			if o := jpegOrientation(data); o > 1 {
				img = orient(img, o)
				b := img.Bounds()
				out.Size = Size{b.Dx(), b.Dy()}
			}
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

// gifFrames walks a GIF's block structure the way image/gif reads it, without
// decompressing anything, and returns how many frames it holds and their
// pixels in all. LZW shrinks a blank frame about a thousandfold, so a small
// file of many full-screen frames would otherwise make DecodeAll allocate
// gigabytes before the frame count could be checked. The walk stops where
// image/gif would stop (trailer, unknown block, bad graphic control, end of
// data), so it counts at least every frame the decoder allocates.
func gifFrames(data []byte) (frames int, pixels int64) {
	if len(data) < 13 {
		return 0, 0
	}
	p := 13
	if data[10]&0x80 != 0 { // global colour table
		p += 3 << (1 + data[10]&7)
	}
	subBlocks := func() bool { // data sub-blocks up to the zero terminator
		for p < len(data) {
			n := int(data[p])
			p++
			if n == 0 {
				return true
			}
			p += n
		}
		return false
	}
	for p < len(data) {
		b := data[p]
		p++
		switch b {
		case 0x21: // extension
			if p >= len(data) {
				return
			}
			label := data[p]
			p++
			switch label {
			case 0x01: // plain text: image/gif skips a fixed 13 bytes first
				p += 13
			case 0xF9: // graphic control: exactly 6 bytes, or image/gif fails
				if p+6 > len(data) || data[p] != 4 || data[p+5] != 0 {
					return
				}
				p += 6
				continue
			case 0xFE: // comment
			case 0xFF: // application: a length byte, that many bytes
				if p >= len(data) {
					return
				}
				p += 1 + int(data[p])
			default:
				return
			}
			if !subBlocks() {
				return
			}
		case 0x2C: // image descriptor: image/gif allocates the frame here
			if p+9 > len(data) {
				return
			}
			w := int64(data[p+4]) | int64(data[p+5])<<8
			h := int64(data[p+6]) | int64(data[p+7])<<8
			fields := data[p+8]
			p += 9
			frames++
			pixels += w * h
			if fields&0x80 != 0 { // local colour table
				p += 3 << (1 + fields&7)
			}
			p++ // LZW minimum code size
			if !subBlocks() {
				return
			}
		default: // 0x3B, the trailer, or a block image/gif refuses
			return
		}
	}
	return
}
