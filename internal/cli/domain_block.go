package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/hostname"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/store"
)

// The `admin domain` commands write the store directly, like the admin
// commands; a running server reads the blocks on every signed request and
// fetch, so a change holds from the next one on.

// parseDomainArgs parses fs and takes the one domain the command names,
// before or after the flags (the flag package stops at the first
// positional argument, and admins write both orders).
func parseDomainArgs(fs *flag.FlagSet, args []string, example string) (string, error) {
	var domain string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		domain, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", usageError{err.Error()}
	}
	rest := fs.Args()
	if domain == "" && len(rest) > 0 {
		domain, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return "", usageError{fmt.Sprintf("unexpected argument %q (one domain per command)", rest[0])}
	}
	if domain == "" {
		return "", usageError{"a domain is required (e.g. " + example + ")"}
	}
	d, ok := hostname.Domain(domain)
	if !ok {
		return "", usageError{fmt.Sprintf("%q is not a domain name: give a host name such as example.net, without scheme, port or path", domain)}
	}
	return d, nil
}

// ownDomain refuses a block that would cover this instance's own hosts.
func ownDomain(cfg *config.Config, d string) error {
	for _, u := range []string{cfg.InstanceURL().Host, cfg.MediaOrigin().Host} {
		if slices.Contains(hostname.Suffixes(u), d) {
			return fmt.Errorf("%s would block this instance's own host %s; refused", d, u)
		}
	}
	return nil
}

// findBlock is the block of exactly d, if there is one, and else the block
// of a parent domain that covers d.
func findBlock(ctx context.Context, st *store.Store, d string) (exact, parent *store.DomainBlock, err error) {
	blocks, err := st.DomainBlocks(ctx)
	if err != nil {
		return nil, nil, err
	}
	covering := hostname.Suffixes(d)
	for i := range blocks {
		switch {
		case blocks[i].Domain == d:
			exact = &blocks[i]
		case slices.Contains(covering, blocks[i].Domain):
			parent = &blocks[i]
		}
	}
	return exact, parent, nil
}

func runDomainBlockAdd(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin domain block", io)
	reason := fs.String("reason", "", "why, for the admins (public in GET /api/v1/instance/domain_blocks when federation.public_domain_blocks is on)")
	severity := fs.String("severity", store.SeveritySuspend, "suspend (nothing federates; its accounts are removed), "+
		"silence (its accounts stay out of the public timelines, their follows need approval) or noop (with --reject-media alone)")
	rejectMedia := fs.Bool("reject-media", false, "show no image or attachment of the domain (with silence or noop)")
	d, err := parseDomainArgs(fs, args, "rampart admin domain block example.net --reason spam")
	if err != nil {
		return err
	}
	switch *severity {
	case store.SeveritySuspend, store.SeveritySilence, store.SeverityNoop:
	default:
		return usageError{fmt.Sprintf("--severity %q: want suspend, silence or noop", *severity)}
	}
	return withInstance(ctx, *cfgPath, io, func(cfg *config.Config, inst *instance.Instance) error {
		if err := ownDomain(cfg, d); err != nil {
			return err
		}
		exact, _, err := findBlock(ctx, inst.Store(), d)
		if err != nil {
			return err
		}
		if *severity != store.SeveritySuspend {
			n, err := inst.Store().LimitDomain(ctx, d, *reason, *severity == store.SeveritySilence, *rejectMedia, time.Now())
			if err != nil {
				return err
			}
			what := map[string]string{store.SeveritySilence: "silenced", store.SeverityNoop: "limited"}[*severity]
			if *rejectMedia {
				what += ", media rejected,"
			}
			fmt.Fprintf(io.Stdout, "%s %s and its subdomains (%d stored accounts of it marked)\n", what, d, n)
			return nil
		}
		removed, err := inst.Store().BlockDomain(ctx, d, *reason, time.Now())
		if err != nil {
			return err
		}
		if exact != nil {
			fmt.Fprintf(io.Stdout, "%s was already blocked; reason set to %q\n", d, *reason)
		} else {
			fmt.Fprintf(io.Stdout, "blocked %s and its subdomains\n", d)
		}
		if removed > 0 {
			fmt.Fprintf(io.Stdout, "removed %d stored accounts of it, with their statuses\n", removed)
		}
		return nil
	})
}

func runDomainBlockRemove(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin domain unblock", io)
	d, err := parseDomainArgs(fs, args, "rampart admin domain unblock example.net")
	if err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		err := inst.Store().UnblockDomain(ctx, d)
		if errors.Is(err, store.ErrNotFound) {
			if _, parent, ferr := findBlock(ctx, inst.Store(), d); ferr == nil && parent != nil {
				return fmt.Errorf("%s is not blocked itself: the block of %s covers it (unblock that one)", d, parent.Domain)
			}
			return fmt.Errorf("%s is not blocked", d)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "unblocked %s (what the block removed stays removed)\n", d)
		return nil
	})
}

// domainBlockJSON is one row of `admin domain list --json`.
type domainBlockJSON struct {
	Domain      string    `json:"domain"`
	Severity    string    `json:"severity"`
	RejectMedia bool      `json:"reject_media"`
	Reason      string    `json:"reason"`
	CreatedAt   time.Time `json:"created_at"`
}

func runDomainBlockList(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin domain list", io)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		blocks, err := inst.Store().DomainBlocks(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			out := make([]domainBlockJSON, 0, len(blocks))
			for _, b := range blocks {
				out = append(out, domainBlockJSON{Domain: b.Domain, Severity: b.Severity, RejectMedia: b.RejectMedia, Reason: b.Reason, CreatedAt: b.CreatedAt})
			}
			enc := json.NewEncoder(io.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		if len(blocks) == 0 {
			fmt.Fprintln(io.Stdout, "no blocked domains (block one with `rampart admin domain block`)")
			return nil
		}
		tw := tabwriter.NewWriter(io.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DOMAIN\tSEVERITY\tMEDIA\tCREATED\tREASON")
		for _, b := range blocks {
			media := "-"
			if b.RejectMedia {
				media = "rejected"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.Domain, b.Severity, media, b.CreatedAt.Format(time.DateOnly), b.Reason)
		}
		return tw.Flush()
	})
}
