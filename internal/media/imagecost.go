package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// What processing an image costs in memory, estimated from its header
// before a pixel is decoded. The pixel limit alone does not bound memory: a
// decoded pixel takes from one byte (grey) to 24 (a progressive CMYK JPEG,
// whose decoder keeps every DCT coefficient of four full-size components as
// an int32 until the last scan). The byte counts below follow what the Go
// decoders allocate (image/jpeg, image/png, image/gif, x/image/webp) and are
// checked against measured heap peaks by TestImageCostMatchesTheDecoders.

// jpegInfo is what a JPEG's markers say about its decoded form.
type jpegInfo struct {
	progressive bool
	comps       []jpegComp
	jfif        bool // the last APP0 was JFIF, as image/jpeg tracks it
	adobe       int  // the APP14 colour transform, -1 when there is none
	scans       int  // SOS markers up to EOI: at least every scan image/jpeg decodes
	orientation int  // the EXIF Orientation of the first Exif APP1 before the first scan, 0 without one
}

// orient is the EXIF orientation to apply (1–8; 1 when there is none).
func (j jpegInfo) orient() int { return max(j.orientation, 1) }

// maxJPEGScans bounds a JPEG's scans. image/jpeg visits every block of a
// scan's components in each scan, and a progressive AC scan covers up to
// 32767 blocks with one end-of-band run that a few bits encode: without a
// bound, a 1 MB file of 65,000 near-empty scans over 2000×2000 pixels keeps
// a core busy for minutes (each refinement scan reads all 63 coefficients
// of every block). Encoders write far fewer: libjpeg's progressive script
// has 10 scans (6 for greyscale), Photoshop 3 to 5, mozjpeg about a dozen.
const maxJPEGScans = 100

type jpegComp struct {
	id   byte
	h, v int
}

// readJPEGInfo walks a JPEG's markers from SOI to EOI the way image/jpeg
// does (extraneous bytes before a marker and fill bytes are skipped), and
// steps over entropy-coded data to the next marker, so an APP14 after the
// first scan is seen too. ok is false when no usable frame header was found.
func readJPEGInfo(b []byte) (info jpegInfo, ok bool) {
	info.adobe = -1
	i := 2
	for i+1 < len(b) {
		if b[i] != 0xFF {
			i++ // extraneous data: image/jpeg skips it too
			continue
		}
		j := i + 1
		for j < len(b) && b[j] == 0xFF { // fill bytes
			j++
		}
		if j >= len(b) {
			break
		}
		marker := b[j]
		i = j + 1
		switch {
		case marker == 0x00:
			continue // a stuffed zero outside a scan: extraneous
		case marker == 0xD9: // EOI
			return info, info.comps != nil
		case marker == 0xD8, marker == 0x01, marker >= 0xD0 && marker <= 0xD7:
			continue // markers without a length
		}
		if i+2 > len(b) {
			break
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n < 2 || i+n > len(b) {
			break
		}
		seg := b[i+2 : i+n]
		i += n
		switch marker {
		case 0xC0, 0xC1, 0xC2: // the frame kinds image/jpeg decodes
			if info.comps != nil || len(seg) < 6 {
				return info, false
			}
			nc := int(seg[5])
			if nc != 1 && nc != 3 && nc != 4 || len(seg) < 6+3*nc {
				return info, false
			}
			info.progressive = marker == 0xC2
			for c := 0; c < nc; c++ {
				hv := seg[6+3*c+1]
				h, v := int(hv>>4), int(hv&0x0F)
				if nc == 1 { // one component is non-interleaved: 8×8 blocks whatever it says
					h, v = 1, 1
				}
				if h < 1 || h > 4 || v < 1 || v > 4 {
					return info, false
				}
				info.comps = append(info.comps, jpegComp{id: seg[6+3*c], h: h, v: v})
			}
		case 0xE0:
			if len(seg) >= 5 {
				info.jfif = string(seg[:5]) == "JFIF\x00"
			}
		case 0xEE:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				info.adobe = int(seg[11])
			}
		case 0xE1:
			if info.orientation == 0 && info.scans == 0 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
				info.orientation = tiffOrientation(seg[6:])
			}
		case 0xDA: // a scan: entropy-coded data runs to the next real marker
			info.scans++
			for i+1 < len(b) && !(b[i] == 0xFF && b[i+1] != 0x00 && !(b[i+1] >= 0xD0 && b[i+1] <= 0xD7)) {
				i++
			}
		}
	}
	return info, info.comps != nil
}

