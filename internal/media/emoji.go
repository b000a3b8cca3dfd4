package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/png"
	"io"

	"github.com/rampart-social/rampart/internal/safely"
)

// MaxEmojiBytes is the largest custom emoji image accepted (Mastodon's
// limit too): emojis are shown many times a page, at text size.
const MaxEmojiBytes = 256 << 10

// emojiFormats are the formats a custom emoji may be: those with
// transparency, as clients draw emojis over text.
var emojiFormats = map[Format]bool{PNG: true, GIF: true, WebP: true}

// EmojiImage is a custom emoji's image as stored: File as uploaded and
// re-encoded (PNG, or GIF for an animation), Static a still PNG of it (the
// same key when File is one).
type EmojiImage struct {
	FileKey     string
	StaticKey   string
	ContentType string
}

// StoreEmoji accepts a custom emoji's image: at most MaxEmojiBytes, sniffed
// as PNG, GIF or WebP, re-encoded as uploads are (within the same memory
// budget) and stored. The keys serve once a custom emoji row names them
// (store.CreateCustomEmoji); if that fails, DeleteEmoji removes them.
func (s *Service) StoreEmoji(ctx context.Context, r io.Reader) (*EmojiImage, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxEmojiBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read emoji image: %w", err)
	}
	if len(data) > MaxEmojiBytes {
		return nil, reject("a custom emoji's image may be at most %s", byteString(MaxEmojiBytes))
	}
	f, err := Sniff(data)
	if len(data) == 0 {
		return nil, reject("the image file is empty")
	}
	if err != nil {
		return nil, reject("a custom emoji must be a PNG, GIF or WebP image; this file is none of them")
	}
	if !emojiFormats[f] {
		return nil, reject("a custom emoji must be a PNG, GIF or WebP image, not %s", f.MIME)
	}
	// Parsers of untrusted bytes: a panic fails this image, not the process.
	parse := func(fn func() error) error {
		err := safely.Do(s.log, "processing a custom emoji", fn)
		var pe *safely.PanicError
		if errors.As(err, &pe) {
			return reject("the image could not be processed")
		}
		return err
	}
	lim := Limits{MaxPixels: int(s.cfg.Media.MaxImagePixels), MaxMemory: int64(s.cfg.Media.DecodeMemoryBytes)}
	var plan *imagePlan
	if err := parse(func() (err error) { plan, err = planImage(data, f, lim); return err }); err != nil {
		return nil, err
	}
	release, err := s.decode.Acquire(ctx, plan.bytes)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, reject("the image would take about %s of memory to process; at most %s are allowed",
			byteString(plan.bytes), byteString(int64(s.cfg.Media.DecodeMemoryBytes)))
	}
	defer release()
	var img *ProcessedImage
	var still []byte
	err = parse(func() (err error) {
		if img, err = plan.process(ctx, data); err != nil {
			return err
		}
		if img.Format == GIF {
			still, err = firstFrame(img.Data)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &EmojiImage{ContentType: img.Format.MIME}
	if out.FileKey, err = s.storage.Put(ctx, img.Format.Ext, img.Data); err != nil {
		return nil, err
	}
	out.StaticKey = out.FileKey
	if still != nil {
		if out.StaticKey, err = s.storage.Put(ctx, PNG.Ext, still); err != nil {
			s.DeleteEmoji(ctx, out)
			return nil, err
		}
	}
	return out, nil
}

// firstFrame is an animation's first frame, drawn on its whole canvas, as a
// PNG: the emoji's static_url, for clients that do not animate.
func firstFrame(data []byte) ([]byte, error) {
	cfg, err := gif.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, reject("the GIF could not be read (%v)", err)
	}
	frame, err := gif.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, reject("the GIF could not be read (%v)", err)
	}
	canvas := image.NewNRGBA(image.Rect(0, 0, cfg.Width, cfg.Height))
	draw.Draw(canvas, frame.Bounds(), frame, frame.Bounds().Min, draw.Src)
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, canvas); err != nil {
		return nil, fmt.Errorf("encode emoji still: %w", err)
	}
	return buf.Bytes(), nil
}

// DeleteEmoji deletes a custom emoji's files: after its row is deleted, or
// when storing the row failed. It runs even when ctx is done; what it fails
// to delete, the sweep removes (nothing references it).
func (s *Service) DeleteEmoji(ctx context.Context, img *EmojiImage) {
	ctx = context.WithoutCancel(ctx)
	for _, key := range []string{img.FileKey, img.StaticKey} {
		if key == "" {
			continue
		}
		if err := s.storage.Delete(ctx, key); err != nil && !errors.Is(err, ErrNoFile) {
			s.log.Error("deleting a custom emoji's file", "key", key, "err", err)
		}
	}
}
