package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/store"
)

// parseArgs parses fs and returns the positional arguments, which may come
// before, between or after the flags (the flag package stops at the first
// positional argument, and admins write every order).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// emojiJSON is one row of `admin emoji list --json`, in the API's form.
type emojiJSON struct {
	Shortcode       string `json:"shortcode"`
	URL             string `json:"url"`
	StaticURL       string `json:"static_url"`
	ContentType     string `json:"content_type"`
	Category        string `json:"category"`
	VisibleInPicker bool   `json:"visible_in_picker"`
}

func emojiRow(cfg *config.Config, e *store.CustomEmoji) emojiJSON {
	base := cfg.MediaOrigin().String() + "/"
	return emojiJSON{Shortcode: e.Shortcode, URL: base + e.FileKey, StaticURL: base + e.StaticKey, ContentType: e.ContentType,
		Category: e.Category, VisibleInPicker: e.VisibleInPicker}
}

func runEmojiAdd(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin emoji add", io)
	category := fs.String("category", "", "the picker's category for the emoji")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError{"a shortcode and an image file are required (e.g. `rampart admin emoji add blob_cat blob_cat.png`)"}
	}
	code, path := pos[0], pos[1]
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil {
		return err
	} else if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	return withInstance(ctx, *cfgPath, io, func(cfg *config.Config, inst *instance.Instance) error {
		e, err := inst.Emoji().Add(ctx, code, *category, f)
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("shortcode %s: %w", code, err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "added :%s: (%s) at %s\n", e.Shortcode, e.ContentType, emojiRow(cfg, e).URL)
		return nil
	})
}

func runEmojiRemove(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin emoji remove", io)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"one shortcode is required (from `rampart admin emoji list`)"}
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		err := inst.Emoji().Remove(ctx, pos[0])
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no custom emoji :%s:", pos[0])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "removed :%s:\n", pos[0])
		return nil
	})
}

func runEmojiList(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin emoji list", io)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(cfg *config.Config, inst *instance.Instance) error {
		list, err := inst.Emoji().List(ctx)
		if err != nil {
			return err
		}
		out := make([]emojiJSON, 0, len(list))
		for i := range list {
			out = append(out, emojiRow(cfg, &list[i]))
		}
		if *asJSON {
			enc := json.NewEncoder(io.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		if len(out) == 0 {
			fmt.Fprintln(io.Stdout, "no custom emojis")
			return nil
		}
		tw := tabwriter.NewWriter(io.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SHORTCODE\tCATEGORY\tTYPE\tURL")
		for _, e := range out {
			fmt.Fprintf(tw, ":%s:\t%s\t%s\t%s\n", e.Shortcode, e.Category, e.ContentType, e.URL)
		}
		return tw.Flush()
	})
}