// converted reports whether image/jpeg returns a 4-byte-a-pixel image (RGBA
// or CMYK) built from its planes, rather than the planes themselves.
func (j jpegInfo) converted() bool {
	switch len(j.comps) {
	case 4:
		return true
	case 3:
		if j.jfif {
			return false
		}
		return j.adobe == 0 || j.comps[0].id == 'R' && j.comps[1].id == 'G' && j.comps[2].id == 'B'
	}
	return false
}

// jpegCost is image/jpeg's allocation for a w×h image: the sample planes
// (whole MCUs, so up to 31 pixels of padding each way), for a progressive
// image an int32 per coefficient of every component, and the RGBA or CMYK
// image built from the planes at the end. img is what Decode returns.
func jpegCost(j jpegInfo, w, h int) (decode, img int64) {
	h0, v0 := j.comps[0].h, j.comps[0].v
	mxx, myy := int64((w+8*h0-1)/(8*h0)), int64((h+8*v0-1)/(8*v0))
	var blocks int64
	for _, c := range j.comps {
		blocks += mxx * myy * int64(c.h*c.v)
	}
	planes := 64 * blocks
	decode = planes
	if j.progressive {
		decode += 64 * 4 * blocks
	}
	img = planes
	if j.converted() {
		img = 4 * int64(w) * int64(h)
		decode += img
	}
	return decode, img
}

// pngInfo is what a PNG's IHDR (and a tRNS before the image data) say.
type pngInfo struct {
	depth, colourType byte
	interlaced, trns  bool
}

