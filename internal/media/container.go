package media

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"sync"
)

// Duration reads a video's or audio file's length in seconds from its
// container header, where that is cheap and certain (MP4/M4A, WAV, FLAC);
// 0 when unknown. Nothing is decoded.
func Duration(data []byte, f Format) float64 {
	var d float64
	switch f {
	case MP4, M4A:
		d = mp4Duration(data)
	case WAV:
		d = wavDuration(data)
	case FLAC:
		d = flacDuration(data)
	}
	if d < 0 || d > 24*3600 || math.IsNaN(d) {
		return 0
	}
	return math.Round(d*100) / 100
}

// mp4Duration finds moov/mvhd: timescale and duration.
func mp4Duration(b []byte) float64 {
	moov := findBox(b, "moov")
	if moov == nil {
		return 0
	}
	mvhd := findBox(moov, "mvhd")
	if len(mvhd) < 4 {
		return 0
	}
	if mvhd[0] == 1 { // version 1: 64-bit times
		if len(mvhd) < 32 {
			return 0
		}
		scale := binary.BigEndian.Uint32(mvhd[20:24])
		dur := binary.BigEndian.Uint64(mvhd[24:32])
		if scale == 0 {
			return 0
		}
		return float64(dur) / float64(scale)
	}
	if len(mvhd) < 20 {
		return 0
	}
	scale := binary.BigEndian.Uint32(mvhd[12:16])
	dur := binary.BigEndian.Uint32(mvhd[16:20])
	if scale == 0 {
		return 0
	}
	return float64(dur) / float64(scale)
}

// findBox returns the payload of the first top-level ISO-BMFF box of kind in b.
func findBox(b []byte, kind string) []byte {
	for i := 0; i+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[i : i+4]))
		header := 8
		if size == 1 && i+16 <= len(b) {
			size64 := binary.BigEndian.Uint64(b[i+8 : i+16])
			if size64 > uint64(len(b)-i) {
				return nil
			}
			size, header = int(size64), 16
		} else if size == 0 {
			size = len(b) - i
		}
		if size < header || i+size > len(b) {
			return nil
		}
		if string(b[i+4:i+8]) == kind {
			return b[i+header : i+size]
		}
		i += size
	}
	return nil
}

// wavDuration is the data chunk's size over the byte rate of the fmt chunk.
// The size counted is what the file holds: a data chunk that declares more
// (a file cut short, a size a writer guessed for a pipe) or a placeholder
// (0 or 0xFFFFFFFF in a file whose RIFF size is one too) runs to the end.
func wavDuration(b []byte) float64 {
	if len(b) < 12 {
		return 0
	}
	riff := binary.LittleEndian.Uint32(b[4:8])
	streamed := riff == 0 || riff == 0xFFFFFFFF
	var byteRate, dataSize uint32
	for i := 12; i+8 <= len(b); {
		id, size := string(b[i:i+4]), binary.LittleEndian.Uint32(b[i+4:i+8])
		switch id {
		case "fmt ":
			// The byte rate is bytes 8–11 of the chunk's own data: read
			// within the chunk as declared and as present, never past either.
			data := b[i+8 : i+8+min(int(size), len(b)-i-8)]
			if len(data) >= 12 {
				byteRate = binary.LittleEndian.Uint32(data[8:12])
			}
		case "data":
			held := uint32(len(b) - i - 8)
			dataSize = min(size, held)
			if streamed && size == 0 {
				dataSize = held
			}
		}
		if dataSize != 0 && byteRate != 0 {
			return float64(dataSize) / float64(byteRate)
		}
		next := i + 8 + int(size) + int(size&1)
		if next <= i || next > len(b) {
			break
		}
		i = next
	}
	return 0
}

// flacDuration reads STREAMINFO: sample rate and total samples.
func flacDuration(b []byte) float64 {
	if p, err := id3v2Skip(b); err == nil { // ID3v2 tags a tagger put first
		b = b[p:]
	}
	// "fLaC", then a metadata block header (4 bytes), STREAMINFO first.
	if len(b) < 8+18 || b[4]&0x7F != 0 {
		return 0
	}
	si := b[8:]
	rate := uint32(si[10])<<12 | uint32(si[11])<<4 | uint32(si[12])>>4
	total := uint64(si[13]&0x0F)<<32 | uint64(binary.BigEndian.Uint32(si[14:18]))
	if rate == 0 {
		return 0
	}
	return float64(total) / float64(rate)
}

// genericPreview is the preview of a video or audio upload when no frame can
// be taken from it: a plain dark tile with a play mark, the same for all.
var genericPreview = sync.OnceValue(func() []byte {
	const w, h = 320, 180
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	bg, fg := color.RGBA{0x28, 0x2c, 0x34, 0xff}, color.RGBA{0xd8, 0xdc, 0xe4, 0xff}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := bg
			// a right-pointing triangle in the middle
			dx, dy := x-(w/2-20), y-h/2
			if dx >= 0 && dx <= 45 && dy*dy*4 <= (45-dx)*(45-dx) {
				c = fg
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}) // previews are JPEG, as the serving query assumes
	return buf.Bytes()
})
