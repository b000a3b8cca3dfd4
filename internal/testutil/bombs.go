package testutil

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"image/color"
)

// Image bombs: small files whose decoded form is large, built without
// holding their pixels (no encoder in Go writes progressive or CMYK JPEG,
// interlaced PNG or WebP).

// JPEGSegment is a marker segment: 0xFF, marker, length, payload.
func JPEGSegment(marker byte, payload []byte) []byte {
	out := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(out[2:], uint16(2+len(payload)))
	return append(out, payload...)
}

// JPEGComponent is one SOF component: its sampling factors.
type JPEGComponent struct{ H, V int }

// FlatJPEG writes a JPEG that image/jpeg decodes to w×h of one flat grey,
// without encoding any pixel: one quantisation table, a DC Huffman table
// whose only code ("0", one bit) means "no change", and a single DC scan
// over all components, one bit per block. progressive picks SOF2 (the
// decoder then keeps every coefficient as int32 until the end) over SOF0;
// a baseline scan also needs an AC table, whose only code means "end of
// block". adobe ≥ 0 adds an APP14 segment with that colour transform (0 with
// four components is CMYK, 2 YCCK); orientation > 1 adds EXIF.
func FlatJPEG(w, h int, comps []JPEGComponent, progressive bool, adobe int, orientation uint16) []byte {
	var b bytes.Buffer
	b.WriteString("\xFF\xD8")
	if orientation > 1 {
		tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")
		ifd := make([]byte, 2+12+4)
		binary.BigEndian.PutUint16(ifd[0:], 1)
		binary.BigEndian.PutUint16(ifd[2:], 0x0112)
		binary.BigEndian.PutUint16(ifd[4:], 3) // SHORT
		binary.BigEndian.PutUint32(ifd[6:], 1)
		binary.BigEndian.PutUint16(ifd[10:], orientation)
		b.Write(JPEGSegment(0xE1, append([]byte("Exif\x00\x00"), append(tiff, ifd...)...)))
	}
	if adobe >= 0 {
		b.Write(JPEGSegment(0xEE, []byte{'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, byte(adobe)}))
	}
	b.Write(JPEGSegment(0xDB, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)))
	sof := byte(0xC0)
	if progressive {
		sof = 0xC2
	}
	frame := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(len(comps))}
	hmax, vmax := 1, 1
	for i, c := range comps {
		frame = append(frame, byte(i+1), byte(c.H<<4|c.V), 0)
		hmax, vmax = max(hmax, c.H), max(vmax, c.V)
	}
	b.Write(JPEGSegment(sof, frame))
	one := func(class byte, sym byte) []byte { // a table of one 1-bit code
		t := []byte{class<<4 | 0, 1}
		t = append(t, make([]byte, 15)...)
		return append(t, sym)
	}
	b.Write(JPEGSegment(0xC4, one(0, 0)))
	if !progressive {
		b.Write(JPEGSegment(0xC4, one(1, 0x00))) // AC: end of block
	}
	scan := []byte{byte(len(comps))}
	for i := range comps {
		scan = append(scan, byte(i+1), 0x00)
	}
	if progressive {
		scan = append(scan, 0, 0, 0) // Ss=0, Se=0 (DC only), Ah=Al=0
	} else {
		scan = append(scan, 0, 63, 0)
	}
	b.Write(JPEGSegment(0xDA, scan))
	// Blocks in the scan: with several components, whole MCUs; with one,
	// the component's own 8×8 blocks.
	var blocks int
	if len(comps) == 1 {
		blocks = ((w + 7) / 8) * ((h + 7) / 8)
	} else {
		mcus := ((w + 8*hmax - 1) / (8 * hmax)) * ((h + 8*vmax - 1) / (8 * vmax))
		for _, c := range comps {
			blocks += mcus * c.H * c.V
		}
	}
	bitsPerBlock := 1
	if !progressive {
		bitsPerBlock = 2 // DC "0", then AC "0" (end of block)
	}
	bits := blocks * bitsPerBlock
	b.Write(make([]byte, bits/8))
	if r := bits % 8; r != 0 {
		b.WriteByte(byte(0xFF >> r)) // pad with one bits
	}
	b.WriteString("\xFF\xD9")
	return b.Bytes()
}

// ScanBombJPEG is a progressive greyscale JPEG of w×h: one DC scan, then
// scans AC scans over all 63 coefficients of every block that carry
// nothing but end-of-band runs of 32767 blocks (a one-bit code and 14 run
// bits each), so every scan after the first costs a dozen bytes however
// many blocks it covers. With refine, the AC scans are refinement scans
// (Ah=1, Al=0), in which image/jpeg reads all 63 coefficients of each
// block. It decodes to flat grey.
func ScanBombJPEG(w, h, scans int, refine bool) []byte {
	var b bytes.Buffer
	b.WriteString("\xFF\xD8")
	b.Write(JPEGSegment(0xDB, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)))
	b.Write(JPEGSegment(0xC2, []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 1, 1, 0x11, 0}))
	one := func(class byte, sym byte) []byte { // a table of one 1-bit code
		t := []byte{class<<4 | 0, 1}
		t = append(t, make([]byte, 15)...)
		return append(t, sym)
	}
	b.Write(JPEGSegment(0xC4, one(0, 0x00))) // DC: no change
	b.Write(JPEGSegment(0xC4, one(1, 0xE0))) // AC: an end-of-band run of 2^14 + 14 bits
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	b.Write(JPEGSegment(0xDA, []byte{1, 1, 0x00, 0, 0, 0}))
	b.Write(make([]byte, blocks/8))
	if r := blocks % 8; r != 0 {
		b.WriteByte(byte(0xFF >> r)) // pad with one bits
	}
	// One scan's data: runs of 32767 blocks ("0", then fourteen ones) until
	// every block is covered, padded with one bits, 0xFF stuffed.
	var data []byte
	var acc, n uint
	put := func(bit uint) {
		acc, n = acc<<1|bit, n+1
		if n == 8 {
			data = append(data, byte(acc))
			if byte(acc) == 0xFF {
				data = append(data, 0)
			}
			acc, n = 0, 0
		}
	}
	for covered := 0; covered < blocks; covered += 32767 {
		put(0)
		for range 14 {
			put(1)
		}
	}
	for n != 0 {
		put(1)
	}
	approx := byte(0x00)
	if refine {
		approx = 0x10
	}
	for range scans {
		b.Write(JPEGSegment(0xDA, []byte{1, 1, 0x00, 1, 63, approx}))
		b.Write(data)
	}
	b.WriteString("\xFF\xD9")
	return b.Bytes()
}