func readPNGInfo(b []byte) (pngInfo, bool) {
	if len(b) < 33 || string(b[12:16]) != "IHDR" {
		return pngInfo{}, false
	}
	info := pngInfo{depth: b[24], colourType: b[25], interlaced: b[28] == 1}
	for i := 8; i+8 <= len(b); {
		n := int64(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		if typ == "IDAT" {
			break
		}
		if typ == "tRNS" {
			info.trns = true
		}
		if n > int64(len(b)) {
			break
		}
		i += 12 + int(n)
	}
	return info, true
}

// decodedBytesPerPixel is the pixel size of the image image/png returns.
func (p pngInfo) decodedBytesPerPixel() int64 {
	switch p.colourType {
	case 0: // grey: Gray, Gray16, or NRGBA(64) with a transparent colour
		switch {
		case p.depth == 16 && p.trns:
			return 8
		case p.depth == 16:
			return 2
		case p.trns:
			return 4
		}
		return 1
	case 3: // paletted
		return 1
	case 2, 4, 6: // RGB, grey+alpha, RGBA
		if p.depth == 16 {
			return 8
		}
		return 4
	}
	return 8
}

// pngCost: the image, two rows of filtered bytes, and for an interlaced
// image the seven pass images (half the pixels, then a quarter, ...: the
// same bytes as the image once more) merged into it.
func pngCost(p pngInfo, w, h int) (decode, img int64) {
	img = p.decodedBytesPerPixel() * int64(w) * int64(h)
	rows := 2 * (1 + 8*int64(w))
	decode = img + rows
	if p.interlaced {
		decode += img
	}
	return decode, img
}

// webpInfo is what a WebP's chunks say about its decoded form.
type webpInfo struct {
	lossless     bool // VP8L
	transforms   bool // a VP8L image that declares at least one transform
	alpha        bool // an ALPH chunk
	alphaVP8L    bool // compressed with VP8L (decoded as a whole NRGBA first)
	vp8lDataSize int64
}

func readWebPInfo(b []byte) (webpInfo, bool) {
	var info webpInfo
	for i := 12; i+8 <= len(b); {
		typ := string(b[i : i+4])
		n := int64(binary.LittleEndian.Uint32(b[i+4:]))
		data := b[i+8:]
		if n < int64(len(data)) {
			data = data[:n]
		}
		switch typ {
		case "ALPH":
			info.alpha = true
			info.alphaVP8L = len(data) > 0 && data[0]&3 == 1
			info.vp8lDataSize += int64(len(data))
		case "VP8 ":
			return info, true
		case "VP8L":
			info.lossless = true
			// Bit 40 of the bit stream (after the signature, two 14-bit
			// sizes, the alpha hint and the version) says whether a
			// transform follows.
			info.transforms = len(data) < 6 || data[5]&1 == 1
			info.vp8lDataSize += int64(len(data))
			return info, true
		}
		if n > int64(len(b)) {
			break
		}
		i += 8 + int(n+n&1)
	}
	return info, false
}

// vp8lHuffmanBytes bounds the prefix-code trees a VP8L stream of size n can
// make x/image/vp8l build: at most 2600 groups (the decoder's cap) of five
// trees, about 56 KiB a group when every tree is as large as it may be, and
// never more than about a kilobyte of trees per byte of input.
func vp8lHuffmanBytes(n int64) int64 {
	return min(2600*56<<10, 1<<10*n+64<<10)
}

// webpCost: lossy VP8 decodes to 4:2:0 YCbCr in whole 16×16 macroblocks plus
// the partition data; an ALPH plane adds a byte a pixel, and a VP8L-coded one
// decodes to a whole NRGBA first. Lossless VP8L keeps four bytes a pixel as
// decoded; a colour-indexing transform expands a packed copy into a second
// one, and the transform and prefix-code images are a quarter of the pixels
// each at most.
func webpCost(info webpInfo, w, h, fileSize int) (decode, img int64) {
	px := int64(w) * int64(h)
	vp8l := func(transforms bool) int64 {
		n := 4*px + vp8lHuffmanBytes(info.vp8lDataSize) + px // pixels, trees, a prefix-code image
		if transforms {
			n += 4*px + 2*px // the expanded copy, predictor and colour transform images
		}
		return n
	}
	if info.lossless {
		return vp8l(info.transforms), 4 * px
	}
	mbw, mbh := int64((w+15)/16), int64((h+15)/16)
	planes := 256 * mbw * mbh * 3 / 2
	decode = planes + 64*mbw*mbh + int64(fileSize)
	img = planes
	if info.alpha {
		decode += px
		img += px
		if info.alphaVP8L {
			decode += vp8l(true) + px
		}
	}
	return decode, img
}

// gifCost: image/gif keeps every frame as a paletted image (a byte a pixel)
// with its palette (a local colour table of 256 entries takes about 5 KiB
// as color.Palette), and reading each frame makes a new LZW reader (20 KiB
// of tables) that is garbage once the frame is read.
func gifCost(frames int, pixels int64) (decode, img int64) {
	return pixels + int64(frames)*gifDecodeFrameBytes, pixels
}

// gifDecodeFrameBytes is what image/gif allocates for a frame besides its
// pixels; gifEncodeFrameBytes what its encoder allocates for each frame (a
// new LZW writer, whose hash table alone is 64 KiB). Without them, 2000
// frames of 316×316 took 359 MiB against an estimate of 261.
const (
	gifDecodeFrameBytes = 32 << 10
	gifEncodeFrameBytes = 72 << 10
)

// Output bounds. A re-encoded file may be no larger than its format's worst
// case for its pixels and, since a file that grows far beyond its upload
// would only be a way to make the server hold more, no larger than
// outputFactor times the upload or outputFloor, whichever is more.
const (
	outputFactor = 4
	outputFloor  = 16 << 20
	// jpegOutPerPixel: JPEG at quality 90 of random noise, the least
	// compressible input, measures 0.9 byte a pixel; crafted blocks of
	// maximal coefficients reach about 2.5.
	jpegOutPerPixel = 3
)

// byteString is n as "123 MiB".
func byteString(n int64) string {
	if n >= 10<<20 {
		return fmt.Sprintf("%d MiB", (n+(1<<20)-1)>>20)
	}
	return fmt.Sprintf("%d KiB", (n+1023)>>10)
}
