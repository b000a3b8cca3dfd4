package social

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

// An announcement's text is rendered safely (markup escaped, tags and
// local mentions linked); bad times are refused; reactions take only
// emojis and this instance's custom emojis, and an ended announcement can
// be neither dismissed nor reacted to.
func TestAnnouncementRules(t *testing.T) {
	ctx := context.Background()
	cfg := testutil.ProdConfig(t, t.TempDir())
	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids := id.NewGenerator()
	now := time.Now()
	alice := &store.Account{ID: ids.Next(), Username: "alice", URI: "https://example.test/users/alice", URL: "https://example.test/@alice", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateLocalAccount(ctx, alice, &store.User{Email: "a@example.test", PasswordHash: "x", Role: "user", Approved: true,
		Locale: "en", DefaultPrivacy: "public", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateCustomEmoji(ctx, &store.CustomEmoji{ID: ids.Next(), Shortcode: "blob", FileKey: "a.png", StaticKey: "a.png",
		ContentType: "image/png", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	s := New(cfg, st, ids, nil)

	a, err := s.AddAnnouncement(ctx, NewAnnouncement{Text: "<script>x</script> hi @alice #News https://example.net/x"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(a.Content, "<script>") || !strings.Contains(a.Content, "&lt;script&gt;") ||
		!strings.Contains(a.Content, `href="https://example.test/@alice"`) || !strings.Contains(a.Content, "/tags/news") ||
		!strings.Contains(a.Content, `href="https://example.net/x"`) {
		t.Errorf("content: %s", a.Content)
	}
	if len(a.MentionIDs) != 1 || a.MentionIDs[0] != alice.ID || len(a.Tags) != 1 || a.Tags[0] != "news" {
		t.Errorf("mentions %v, tags %v", a.MentionIDs, a.Tags)
	}
	var ve *ValidationError
	for _, p := range []NewAnnouncement{
		{Text: "  "},
		{Text: "x", StartsAt: now.Add(2 * time.Hour), EndsAt: now.Add(time.Hour)},
		{Text: "x", EndsAt: now.Add(-time.Hour)},
		{Text: strings.Repeat("x", 5001)},
	} {
		if _, err := s.AddAnnouncement(ctx, p); !errors.As(err, &ve) {
			t.Errorf("%+v: %v, want a validation error", p, err)
		}
	}

	for _, name := range []string{"👍", "blob", "❤️"} {
		if err := s.ReactToAnnouncement(ctx, alice.ID, a.ID, name); err != nil {
			t.Errorf("react %q: %v", name, err)
		}
	}
	for _, name := range []string{"nope", "Blob", "<b>", "", "👍 x"} {
		if err := s.ReactToAnnouncement(ctx, alice.ID, a.ID, name); !errors.As(err, &ve) || ve.Field != "name" {
			t.Errorf("react %q: %v, want a validation error on name", name, err)
		}
	}
	if err := s.DismissAnnouncement(ctx, alice.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.ReactToAnnouncement(ctx, alice.ID, a.ID+1, "👍"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("react to no announcement: %v", err)
	}
	// Ended: no longer listed, dismissed or reacted to.
	s.now = func() time.Time { return now.Add(time.Hour) }
	short, err := s.AddAnnouncement(ctx, NewAnnouncement{Text: "soon over", EndsAt: now.Add(time.Hour + time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return now.Add(2 * time.Hour) }
	if err := s.DismissAnnouncement(ctx, alice.ID, short.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dismiss an ended one: %v", err)
	}
	if err := s.ReactToAnnouncement(ctx, alice.ID, short.ID, "👍"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("react to an ended one: %v", err)
	}
	list, err := s.Announcements(ctx)
	if err != nil || len(list) != 1 || list[0].ID != a.ID {
		t.Errorf("current: %+v, %v", list, err)
	}
	if all, _ := s.AllAnnouncements(ctx); len(all) != 2 {
		t.Errorf("all: %d, want 2", len(all))
	}
}