// zeroZlib is a zlib stream of n zero bytes, built without holding them:
// deflate blocks that only reach back into themselves can be repeated, so
// one compressed megabyte of zeros is written as often as needed.
func zeroZlib(n int64) []byte {
	deflated := func(size int) []byte {
		var z bytes.Buffer
		fw, _ := flate.NewWriter(&z, flate.BestCompression)
		fw.Write(make([]byte, size))
		fw.Flush() // ends byte-aligned, not final
		return z.Bytes()
	}
	const chunk = 1 << 20
	out := []byte{0x78, 0xDA}
	whole := deflated(chunk)
	for i := int64(0); i < n/chunk; i++ {
		out = append(out, whole...)
	}
	if r := n % chunk; r != 0 {
		out = append(out, deflated(int(r))...)
	}
	out = append(out, 0x03, 0x00) // an empty final fixed-Huffman block
	// Adler-32 of n zeros: a stays 1, b grows by 1 a byte.
	return binary.BigEndian.AppendUint32(out, uint32(n%65521)<<16|1)
}

// adam7 are the Adam7 passes: x offset, y offset, x step, y step.
var adam7 = [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}

// ZeroPNG is a w×h PNG of all-zero pixels (transparent black) with the
// given bit depth and colour type, Adam7-interlaced or not. Every filter
// byte and every sample is zero, so the image data is one long run of zeros.
func ZeroPNG(w, h int, depth, colourType byte, interlaced bool) []byte {
	channels := map[byte]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colourType]
	rowBytes := func(width int) int64 { return (int64(width)*int64(channels)*int64(depth) + 7) / 8 }
	var n int64
	if interlaced {
		for _, p := range adam7 {
			pw, ph := (w-p[0]+p[2]-1)/p[2], (h-p[1]+p[3]-1)/p[3]
			if pw > 0 && ph > 0 {
				n += int64(ph) * (1 + rowBytes(pw))
			}
		}
	} else {
		n = int64(h) * (1 + rowBytes(w))
	}
	var ihdr bytes.Buffer
	binary.Write(&ihdr, binary.BigEndian, uint32(w))
	binary.Write(&ihdr, binary.BigEndian, uint32(h))
	il := byte(0)
	if interlaced {
		il = 1
	}
	ihdr.Write([]byte{depth, colourType, 0, 0, il})
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr.Bytes())...)
	if colourType == 3 {
		out = append(out, chunk("PLTE", []byte{0, 0, 0})...)
	}
	out = append(out, chunk("IDAT", zeroZlib(n))...)
	return append(out, chunk("IEND", nil)...)
}

