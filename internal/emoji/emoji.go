// Package emoji holds the rules of the instance's custom emojis: their
// shortcodes (text.IsShortcode, unique without regard to case), their
// categories, and their images, which the media pipeline checks,
// re-encodes and stores (media.(*Service).StoreEmoji) for the media origin
// to serve while the emoji exists. Admins add and remove them
// (`rampart admin emoji`); the API lists them. No HTTP.
package emoji

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/text"
)

// Service adds, removes and lists custom emojis.
type Service struct {
	store *store.Store
	media *media.Service
	ids   *id.Generator
	now   func() time.Time
}

// New builds the service.
func New(st *store.Store, ms *media.Service, ids *id.Generator) *Service {
	return &Service{store: st, media: ms, ids: ids, now: time.Now}
}

// ErrInvalid wraps every refusal of an emoji's shortcode, category or
// image; its message is safe to show the admin.
var ErrInvalid = errors.New("invalid custom emoji")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// maxCategory bounds a category's name, in characters.
const maxCategory = 64

// Add stores a custom emoji named shortcode from the image in file, in
// category ("" for none). The image is refused unless it is a PNG, GIF or
// WebP of at most media.MaxEmojiBytes that re-encodes cleanly.
func (s *Service) Add(ctx context.Context, shortcode, category string, file io.Reader) (*store.CustomEmoji, error) {
	if !text.IsShortcode(shortcode) {
		return nil, invalid("shortcode %q: use 2 to 64 letters (a-z, A-Z), digits and underscores", shortcode)
	}
	category = strings.TrimSpace(category)
	if !utf8.ValidString(category) || strings.IndexFunc(category, unicode.IsControl) >= 0 {
		return nil, invalid("the category must be text without control characters")
	}
	if n := utf8.RuneCountInString(category); n > maxCategory {
		return nil, invalid("the category is %d characters; at most %d are accepted", n, maxCategory)
	}
	// A taken shortcode is refused before the image is processed; the
	// store's unique index decides a race.
	if taken, err := s.taken(ctx, shortcode); err != nil {
		return nil, err
	} else if taken != "" {
		return nil, fmt.Errorf(":%s: is taken by :%s:: %w", shortcode, taken, store.ErrConflict)
	}
	img, err := s.media.StoreEmoji(ctx, file)
	if errors.Is(err, media.ErrRejected) {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), media.ErrRejected.Error()+": "))
	}
	if err != nil {
		return nil, err
	}
	e := &store.CustomEmoji{ID: s.ids.Next(), Shortcode: shortcode, FileKey: img.FileKey, StaticKey: img.StaticKey,
		ContentType: img.ContentType, Category: category, VisibleInPicker: true, CreatedAt: s.now().UTC()}
	if err := s.store.CreateCustomEmoji(ctx, e); err != nil {
		s.media.DeleteEmoji(ctx, img)
		return nil, err
	}
	return e, nil
}

// taken is the shortcode of an existing emoji equal to shortcode without
// regard to case, or "".
func (s *Service) taken(ctx context.Context, shortcode string) (string, error) {
	all, err := s.store.CustomEmojis(ctx)
	if err != nil {
		return "", err
	}
	for _, e := range all {
		if strings.EqualFold(e.Shortcode, shortcode) {
			return e.Shortcode, nil
		}
	}
	return "", nil
}

// Remove deletes the custom emoji of exactly shortcode, then its files: the
// media origin stops serving them with the row. Statuses that used it show
// the text :shortcode: again.
func (s *Service) Remove(ctx context.Context, shortcode string) error {
	e, err := s.store.DeleteCustomEmoji(ctx, shortcode)
	if err != nil {
		return err
	}
	s.media.DeleteEmoji(ctx, &media.EmojiImage{FileKey: e.FileKey, StaticKey: e.StaticKey})
	return nil
}

// List is every custom emoji, by shortcode.
func (s *Service) List(ctx context.Context) ([]store.CustomEmoji, error) {
	return s.store.CustomEmojis(ctx)
}
