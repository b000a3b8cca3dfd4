package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"runtime"

	"github.com/buckket/go-blurhash"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // registers the WebP decoder
)

// Limits bound what an upload may make the server do.
type Limits struct {
	MaxPixels int // width × height, checked before decoding
	// MaxMemory bounds the memory one image's processing may take, as
	// estimated from its header before decoding (imagePlan.bytes); 0 leaves
	// it unchecked.
	MaxMemory int64
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
// image data are gone. The header is read first: an image over the pixel
// limit, or whose processing would take more memory than lim allows, is
// refused before anything is decoded. ctx is checked between the steps
// (decode, orient, preview, encode) and while the decoder reads.
func ProcessImage(ctx context.Context, data []byte, f Format, lim Limits) (*ProcessedImage, error) {
	p, err := planImage(data, f, lim)
	if err != nil {
		return nil, err
	}
	return p.process(ctx, data)
}

// imagePlan is what an image's header says its processing will take.
type imagePlan struct {
	f             Format
	width, height int // as stored, before EXIF orientation
	what          string
	orientation   int   // JPEG only, 1–8
	frames        int   // GIF only
	framePixels   int64 // GIF only: the pixels of all frames
	outLimit      int64 // the most bytes the re-encoded file may take
	steps         []planStep
	collect       bool  // run the collector between steps (see planImage)
	bytes         int64 // the estimated peak, margin included: what admission charges
}

// planStep is one step of processing: alloc is every byte it allocates
// (garbage included), keep what of that outlives it, and frees what it makes
// garbage of what earlier steps kept.
type planStep struct {
	name               string
	alloc, keep, frees int64
}

// smallWork is the most memory an image's processing may allocate in all
// and still run without collections of its own: beyond it, processing
// collects garbage between steps (a decoder's scratch, an image it
// replaced), so the heap holds one step's worth at a time, not the sum.
// A collection costs milliseconds; decoding such an image takes seconds.
const smallWork = 64 << 20

// planImage reads an image's header and estimates the memory its processing
// takes, step by step, refusing it if that is over lim.MaxMemory.
func planImage(data []byte, f Format, lim Limits) (*imagePlan, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, reject("the image could not be read (%v)", err)
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 {
		return nil, reject("the image has no pixels")
	}
	px := int64(w) * int64(h)
	if px > int64(lim.MaxPixels) {
		return nil, reject("the image is %d×%d pixels; at most %d pixels are accepted", w, h, lim.MaxPixels)
	}
	p := &imagePlan{f: f, width: w, height: h, orientation: 1}
	ow, oh := w, h // the preview's source: after orientation
	var decode, img, convert int64
	outPerPixel := int64(4) // of a PNG re-encode
	orientsInPlace := true
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
		p.frames, p.framePixels = frames, pixels
		p.what = fmt.Sprintf("a GIF of %d frames", frames)
		decode, img = gifCost(frames, pixels)
	case JPEG:
		info, ok := readJPEGInfo(data)
		// The colour model image/jpeg reported must be the frame read here;
		// anything else is a file the two readers see differently.
		want := map[color.Model]int{color.GrayModel: 1, color.YCbCrModel: 3, color.RGBAModel: 3, color.CMYKModel: 4}[cfg.ColorModel]
		if !ok || len(info.comps) != want {
			return nil, reject("the image could not be read (its JPEG frame header is inconsistent)")
		}
		if info.scans > maxJPEGScans {
			return nil, reject("the JPEG has %d scans; at most %d are accepted", info.scans, maxJPEGScans)
		}
		p.what = jpegWhat(info)
		decode, img = jpegCost(info, w, h) // CMYK becomes RGBA in place for the encoder
		if p.orientation = info.orient(); p.orientation >= 5 {
			ow, oh = h, w
		}
		orientsInPlace = info.orientsInPlace(p.orientation)
	case PNG:
		info, ok := readPNGInfo(data)
		if !ok {
			return nil, reject("the image could not be read (no PNG header)")
		}
		p.what = pngWhat(info)
		decode, img = pngCost(info, w, h)
		if bpp := info.decodedBytesPerPixel(); bpp <= 2 { // grey or paletted (16-bit grey narrows in place)
			outPerPixel = 1
		}
	case WebP:
		info, ok := readWebPInfo(data)
		if !ok {
			return nil, reject("the image could not be read (no WebP image chunk)")
		}
		p.what = "a lossy WebP"
		if info.lossless {
			p.what = "a lossless WebP"
		} else {
			convert = 4 * px // YCbCr to RGBA for the PNG encoder
		}
		decode, img = webpCost(info, w, h, len(data))
	default:
		return nil, reject("%s is not an image format", f.MIME)
	}
	p.what = fmt.Sprintf("%s of %d×%d pixels", p.what, w, h)

	// The re-encoded file: bounded by its format's worst case for these
	// pixels, and by a multiple of the upload.
	var formatBound int64
	var encoderRows int64 // the encoder's own buffers: PNG's rows, GIF's LZW tables
	switch f {
	case JPEG:
		formatBound = jpegOutPerPixel*px + 64<<10
	case GIF:
		formatBound = p.framePixels*3/2 + p.framePixels/128 + int64(p.frames)*1024 + 64<<10
		encoderRows = int64(p.frames) * gifEncodeFrameBytes
	default: // PNG: stored blocks at worst, a filter byte a row
		raw := outPerPixel*px + int64(h)
		formatBound = raw + raw/1000 + 64<<10
		// image/png's encoder keeps six rows (one per filter, and the
		// previous row) of a filter byte and the row's bytes: nothing for a
		// photo, but 480 MB for a PNG of 20000000×1 pixels.
		encoderRows = pngEncoderRows * (1 + outPerPixel*int64(w))
	}
	p.outLimit = min(formatBound, max(outputFactor*int64(len(data)), outputFloor))

	p.steps = append(p.steps, planStep{name: "decode", alloc: decode, keep: img})
	if p.orientation >= 5 { // a quarter turn copies the image once (flips cost nothing)
		if orientsInPlace {
			p.steps = append(p.steps, planStep{name: "orient", alloc: img, keep: img, frees: img})
		} else { // through RGBA, then turned
			p.steps = append(p.steps, planStep{name: "orient", alloc: 8 * px, keep: 4 * px, frees: img})
			img = 4 * px
		}
	}
	if convert > 0 {
		p.steps = append(p.steps, planStep{name: "convert", alloc: convert, keep: convert, frees: img})
		img = convert
	}
	p.steps = append(p.steps,
		planStep{name: "preview", alloc: previewCost(ow, oh)},
		// Chunks that never copy as they grow, then one exact copy.
		planStep{name: "encode", alloc: 2*p.outLimit + outputChunkMax + 2<<20 + encoderRows, keep: p.outLimit, frees: img})
	p.bytes = p.estimate()
	if lim.MaxMemory > 0 && p.bytes > lim.MaxMemory {
		return nil, reject("the image is %s, which would take about %s of memory to process; at most %s are allowed for one image",
			p.what, byteString(p.bytes), byteString(lim.MaxMemory))
	}
	return p, nil
}

