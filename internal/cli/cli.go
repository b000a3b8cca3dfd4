// Package cli implements the `rampart` command line: it parses flags, loads
// configuration and calls into the packages that do the work. User errors
// become one clear line on stderr and a non-zero exit, never a stack trace.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/rampart-social/rampart/internal/instance"
)

// Exit statuses.
const (
	ExitOK    = 0
	ExitError = 1 // the command ran and failed (bad config, port in use, …)
	ExitUsage = 2 // the command line itself was wrong
)

// IO is what a command may touch of the process.
type IO struct {
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Environ []string
}

func (io IO) getenv(name string) string {
	for _, kv := range io.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, io IO, opts instance.Options) error
}

func commands() []command {
	return []command{
		{"serve", "run the instance (--config FILE or RAMPART_CONFIG)", runServe},
		{"quickstart", "run a local dev instance with its config generated in --data (default ./data)", runQuickstart},
		{"config check", "validate a config file and print the effective config, secrets redacted", runConfigCheck},
		{"gen config", "print a complete config file with fresh secrets", runGenConfig},
		{"gen systemd", "print the hardened systemd unit", runGenSystemd},
		{"gen nginx", "print the nginx site: TLS for both hosts and the proxy to Rampart (--config)", runGenNginx},
		{"doctor", "check a deployed instance against the hardening measures (--config, --url, --unit, --json)", runDoctor},
		{"version", "print the version", runVersion},
		{"admin user create", "create an approved local account (--username, --email; --admin, --moderator, --password-stdin)", runAdminUserCreate},
		{"admin user list", "list local accounts with role and state (--json for JSON)", runAdminUserList},
		{"admin user reset-password", "set a new password (generated, or --password-stdin) and end every session", runAdminUserResetPassword},
		{"admin user disable", "disable an account and end its sessions and tokens (--username)", runAdminUserDisable},
		{"admin user enable", "enable a disabled account (--username)", runAdminUserEnable},
		{"admin user suspend", "suspend an account: hidden from everyone, sessions and tokens ended, nothing deleted (--username)", runAdminUserSuspend(true)},
		{"admin user unsuspend", "lift an account's suspension (--username)", runAdminUserSuspend(false)},
		{"admin user delete", "delete a local account for good, telling the servers that knew it (--username, --yes)", runAdminUserDelete},
		{"admin user approve", "approve a pending registration (--username)", runAdminUserApprove},
		{"admin user promote", "give an account the admin role (--username; --role moderator for moderator)", runAdminUserPromote},
		{"admin user demote", "make an account a plain user again (--username)", runAdminUserDemote},
		{"admin user 2fa-reset", "remove an account's second factors (TOTP, recovery codes) for an owner who lost them (USERNAME or --username)", runAdminUser2FAReset},
		{"admin domain block", "block a domain and its subdomains, removing their stored accounts (DOMAIN; --reason)", runDomainBlockAdd},
		{"admin domain unblock", "lift a domain block (DOMAIN)", runDomainBlockRemove},
		{"admin domain list", "list the blocked domains (--json for JSON)", runDomainBlockList},
		{"admin domain allow", "allow a domain and its subdomains when federation.mode is \"allowlist\" (DOMAIN)", runDomainAllow},
		{"admin domain disallow", "take a domain off the allow-list (DOMAIN)", runDomainDisallow},
		{"admin domain allowed", "list the allowed domains (--json for JSON)", runDomainAllowList},
		{"admin report list", "the open reports from users and other servers (--all for resolved ones too, --json for JSON)", runReportList},
		{"admin report show", "one report: reporter, target, the statuses' text, comment, category, state (ID)", runReportShow},
		{"admin report resolve", "mark a report resolved (ID)", runReportResolve},
		{"admin federation status", "the job queue (pending, running, retrying, dead, oldest pending), the blocked domains and the failing hosts (--json for JSON)", runAdminFederationStatus},
		{"admin emoji add", "add a custom emoji from a PNG, GIF or WebP image of at most 256 KiB (SHORTCODE FILE; --category)", runEmojiAdd},
		{"admin emoji remove", "remove a custom emoji and its files (SHORTCODE)", runEmojiRemove},
		{"admin emoji list", "list the custom emojis (--json for JSON)", runEmojiList},
		{"admin announcement add", "publish an announcement to every user (TEXT; --starts-at, --ends-at, --all-day)", runAnnouncementAdd},
		{"admin announcement list", "list the announcements, ended ones too (--json for JSON)", runAnnouncementList},
		{"admin announcement remove", "delete an announcement (ID)", runAnnouncementRemove},
		{"admin media prune", "remove uploads never attached within a day and files nothing refers to; report what was freed", runAdminMediaPrune},
		{"admin db migrate", "copy the instance from its SQLite file into an empty PostgreSQL database, the server stopped (--from sqlite:PATH, --to postgres:DSN)", runAdminDBMigrate},
		{"admin db backup", "write a consistent copy of the SQLite database, the server running or not (--to FILE); PostgreSQL: pg_dump", runAdminDBBackup},
	}
}

// usageError marks a wrong command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Main runs the command line args (without the program name) and returns the exit status.
// opts reach the instance that serve and quickstart open.
func Main(ctx context.Context, args []string, io IO, opts instance.Options) int {
	cmd, rest, ok := findCommand(args)
	if !ok {
		if len(args) > 0 && args[0] != "help" && args[0] != "-h" && args[0] != "--help" {
			fmt.Fprintf(io.Stderr, "rampart: unknown command %q\n\n", strings.Join(args, " "))
			usage(io.Stderr)
			return ExitUsage
		}
		usage(io.Stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	err := cmd.run(ctx, rest, io, opts)
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	}
	var ue usageError
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(io.Stderr, "rampart %s: %s\n", cmd.name, line)
	}
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitError
}

func findCommand(args []string) (command, []string, bool) {
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, args[len(words):], true
		}
	}
	return command{}, nil, false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: rampart <command> [flags]\n\nCommands:")
	width := 0
	for _, c := range commands() {
		width = max(width, len(c.name))
	}
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'rampart <command> -h' for a command's flags.")
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, io IO) *flag.FlagSet {
	fs := flag.NewFlagSet("rampart "+name, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	return fs
}

// parseFlags parses and rejects stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