// chunk is a PNG chunk: length, type, data, CRC.
func chunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(append(b, typ...), data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// bits writes VP8L's least-significant-bit-first bit stream.
type bits struct {
	buf []byte
	acc uint64
	n   uint
}

func (w *bits) write(v uint64, n uint) {
	w.acc |= v << w.n
	w.n += n
	for w.n >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

func (w *bits) bytes() []byte {
	if w.n > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc, w.n = 0, 0
	}
	return w.buf
}

// SolidWebP is a lossless (VP8L) WebP of one colour: no transforms, no
// colour cache, and five one-symbol prefix codes, so every pixel takes zero
// bits: 8000×5000 pixels in a few dozen bytes.
func SolidWebP(w, h int, c color.NRGBA) []byte {
	var bw bits
	bw.write(0x2f, 8) // VP8L signature
	bw.write(uint64(w-1), 14)
	bw.write(uint64(h-1), 14)
	bw.write(0, 1)                                       // alpha hint
	bw.write(0, 3)                                       // version
	bw.write(0, 1)                                       // no transform
	bw.write(0, 1)                                       // no colour cache
	bw.write(0, 1)                                       // no meta prefix codes
	for _, sym := range []uint8{c.G, c.R, c.B, c.A, 0} { // green, red, blue, alpha, distance
		bw.write(1, 1)           // simple code
		bw.write(0, 1)           // one symbol
		bw.write(1, 1)           // eight bits wide
		bw.write(uint64(sym), 8) // the symbol
	}
	return webpVP8L(bw.bytes())
}

// WebPClaiming is a VP8L WebP header claiming w×h pixels and nothing else.
func WebPClaiming(w, h int) []byte {
	var bw bits
	bw.write(0x2f, 8)
	bw.write(uint64(w-1), 14)
	bw.write(uint64(h-1), 14)
	bw.write(0, 4)
	bw.write(0, 3)
	return webpVP8L(append(bw.bytes(), 0, 0, 0))
}

// webpVP8L wraps a VP8L bit stream in its RIFF container.
func webpVP8L(payload []byte) []byte {
	var ch bytes.Buffer
	ch.WriteString("VP8L")
	binary.Write(&ch, binary.LittleEndian, uint32(len(payload)))
	ch.Write(payload)
	if len(payload)%2 == 1 {
		ch.WriteByte(0)
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, binary.LittleEndian, uint32(4+ch.Len()))
	out.WriteString("WEBP")
	out.Write(ch.Bytes())
	return out.Bytes()
}