// estimate is the heap the steps can hold at once, with a margin for what the
// model leaves out (buffered readers, Huffman tables, encoder state): without
// collections the sum of everything allocated; with them (processing above
// smallWork) the largest step on top of what earlier steps kept.
func (p *imagePlan) estimate() int64 {
	var sum int64
	for _, s := range p.steps {
		sum += s.alloc
	}
	p.collect = sum > smallWork
	peak := sum
	if p.collect {
		var live int64
		peak = 0
		for _, s := range p.steps {
			peak = max(peak, live+s.alloc)
			live += s.keep - s.frees
		}
	}
	return peak + peak/8 + 4<<20
}

// settle collects the garbage of the step just done when the plan says the
// next one would otherwise pile on top of it.
func (p *imagePlan) settle() {
	if p.collect {
		runtime.GC()
	}
}

func jpegWhat(j jpegInfo) string {
	mode := "baseline"
	if j.progressive {
		mode = "progressive"
	}
	colour := map[int]string{1: "greyscale", 3: "YCbCr", 4: "CMYK"}[len(j.comps)]
	if len(j.comps) == 3 && j.converted() {
		colour = "RGB"
	}
	if len(j.comps) == 4 && j.adobe > 0 {
		colour = "YCCK"
	}
	return fmt.Sprintf("a %s %s JPEG", mode, colour)
}

