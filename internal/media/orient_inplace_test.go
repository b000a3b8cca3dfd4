package media

import (
	"image"
	"image/color"
	"math/rand/v2"
	"runtime"
	"testing"
)

// referenceOrient is EXIF orientation done the obvious way: every pixel
// copied to where the orientation says, into a new image.
func referenceOrient(img image.Image, o int) *image.RGBA64 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA64(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 1:
				dx, dy = x, y
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			dst.Set(dx, dy, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}

// samePixels compares exactly, or at 8 bits a channel within one when
// approx (an image converted to RGBA first, with image/draw's rounding).
func samePixels(t *testing.T, name string, got image.Image, want *image.RGBA64, approx bool) {
	t.Helper()
	gb, wb := got.Bounds(), want.Bounds()
	if gb.Dx() != wb.Dx() || gb.Dy() != wb.Dy() {
		t.Fatalf("%s: %v, want %v", name, gb.Size(), wb.Size())
	}
	for y := 0; y < wb.Dy(); y++ {
		for x := 0; x < wb.Dx(); x++ {
			g := color.RGBA64Model.Convert(got.At(gb.Min.X+x, gb.Min.Y+y)).(color.RGBA64)
			w := want.RGBA64At(x, y)
			if approx {
				near := func(a, b uint16) bool { return max(a>>8, b>>8)-min(a>>8, b>>8) <= 1 }
				if near(g.R, w.R) && near(g.G, w.G) && near(g.B, w.B) && near(g.A, w.A) {
					continue
				}
			}
			if g != w {
				t.Fatalf("%s: pixel (%d,%d) = %v, want %v", name, x, y, g, w)
			}
		}
	}
}

// padded makes an image of type like image/jpeg's: a w×h view at the start
// of a buffer padded to whole MCUs (mw×mh pixels), every byte random.
func padded(kind string, w, h, mw, mh int, r *rand.Rand) image.Image {
	pw, ph := (w+mw-1)/mw*mw, (h+mh-1)/mh*mh
	fill := func(b []byte) {
		for i := range b {
			b[i] = byte(r.Uint32())
		}
	}
	view := image.Rect(0, 0, w, h)
	switch kind {
	case "gray":
		m := image.NewGray(image.Rect(0, 0, pw, ph))
		fill(m.Pix)
		return m.SubImage(view)
	case "cmyk":
		m := image.NewCMYK(view)
		fill(m.Pix)
		return m
	case "rgba":
		m := image.NewRGBA(view)
		fill(m.Pix)
		for i := 3; i < len(m.Pix); i += 4 {
			m.Pix[i] = 255
		}
		return m
	}
	ratio := map[string]image.YCbCrSubsampleRatio{"444": image.YCbCrSubsampleRatio444, "422": image.YCbCrSubsampleRatio422,
		"420": image.YCbCrSubsampleRatio420, "440": image.YCbCrSubsampleRatio440, "411": image.YCbCrSubsampleRatio411,
		"410": image.YCbCrSubsampleRatio410}[kind]
	m := image.NewYCbCr(image.Rect(0, 0, pw, ph), ratio)
	fill(m.Y)
	fill(m.Cb)
	fill(m.Cr)
	return m.SubImage(view)
}

// Every orientation of every image type image/jpeg returns, with sizes that
// leave padding on both axes, matches the pixel-by-pixel reference.
func TestOrientInPlaceMatchesTheReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	kinds := []struct {
		kind   string
		mw, mh int // MCU size: the padding image/jpeg leaves
	}{{"gray", 8, 8}, {"cmyk", 1, 1}, {"rgba", 1, 1}, {"444", 8, 8}, {"422", 16, 8}, {"420", 16, 16}, {"440", 8, 16}, {"411", 32, 8}, {"410", 32, 16}}
	for _, k := range kinds {
		for _, size := range [][2]int{{37, 21}, {16, 16}, {1, 9}, {45, 2}} {
			for o := 1; o <= 8; o++ {
				src := padded(k.kind, size[0], size[1], k.mw, k.mh, r)
				want := referenceOrient(src, o)
				got := orient(src, o)
				// 4:1:1 and 4:1:0 turned have no YCbCr form: they become
				// RGBA, as CMYK always does (in place).
				converted := o >= 5 && (k.kind == "411" || k.kind == "410") || k.kind == "cmyk" && o > 1
				if _, isRGBA := got.(*image.RGBA); isRGBA != (converted || k.kind == "rgba") {
					t.Fatalf("%s orientation %d gave %T", k.kind, o, got)
				}
				samePixels(t, k.kind+" "+string(rune('0'+o)), got, want, converted)
			}
		}
	}
}

