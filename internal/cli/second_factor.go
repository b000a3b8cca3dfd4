package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/store"
)

// runAdminUser2FAReset is rampart admin user 2fa-reset: an account's second
// factors (TOTP, recovery codes, passkeys) removed, for an owner who lost them (the password still guards
// it). What it removed is the line on stdout; the INFO "admin action" line
// goes to stderr with the log, as the audit trail of a change that weakens
// an account.
func runAdminUser2FAReset(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin user 2fa-reset", io)
	username := fs.String("username", "", "the local user (required; or USERNAME first)")
	// USERNAME may come first (as for suspend) or after the flags.
	var first string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		first, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	rest := fs.Args()
	if first == "" && len(rest) == 1 {
		first, rest = rest[0], nil
	}
	if len(rest) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", rest[0])}
	}
	if first != "" && *username != "" {
		return usageError{"USERNAME and --username exclude each other"}
	}
	if first != "" {
		*username = first
	}
	if *username == "" {
		return usageError{"--username is required"}
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		audit := slog.New(slog.NewTextHandler(io.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
		a, removed, err := inst.SecondFactor().ResetByUsername(ctx, audit, *username)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no local user named %q", *username)
		}
		if err != nil {
			return err
		}
		if !removed.TOTP && removed.RecoveryCodes == 0 && removed.Passkeys == 0 {
			fmt.Fprintf(io.Stdout, "@%s had no second factor; nothing removed\n", a.Username)
			return nil
		}
		what := "no authenticator app"
		if removed.TOTP {
			what = "the authenticator app (TOTP)"
		}
		keys := fmt.Sprintf("%d passkeys", removed.Passkeys)
		if removed.Passkeys == 1 {
			keys = "1 passkey"
		}
		fmt.Fprintf(io.Stdout, "removed the second factors of @%s: %s, %d unused recovery codes and %s; the password alone signs in now\n",
			a.Username, what, removed.RecoveryCodes, keys)
		return nil
	})
}