func pngWhat(p pngInfo) string {
	s := fmt.Sprintf("a %d-bit", p.depth)
	if p.interlaced {
		s += " interlaced"
	}
	return s + " PNG"
}

// process decodes, orients, previews and re-encodes the image as planned.
func (p *imagePlan) process(ctx context.Context, data []byte) (*ProcessedImage, error) {
	if p.f == GIF {
		return p.processGIF(ctx, data)
	}
	img, _, err := image.Decode(ctxReader{ctx, bytes.NewReader(data)})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, reject("the image could not be read (%v)", err)
	}
	if b := img.Bounds(); b.Dx() != p.width || b.Dy() != p.height {
		return nil, reject("the image could not be read (its header says %d×%d, its data %d×%d)", p.width, p.height, b.Dx(), b.Dy())
	}
	p.settle()
	if p.orientation > 1 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		img = orient(img, p.orientation)
		p.settle()
	}
	out := &ProcessedImage{Format: p.f, Size: Size{img.Bounds().Dx(), img.Bounds().Dy()}}
	if p.f != JPEG {
		out.Format = PNG // WebP too: there is no pure-Go lossy encoder, and PNG keeps it lossless
	}
	img = forEncoder(img, out.Format)
	p.settle()
	if err := out.preview(ctx, img); err != nil {
		return nil, err
	}
	p.settle()
	buf := &cappedBuffer{ctx: ctx, limit: p.outLimit}
	if out.Format == JPEG {
		err = jpeg.Encode(buf, img, &jpeg.Options{Quality: 90})
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(buf, img)
	}
	if err := p.encodeError(ctx, err); err != nil {
		return nil, err
	}
	img = nil
	out.Data = buf.bytes()
	buf = nil
	p.settle()
	return out, nil
}

func (p *imagePlan) processGIF(ctx context.Context, data []byte) (*ProcessedImage, error) {
	g, err := gif.DecodeAll(ctxReader{ctx, bytes.NewReader(data)})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, reject("the GIF could not be read (%v)", err)
	}
	if len(g.Image) == 0 || len(g.Image) > maxGIFFrames {
		return nil, reject("the GIF has %d frames; 1 to %d are accepted", len(g.Image), maxGIFFrames)
	}
	g.Config.Width, g.Config.Height = p.width, p.height
	out := &ProcessedImage{Format: GIF, Size: Size{p.width, p.height}}
	if err := out.preview(ctx, g.Image[0]); err != nil {
		return nil, err
	}
	p.settle()
	buf := &cappedBuffer{ctx: ctx, limit: p.outLimit}
	if err := p.encodeError(ctx, gif.EncodeAll(buf, g)); err != nil {
		return nil, err
	}
	g = nil
	out.Data = buf.bytes()
	buf = nil
	p.settle()
	return out, nil
}

func (p *imagePlan) encodeError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, errOutputTooLarge):
		return reject("the image is %s, and re-encoded it would be over %s (at most %d times the upload, or %s)",
			p.what, byteString(p.outLimit), outputFactor, byteString(outputFloor))
	case err != nil:
		return fmt.Errorf("re-encode image: %w", err)
	}
	return nil
}

// preview makes the JPEG preview and the blurhash from img.
func (out *ProcessedImage) preview(ctx context.Context, img image.Image) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	thumb := shrink(img, thumbEdge)
	out.ThumbIs = Size{thumb.Bounds().Dx(), thumb.Bounds().Dy()}
	var tb bytes.Buffer
	if err := jpeg.Encode(&tb, thumb, &jpeg.Options{Quality: 80}); err != nil {
		return fmt.Errorf("encode preview: %w", err)
	}
	out.Thumb = tb.Bytes()
	var err error
	if out.Blurhash, err = blurhash.Encode(4, 3, scaleDown(thumb, 64)); err != nil {
		out.Blurhash = ""
	}
	return ctx.Err()
}