// Orientation costs no second image: turning a 2000×1500 image allocates
// a bit for each byte of its planes (4.5 MB at 4:2:0), nothing for flips.
func TestOrientAllocatesNoSecondImage(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, k := range []string{"420", "422", "gray", "cmyk"} {
		for _, o := range []int{3, 6, 8} {
			src := padded(k, 2000, 1500, 16, 16, r)
			planes := map[string]uint64{"420": 2000 * 1504 * 3 / 2, "422": 2000 * 1504 * 2, "gray": 2000 * 1504, "cmyk": 2000 * 1500 * 4}[k]
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got := orient(src, o)
			runtime.ReadMemStats(&after)
			limit := planes + 16<<10 // one copy of the planes for a quarter turn, none for a flip
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit {
				t.Errorf("%s orientation %d allocated %d bytes, over %d: it copied the image", k, o, alloc, limit)
			}
			if _, same := got.(interface{ Opaque() bool }); !same {
				t.Errorf("%s orientation %d returned %T", k, o, got)
			}
		}
	}
}

// The encoders read RGBA, NRGBA, Gray, Paletted and (JPEG) YCbCr directly;
// CMYK and 16-bit images become one of those within their own buffers,
// keeping the high byte of each 16-bit sample (as image/color does).
func TestForEncoderNarrowsInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	rect := image.Rect(0, 0, 1000, 700)
	n64 := image.NewNRGBA64(rect)
	g16 := image.NewGray16(rect)
	cmyk := image.NewCMYK(rect)
	for _, pix := range [][]byte{n64.Pix, g16.Pix, cmyk.Pix} {
		for i := range pix {
			pix[i] = byte(r.Uint32())
		}
	}
	want := map[string]func(x, y int) color.Color{
		"NRGBA64": func(x, y int) color.Color {
			c := n64.NRGBA64At(x, y)
			return color.NRGBA{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8), uint8(c.A >> 8)}
		},
		"Gray16": func(x, y int) color.Color { return color.Gray{uint8(g16.Gray16At(x, y).Y >> 8)} },
		"CMYK": func(x, y int) color.Color {
			c := cmyk.CMYKAt(x, y)
			r, g, b := color.CMYKToRGB(c.C, c.M, c.Y, c.K)
			return color.RGBA{r, g, b, 255}
		},
	}
	for _, tc := range []struct {
		name string
		img  image.Image
		out  Format
		want func(x, y int) color.Color
	}{{"NRGBA64", n64, PNG, nil}, {"Gray16", g16, PNG, nil}, {"CMYK", cmyk, JPEG, nil}} {
		expect := make([]color.Color, 0, 64)
		for i := 0; i < 64; i++ {
			expect = append(expect, want[tc.name](i*13%1000, i*11%700))
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got := forEncoder(tc.img, tc.out)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<10 {
			t.Errorf("%s: %d bytes allocated: it was copied, not narrowed in place", tc.name, alloc)
		}
		switch got.(type) {
		case *image.NRGBA, *image.Gray, *image.RGBA:
		default:
			t.Fatalf("%s became %T", tc.name, got)
		}
		for i, w := range expect {
			x, y := i*13%1000, i*11%700
			if g := got.ColorModel().Convert(got.At(x, y)); g != got.ColorModel().Convert(w) {
				t.Fatalf("%s: pixel (%d,%d) = %v, want %v", tc.name, x, y, g, w)
			}
		}
	}
}
