package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// announcementJSON is one row of `admin announcement list --json`.
type announcementJSON struct {
	ID          string     `json:"id"`
	Text        string     `json:"text"`
	StartsAt    *time.Time `json:"starts_at"`
	EndsAt      *time.Time `json:"ends_at"`
	AllDay      bool       `json:"all_day"`
	PublishedAt time.Time  `json:"published_at"`
	Ended       bool       `json:"ended"`
}

// timeLayouts are what --starts-at and --ends-at accept; without a zone, UTC.
var timeLayouts = []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", time.DateOnly}

func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, usageError{fmt.Sprintf("--%s %q: give a time as 2026-12-24T18:00:00Z (RFC 3339), 2026-12-24T18:00 or 2026-12-24 (UTC)", name, v)}
}

func runAnnouncementAdd(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin announcement add", io)
	startsAt := fs.String("starts-at", "", "when the event announced starts (RFC 3339, or a date)")
	endsAt := fs.String("ends-at", "", "when it ends; the announcement is no longer shown after it")
	allDay := fs.Bool("all-day", false, "the event takes whole days (clients show dates only)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"one text is required, quoted (e.g. `rampart admin announcement add \"Maintenance tonight at 22:00 UTC\"`)"}
	}
	p := social.NewAnnouncement{Text: pos[0], AllDay: *allDay}
	if p.StartsAt, err = parseTimeFlag("starts-at", *startsAt); err != nil {
		return err
	}
	if p.EndsAt, err = parseTimeFlag("ends-at", *endsAt); err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		a, err := inst.Social().AddAnnouncement(ctx, p)
		var ve *social.ValidationError
		if errors.As(err, &ve) {
			field := ve.Field
			if field != "text" {
				field = "--" + strings.ReplaceAll(field, "_", "-")
			}
			return fmt.Errorf("%s %s", field, ve.Msg)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "announcement %d published\n", a.ID)
		return nil
	})
}

func runAnnouncementList(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin announcement list", io)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		list, err := inst.Social().AllAnnouncements(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		out := make([]announcementJSON, 0, len(list))
		for _, a := range list {
			row := announcementJSON{ID: strconv.FormatInt(a.ID, 10), Text: a.Text, AllDay: a.AllDay, PublishedAt: a.PublishedAt,
				Ended: !a.EndsAt.IsZero() && !a.EndsAt.After(now)}
			if !a.StartsAt.IsZero() {
				row.StartsAt = &a.StartsAt
			}
			if !a.EndsAt.IsZero() {
				row.EndsAt = &a.EndsAt
			}
			out = append(out, row)
		}
		if *asJSON {
			enc := json.NewEncoder(io.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		if len(out) == 0 {
			fmt.Fprintln(io.Stdout, "no announcements")
			return nil
		}
		when := func(t *time.Time) string {
			if t == nil {
				return "-"
			}
			return t.Format(time.DateTime)
		}
		tw := tabwriter.NewWriter(io.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPUBLISHED\tSTARTS\tENDS\tSTATE\tTEXT")
		for _, r := range out {
			state := "shown"
			if r.Ended {
				state = "ended"
			}
			text := strings.Join(strings.Fields(r.Text), " ")
			if len([]rune(text)) > 60 {
				text = string([]rune(text)[:57]) + "..."
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%q\n", r.ID, r.PublishedAt.Format(time.DateTime), when(r.StartsAt), when(r.EndsAt), state, text)
		}
		return tw.Flush()
	})
}

func runAnnouncementRemove(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin announcement remove", io)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"one announcement id is required (from `rampart admin announcement list`)"}
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usageError{fmt.Sprintf("%q is not an announcement id", pos[0])}
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		err := inst.Social().RemoveAnnouncement(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no announcement %d", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "announcement %d removed\n", id)
		return nil
	})
}