// forEncoder returns img as a type the encoder for out reads directly.
// Others it reads pixel by pixel through an interface, allocating for each
// pixel: garbage the size of the image that the collector frees only when
// the heap has doubled. CMYK and 16-bit images are narrowed within their own
// buffers (16-bit samples keep their high byte, as image/color converts
// them; stored PNGs have eight bits a channel); lossy WebP's YCbCr is
// copied into RGBA for the PNG encoder. The plan counts the copy.
func forEncoder(img image.Image, out Format) image.Image {
	switch m := img.(type) {
	case *image.Gray, *image.RGBA:
		return img
	case *image.CMYK:
		return cmykToRGBA(m)
	case *image.YCbCr:
		if out == JPEG {
			return img
		}
	case *image.NRGBA, *image.Paletted:
		if out == PNG {
			return img
		}
	case *image.NRGBA64:
		if pix, ok := narrow16(m.Pix, m.Stride, 8, m.Rect); ok {
			return &image.NRGBA{Pix: pix, Stride: m.Stride / 2, Rect: m.Rect}
		}
	case *image.RGBA64:
		if pix, ok := narrow16(m.Pix, m.Stride, 8, m.Rect); ok {
			return &image.RGBA{Pix: pix, Stride: m.Stride / 2, Rect: m.Rect}
		}
	case *image.Gray16:
		if pix, ok := narrow16(m.Pix, m.Stride, 2, m.Rect); ok {
			return &image.Gray{Pix: pix, Stride: m.Stride / 2, Rect: m.Rect}
		}
	}
	b := img.Bounds()
	if _, opaque := img.(*image.YCbCr); out == PNG && !opaque {
		n := image.NewNRGBA(b)
		stddraw.Draw(n, b, img, b.Min, stddraw.Src)
		return n
	}
	r := image.NewRGBA(b)
	stddraw.Draw(r, b, img, b.Min, stddraw.Src)
	return r
}

// narrow16 keeps the high byte of each big-endian 16-bit sample of a
// buffer whose rows are exactly width×size bytes, in place: byte i comes
// from byte 2i, which nothing has overwritten yet.
func narrow16(pix []byte, stride, size int, r image.Rectangle) ([]byte, bool) {
	if stride != size*r.Dx() || len(pix) != stride*r.Dy() {
		return nil, false
	}
	n := len(pix) / 2
	for i := 0; i < n; i++ {
		pix[i] = pix[2*i]
	}
	return pix[:n:n], true
}

// fit is the size of w×h scaled to fit edge×edge, keeping its aspect.
func fit(w, h, edge int) (int, int) {
	if w <= edge && h <= edge {
		return w, h
	}
	if w >= h {
		return edge, max(1, int(int64(h)*int64(edge)/int64(w)))
	}
	return max(1, int(int64(w)*int64(edge)/int64(h))), edge
}

// shrinkFactor is the box factor that takes w×h to at most 2·edge a side
// (and, when it shrinks at all, to at least edge on the longer side).
func shrinkFactor(w, h, edge int) int {
	return max(1, (max(w, h)+2*edge-1)/(2*edge))
}

// tileCols is how many source columns shrink converts at once.
func tileCols(w, k int) int {
	return min(w, k*max(1, 4096/k))
}

// pngEncoderRows is how many rows image/png's encoder allocates: one for
// each of its five filters, and the previous row.
const pngEncoderRows = 6

// outputChunkMax is the largest chunk cappedBuffer allocates.
const outputChunkMax = 4 << 20

// previewCost is what shrink and the preview's encoding allocate for a w×h source.
func previewCost(w, h int) int64 {
	tw, th := fit(w, h, thumbEdge)
	k := shrinkFactor(w, h, thumbEdge)
	iw, ih := int64((w+k-1)/k), int64((h+k-1)/k)
	n := 4*iw*ih + 4*int64(tw)*int64(th) // intermediate, preview
	if k > 1 {
		n += 4*int64(tileCols(w, k))*int64(min(h, k)) + 32*iw // a tile, the column sums
	}
	if iw != int64(tw) || ih != int64(th) {
		n += 32 * int64(tw) * ih // x/image/draw's kernel keeps [4]float64 per (destination column, source row)
	}
	n += 3*int64(tw)*int64(th) + 32*64*int64(max(tw, th)) + 1<<20 // the preview JPEG, the blurhash's scaling
	return n
}

