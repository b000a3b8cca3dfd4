package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/store"
)

// The allow-list: the domains federation.mode = "allowlist" federates
// with. Kept whatever the mode, so that it can be made before the switch.

// modeNote says when the allow-list is not in force.
func modeNote(cfg *config.Config) string {
	if cfg.Federation.Mode == config.FederationAllowlist {
		return ""
	}
	return " (federation.mode is \"" + cfg.Federation.Mode + "\": the allow-list holds once it is \"allowlist\")"
}

func runDomainAllow(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin domain allow", io)
	d, err := parseDomainArgs(fs, args, "rampart admin domain allow example.net")
	if err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(cfg *config.Config, inst *instance.Instance) error {
		if err := inst.Store().AllowDomain(ctx, d, time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "allowed %s and its subdomains%s\n", d, modeNote(cfg))
		return nil
	})
}

func runDomainDisallow(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin domain disallow", io)
	d, err := parseDomainArgs(fs, args, "rampart admin domain disallow example.net")
	if err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(cfg *config.Config, inst *instance.Instance) error {
		err := inst.Store().DisallowDomain(ctx, d)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s is not on the allow-list", d)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "%s is no longer allowed%s\n", d, modeNote(cfg))
		return nil
	})
}

// domainAllowJSON is one row of `admin domain allowed --json`.
type domainAllowJSON struct {
	Domain    string    `json:"domain"`
	CreatedAt time.Time `json:"created_at"`
}

func runDomainAllowList(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin domain allowed", io)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(cfg *config.Config, inst *instance.Instance) error {
		allows, err := inst.Store().DomainAllows(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			out := make([]domainAllowJSON, 0, len(allows))
			for _, a := range allows {
				out = append(out, domainAllowJSON{Domain: a.Domain, CreatedAt: a.CreatedAt})
			}
			enc := json.NewEncoder(io.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		if len(allows) == 0 {
			fmt.Fprintf(io.Stdout, "no allowed domains (allow one with `rampart admin domain allow`)%s\n", modeNote(cfg))
			return nil
		}
		tw := tabwriter.NewWriter(io.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DOMAIN\tALLOWED")
		for _, a := range allows {
			fmt.Fprintf(tw, "%s\t%s\n", a.Domain, a.CreatedAt.Format(time.DateOnly))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if note := modeNote(cfg); note != "" {
			fmt.Fprintln(io.Stdout, note[1:])
		}
		return nil
	})
}
