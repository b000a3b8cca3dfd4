package media

import (
	"encoding/binary"
	"image"
	"image/color"
	stddraw "image/draw"
)

// jpegOrientation reads the EXIF Orientation tag (1–8) of a JPEG, 1 when
// absent or unreadable. Re-encoding drops all EXIF, so the orientation a
// phone recorded must be applied to the pixels first or photos turn sideways.
// It is read in the one walk of the JPEG's markers, readJPEGInfo.
func jpegOrientation(data []byte) int {
	info, _ := readJPEGInfo(data)
	return info.orient()
}

// tiffOrientation reads the Orientation tag (1–8) from an Exif TIFF block, 1
// when absent or unreadable.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int(bo.Uint32(t[4:8]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	n := int(bo.Uint16(t[off : off+2]))
	for k := 0; k < n && k < 500; k++ {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:e+2]) == 0x0112 && bo.Uint16(t[e+2:e+4]) == 3 { // Orientation, SHORT
			if v := int(bo.Uint16(t[e+8 : e+10])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// orientsInPlace reports whether orient turns this JPEG's decoded image
// into the same layout: flips swap pixels within the image, and a quarter
// turn copies its planes once. Only chroma a quarter as wide (4:1:1, 4:1:0)
// has no turned form in image.YCbCr and goes through RGBA instead.
func (j jpegInfo) orientsInPlace(o int) bool {
	if o < 5 || len(j.comps) != 3 || j.converted() {
		return true
	}
	return j.comps[0].h/j.comps[1].h != 4
}

// orient turns img as EXIF orientation o says (2–8; 1 is as stored), for the
// image types image/jpeg returns. Flips (2–4) swap pixels within the image's
// buffer. Quarter turns (5–8) copy the planes once, a tile at a time, into
// the same layout: the decoded bytes again, not a 4-byte RGBA with a colour
// conversion per pixel (turning in place would save that copy but, following
// the permutation's cycles through memory, takes fifteen times as long). A
// CMYK image becomes RGBA in place first, as the encoder needs it anyway.
// Anything else is converted to RGBA first.
func orient(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	if c, ok := img.(*image.CMYK); ok {
		img = cmykToRGBA(c)
	}
	switch m := img.(type) {
	case *image.Gray:
		if g, ok := fullGrid(m.Pix, m.Stride, 1, m.Rect); ok {
			r := orientGrids(o, m.Rect, g)
			return (&image.Gray{Pix: g.pix, Stride: g.cols, Rect: image.Rect(0, 0, g.cols, g.rows)}).SubImage(r)
		}
	case *image.RGBA:
		if g, ok := fullGrid(m.Pix, m.Stride, 4, m.Rect); ok {
			r := orientGrids(o, m.Rect, g)
			return (&image.RGBA{Pix: g.pix, Stride: 4 * g.cols, Rect: image.Rect(0, 0, g.cols, g.rows)}).SubImage(r)
		}
	case *image.YCbCr:
		if out, ok := orientYCbCr(m, o); ok {
			return out
		}
	}
	b := img.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	stddraw.Draw(rgba, rgba.Rect, img, b.Min, stddraw.Src)
	return orient(rgba, o)
}

// cmykToRGBA converts m to RGBA within its own buffer (both take four bytes
// a pixel), as image/draw converts CMYK.
func cmykToRGBA(m *image.CMYK) *image.RGBA {
	for i := 0; i+4 <= len(m.Pix); i += 4 {
		p := (*[4]byte)(m.Pix[i:])
		p[0], p[1], p[2] = color.CMYKToRGB(p[0], p[1], p[2], p[3])
		p[3] = 0xFF
	}
	return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
}

// orientYCbCr turns the three planes of m together.
func orientYCbCr(m *image.YCbCr, o int) (image.Image, bool) {
	y, ok := fullGrid(m.Y, m.YStride, 1, m.Rect)
	if !ok {
		return nil, false
	}
	// The chroma planes are the Y plane's size divided by the ratio, exactly
	// (image/jpeg pads to whole MCUs), so pixel (x, y) keeps its chroma
	// sample through every flip and transposition.
	var hr, vr int
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		hr, vr = 1, 1
	case image.YCbCrSubsampleRatio422:
		hr, vr = 2, 1
	case image.YCbCrSubsampleRatio420:
		hr, vr = 2, 2
	case image.YCbCrSubsampleRatio440:
		hr, vr = 1, 2
	case image.YCbCrSubsampleRatio411:
		hr, vr = 4, 1
	case image.YCbCrSubsampleRatio410:
		hr, vr = 4, 2
	default:
		return nil, false
	}
	if y.cols%hr != 0 || y.rows%vr != 0 {
		return nil, false
	}
	cw, ch := y.cols/hr, y.rows/vr
	if m.CStride != cw || len(m.Cb) != cw*ch || len(m.Cr) != cw*ch {
		return nil, false
	}
	ratio := m.SubsampleRatio
	if o >= 5 { // transposed: the chroma's ratio turns too
		turned := map[image.YCbCrSubsampleRatio]image.YCbCrSubsampleRatio{
			image.YCbCrSubsampleRatio444: image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio420: image.YCbCrSubsampleRatio420,
			image.YCbCrSubsampleRatio422: image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio440: image.YCbCrSubsampleRatio422,
		}
		var ok bool
		if ratio, ok = turned[ratio]; !ok {
			return nil, false
		}
	}
	cb, cr := &grid{pix: m.Cb, cols: cw, rows: ch, size: 1}, &grid{pix: m.Cr, cols: cw, rows: ch, size: 1}
	r := orientGrids(o, m.Rect, y, cb, cr)
	out := &image.YCbCr{Y: y.pix, Cb: cb.pix, Cr: cr.pix, YStride: y.cols, CStride: cb.cols, SubsampleRatio: ratio,
		Rect: image.Rect(0, 0, y.cols, y.rows)}
	return out.SubImage(r), true
}

// fullGrid is the whole buffer behind an image whose pixels start at the
// buffer's start (as image/jpeg's do, padding after them): rows of exactly
// stride bytes, as many as the buffer holds.
func fullGrid(pix []byte, stride, size int, r image.Rectangle) (*grid, bool) {
	if r.Min != (image.Point{}) || stride <= 0 || stride%size != 0 || len(pix)%stride != 0 ||
		stride < size*r.Dx() || len(pix)/stride < r.Dy() {
		return nil, false
	}
	return &grid{pix: pix, cols: stride / size, rows: len(pix) / stride, size: size}, true
}

// orientGrids applies orientation o to grids (the first one's pixels are
// the image's; the others are turned the same way) and returns where the
// image's pixels, r within the first grid before, are afterwards.
func orientGrids(o int, r image.Rectangle, grids ...*grid) image.Rectangle {
	transpose := o >= 5
	flipH := o == 2 || o == 3 || o == 6 || o == 7
	flipV := o == 3 || o == 4 || o == 7 || o == 8
	if transpose {
		for _, g := range grids {
			g.transpose()
		}
		r = image.Rect(r.Min.Y, r.Min.X, r.Max.Y, r.Max.X)
	}
	cols, rows := grids[0].cols, grids[0].rows
	if flipH {
		for _, g := range grids {
			g.flipH()
		}
		r.Min.X, r.Max.X = cols-r.Max.X, cols-r.Min.X
	}
	if flipV {
		for _, g := range grids {
			g.flipV()
		}
		r.Min.Y, r.Max.Y = rows-r.Max.Y, rows-r.Min.Y
	}
	return r
}

// grid is a row-major matrix of cells of size bytes (1 or 4), rows without gaps.
type grid struct {
	pix              []byte
	cols, rows, size int
}

func (g *grid) flipH() {
	n := g.cols * g.size
	for y := 0; y < g.rows; y++ {
		row := g.pix[y*n : y*n+n]
		if g.size == 1 {
			for a, b := 0, len(row)-1; a < b; a, b = a+1, b-1 {
				row[a], row[b] = row[b], row[a]
			}
			continue
		}
		for a, b := 0, len(row)-4; a < b; a, b = a+4, b-4 {
			pa, pb := (*[4]byte)(row[a:]), (*[4]byte)(row[b:])
			*pa, *pb = *pb, *pa
		}
	}
}

func (g *grid) flipV() {
	n := g.cols * g.size
	for a, b := 0, g.rows-1; a < b; a, b = a+1, b-1 {
		ra, rb := g.pix[a*n:a*n+n], g.pix[b*n:b*n+n]
		for k := range ra {
			ra[k], rb[k] = rb[k], ra[k]
		}
	}
}

// transpose replaces the grid by its transpose (cols and rows swap), copied
// 64×64 cells at a time so reads and writes both stay in cache.
func (g *grid) transpose() {
	const tile = 64
	cols, rows, src := g.cols, g.rows, g.pix
	out := make([]byte, cols*rows*g.size)
	for r0 := 0; r0 < rows; r0 += tile {
		for c0 := 0; c0 < cols; c0 += tile {
			r1, c1 := min(r0+tile, rows), min(c0+tile, cols)
			for r := r0; r < r1; r++ {
				if g.size == 1 {
					row := src[r*cols : r*cols+c1]
					for c := c0; c < c1; c++ {
						out[c*rows+r] = row[c]
					}
					continue
				}
				row := src[4*r*cols : 4*(r*cols+c1)]
				for c := c0; c < c1; c++ {
					*(*[4]byte)(out[4*(c*rows+r):]) = [4]byte(row[4*c:])
				}
			}
		}
	}
	g.pix, g.cols, g.rows = out, rows, cols
}