// shrink fits img within edge×edge for a preview. A large image is first
// averaged down by an integer factor, a tile at a time, to at most twice
// the edge; only that is resampled with Catmull-Rom. Resampling the whole
// image would make x/image/draw allocate 32 bytes for every destination
// column and source row: 1.3 GB for a 1×40000000 strip.
func shrink(img image.Image, edge int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	tw, th := fit(w, h, edge)
	k := shrinkFactor(w, h, edge)
	var inter *image.RGBA
	if k == 1 {
		inter = image.NewRGBA(image.Rect(0, 0, w, h))
		stddraw.Draw(inter, inter.Rect, img, b.Min, stddraw.Src)
	} else {
		inter = boxShrink(img, k)
	}
	if inter.Rect.Dx() == tw && inter.Rect.Dy() == th {
		return inter
	}
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	draw.CatmullRom.Scale(dst, dst.Rect, inter, inter.Rect, draw.Src, nil)
	return dst
}

// boxShrink averages each k×k block of img into one pixel (partial blocks at
// the right and bottom edges average what they hold). It converts the source
// a tile of at most k rows by tileCols columns at a time into RGBA with
// image/draw, whose paths for the decoders' image types read pixels directly.
func boxShrink(img image.Image, k int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	iw, ih := (w+k-1)/k, (h+k-1)/k
	out := image.NewRGBA(image.Rect(0, 0, iw, ih))
	cols := tileCols(w, k)
	tile := image.NewRGBA(image.Rect(0, 0, cols, min(h, k)))
	sums := make([]uint64, 4*iw)
	for oy := 0; oy < ih; oy++ {
		y0 := oy * k
		rows := min(k, h-y0)
		clear(sums)
		for x0 := 0; x0 < w; x0 += cols {
			n := min(cols, w-x0)
			r := image.Rect(0, 0, n, rows)
			stddraw.Draw(tile, r, img, image.Pt(b.Min.X+x0, b.Min.Y+y0), stddraw.Src)
			for y := 0; y < rows; y++ {
				row := tile.Pix[y*tile.Stride : y*tile.Stride+4*n]
				for x := 0; x < n; x++ {
					s := sums[4*((x0+x)/k):]
					s[0] += uint64(row[4*x])
					s[1] += uint64(row[4*x+1])
					s[2] += uint64(row[4*x+2])
					s[3] += uint64(row[4*x+3])
				}
			}
		}
		for ox := 0; ox < iw; ox++ {
			count := uint64(min(k, w-ox*k) * rows)
			d := out.Pix[oy*out.Stride+4*ox:]
			for c := 0; c < 4; c++ {
				d[c] = uint8((sums[4*ox+c] + count/2) / count)
			}
		}
	}
	return out
}

// scaleDown fits img within edge×edge, keeping its aspect; smaller images
// are copied. It resamples img whole: use it on small images only (the
// preview, for the blurhash).
func scaleDown(img image.Image, edge int) image.Image {
	b := img.Bounds()
	w, h := fit(b.Dx(), b.Dy(), edge)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if w == b.Dx() && h == b.Dy() {
		stddraw.Draw(dst, dst.Bounds(), img, b.Min, stddraw.Src)
		return dst
	}
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

// ctxReader stops a decoder between reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// errOutputTooLarge is a re-encoded image over its plan's outLimit.
var errOutputTooLarge = errors.New("re-encoded image over its limit")

// cappedBuffer collects an encoder's output in chunks that never move
// (bytes.Buffer copies everything each time it grows, holding up to three
// times the output), refuses to grow past limit, and stops the encoder
// when ctx is done.
type cappedBuffer struct {
	ctx    context.Context
	limit  int64
	n      int64
	chunks [][]byte
}

func (c *cappedBuffer) Write(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if c.n+int64(len(b)) > c.limit {
		return 0, errOutputTooLarge
	}
	c.n += int64(len(b))
	written := len(b)
	for len(b) > 0 {
		last := len(c.chunks) - 1
		if last < 0 || len(c.chunks[last]) == cap(c.chunks[last]) {
			size := min(64<<10<<min(len(c.chunks), 6), outputChunkMax) // 64 KiB doubling to 4 MiB
			c.chunks = append(c.chunks, make([]byte, 0, size))
			last++
		}
		ch := c.chunks[last]
		n := min(len(b), cap(ch)-len(ch))
		c.chunks[last] = append(ch, b[:n]...)
		b = b[n:]
	}
	return written, nil
}

// bytes is the output as one slice of exactly its length.
func (c *cappedBuffer) bytes() []byte {
	out := make([]byte, 0, c.n)
	for _, ch := range c.chunks {
		out = append(out, ch...)
	}
	return out
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
