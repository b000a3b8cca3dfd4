package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/moderation"
	"github.com/rampart-social/rampart/internal/store"
)

// The admin commands open the instance's store directly, so they work with
// or without a running server (SQLite in WAL mode serialises the writes).

// adminFlags is a flag set with --config.
func adminFlags(name string, io IO) (*flag.FlagSet, *string) {
	fs := newFlags(name, io)
	return fs, fs.String("config", "", "config file (default: $RAMPART_CONFIG)")
}

// withInstance loads the config, opens the instance for fn and closes it.
// Only warnings and errors are logged, to stderr, so stdout stays clean.
func withInstance(ctx context.Context, configFlag string, io IO, fn func(*config.Config, *instance.Instance) error) (err error) {
	cfg, _, err := loadConfig(configFlag, io)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	inst, err := instance.Open(ctx, cfg, log, instance.Options{})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := inst.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing the store: %w", cerr))
		}
	}()
	return fn(cfg, inst)
}

// flagError turns an account ValidationError into a line naming the flag at fault.
func flagError(err error) error {
	var ve *accounts.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	switch ve.Field {
	case "username", "email", "role":
		return errors.New("--" + ve.Field + ": " + ve.Msg)
	case "password":
		return errors.New("password from --password-stdin: " + ve.Msg)
	}
	return err
}

// newPassword is a fresh random password: 43 characters (256 bits), or
// longer when password_min_length asks for more.
func newPassword(minLen int64) string {
	pw := id.Secret()
	for int64(len(pw)) < minLen {
		pw += id.Secret()
	}
	return pw
}

// readPassword takes the first line of stdin, without its line ending.
func readPassword(io IO) (string, error) {
	if io.Stdin == nil {
		return "", errors.New("--password-stdin: standard input is not available")
	}
	line, err := bufio.NewReader(io.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("--password-stdin: no password on standard input")
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("--password-stdin: the first line of standard input is empty")
	}
	return line, nil
}

// passwordFrom reads stdin when asked to, else generates a password (generated reports which).
func passwordFrom(fromStdin bool, cfg *config.Config, io IO) (pw string, generated bool, err error) {
	if fromStdin {
		pw, err = readPassword(io)
		return pw, false, err
	}
	return newPassword(cfg.Accounts.PasswordMinLength), true, nil
}

func printGenerated(io IO, pw string) {
	fmt.Fprintf(io.Stdout, "password: %s (shown once; store it now)\n", pw)
}

// localUser finds a local account and its user row by name (case-insensitive).
func localUser(ctx context.Context, st *store.Store, name string) (*store.Account, *store.User, error) {
	notFound := fmt.Errorf("no local user named %q", name)
	a, err := st.AccountByUsername(ctx, name, "")
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound
	}
	if err != nil {
		return nil, nil, err
	}
	u, err := st.UserByAccountID(ctx, a.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound
	}
	if err != nil {
		return nil, nil, err
	}
	return a, u, nil
}

func userState(u *store.User) string {
	switch {
	case u.Suspended:
		return "suspended"
	case u.Disabled:
		return "disabled"
	case !u.Approved:
		return "pending"
	}
	return "active"
}

func runAdminUserCreate(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin user create", io)
	username := fs.String("username", "", "username: 1 to 30 of a-z, 0-9 and _ (required)")
	email := fs.String("email", "", "e-mail address (required)")
	admin := fs.Bool("admin", false, "give the account the admin role")
	moderator := fs.Bool("moderator", false, "give the account the moderator role")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin (default: generate one and print it once)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *username == "" || *email == "" {
		return usageError{"--username and --email are required (e.g. --username alice --email alice@example.net)"}
	}
	if *admin && *moderator {
		return usageError{"--admin and --moderator exclude each other"}
	}
	role := accounts.RoleUser
	switch {
	case *admin:
		role = accounts.RoleAdmin
	case *moderator:
		role = accounts.RoleModerator
	}
	return withInstance(ctx, *cfgPath, io, func(cfg *config.Config, inst *instance.Instance) error {
		pw, generated, err := passwordFrom(*fromStdin, cfg, io)
		if err != nil {
			return err
		}
		a, u, err := inst.Accounts().Create(ctx, accounts.NewParams{
			Username: *username, Email: *email, Password: pw, Role: role, Approved: true,
		})
		if err != nil {
			return flagError(err)
		}
		fmt.Fprintf(io.Stdout, "created @%s (id %d, role %s)\n", a.Username, a.ID, u.Role)
		if generated {
			printGenerated(io, pw)
		}
		return nil
	})
}

// userJSON is one row of `admin user list --json`. The id is a string, as in
// Mastodon's API: 64-bit ids do not survive JSON numbers in most tools.
type userJSON struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
}

func runAdminUserList(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin user list", io)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		users, err := inst.Store().ListLocalUsers(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			out := make([]userJSON, 0, len(users))
			for _, lu := range users {
				out = append(out, userJSON{ID: strconv.FormatInt(lu.Account.ID, 10), Username: lu.Account.Username,
					Email: lu.User.Email, Role: lu.User.Role, State: userState(lu.User), CreatedAt: lu.User.CreatedAt})
			}
			enc := json.NewEncoder(io.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		if len(users) == 0 {
			fmt.Fprintln(io.Stdout, "no local users yet (add one with `rampart admin user create`)")
			return nil
		}
		tw := tabwriter.NewWriter(io.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tROLE\tSTATE\tCREATED")
		for _, lu := range users {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", lu.Account.ID, lu.Account.Username, lu.User.Email,
				lu.User.Role, userState(lu.User), lu.User.CreatedAt.Format(time.DateOnly))
		}
		return tw.Flush()
	})
}

func runAdminUserResetPassword(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin user reset-password", io)
	username := fs.String("username", "", "the local user (required)")
	fromStdin := fs.Bool("password-stdin", false, "read the new password from the first line of stdin (default: generate one and print it once)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *username == "" {
		return usageError{"--username is required"}
	}
	return withInstance(ctx, *cfgPath, io, func(cfg *config.Config, inst *instance.Instance) error {
		a, _, err := localUser(ctx, inst.Store(), *username)
		if err != nil {
			return err
		}
		pw, generated, err := passwordFrom(*fromStdin, cfg, io)
		if err != nil {
			return err
		}
		if err := inst.Accounts().ResetPassword(ctx, a.ID, pw); err != nil {
			return flagError(err)
		}
		fmt.Fprintf(io.Stdout, "reset the password of @%s; every session and token of the account was ended\n", a.Username)
		if generated {
			printGenerated(io, pw)
		}
		return nil
	})
}

// userChange is the shape of disable, enable, promote, demote and approve:
// find the user by --username, then apply change.
func userChange(ctx context.Context, name string, args []string, io IO, extra func(*flag.FlagSet) func() error,
	change func(u *store.User) (accounts.Change, string)) error {
	fs, cfgPath := adminFlags(name, io)
	username := fs.String("username", "", "the local user (required)")
	check := func() error { return nil }
	if extra != nil {
		check = extra(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *username == "" {
		return usageError{"--username is required"}
	}
	if err := check(); err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		a, u, err := localUser(ctx, inst.Store(), *username)
		if err != nil {
			return err
		}
		c, msg := change(u)
		if _, err := inst.Accounts().Modify(ctx, a.ID, c); err != nil {
			return flagError(err)
		}
		fmt.Fprintf(io.Stdout, msg+"\n", "@"+a.Username)
		return nil
	})
}

func runAdminUserDisable(ctx context.Context, args []string, io IO, _ instance.Options) error {
	return userChange(ctx, "admin user disable", args, io, nil, func(u *store.User) (accounts.Change, string) {
		t := true
		msg := "disabled %s; every session and token of the account was ended"
		if u.Disabled {
			msg = "%s was already disabled; every session and token of the account was ended"
		}
		return accounts.Change{Disabled: &t}, msg
	})
}

func runAdminUserEnable(ctx context.Context, args []string, io IO, _ instance.Options) error {
	return userChange(ctx, "admin user enable", args, io, nil, func(u *store.User) (accounts.Change, string) {
		f := false
		msg := "enabled %s"
		if !u.Disabled {
			msg = "%s was not disabled"
		}
		if !u.Approved {
			msg += " (it is still pending: `rampart admin user approve` lets it sign in)"
		}
		return accounts.Change{Disabled: &f}, msg
	})
}

// runAdminUserSuspend is rampart admin user suspend and unsuspend: the
// moderation rule the admin API's suspend action follows (hidden from
// everyone, sessions and tokens ended, no sign-in; nothing deleted).
func runAdminUserSuspend(on bool) func(ctx context.Context, args []string, io IO, _ instance.Options) error {
	name := "admin user unsuspend"
	if on {
		name = "admin user suspend"
	}
	return func(ctx context.Context, args []string, io IO, _ instance.Options) error {
		fs, cfgPath := adminFlags(name, io)
		username := fs.String("username", "", "the local user (required; or USERNAME first)")
		var first string
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			first, args = args[0], args[1:]
		}
		if err := parseFlags(fs, args); err != nil {
			return err
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
			// The command line's stderr carries warnings only (withInstance):
			// what was done is the line on stdout.
			mod := moderation.New(inst.Store(), inst.Accounts(), slog.New(slog.NewTextHandler(io.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
			a, already, err := mod.SuspendByUsername(ctx, *username, on)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no local user named %q", *username)
			}
			if err != nil {
				return err
			}
			switch {
			case on && already:
				fmt.Fprintf(io.Stdout, "@%s was already suspended; every session and token of the account was ended\n", a.Username)
			case on:
				fmt.Fprintf(io.Stdout, "suspended @%s: hidden from everyone, every session and token ended; `rampart admin user unsuspend` restores it\n", a.Username)
			case already:
				fmt.Fprintf(io.Stdout, "@%s was not suspended\n", a.Username)
			default:
				fmt.Fprintf(io.Stdout, "unsuspended @%s\n", a.Username)
			}
			return nil
		})
	}
}

func runAdminUserApprove(ctx context.Context, args []string, io IO, _ instance.Options) error {
	return userChange(ctx, "admin user approve", args, io, nil, func(u *store.User) (accounts.Change, string) {
		t := true
		msg := "approved %s"
		if u.Approved {
			msg = "%s was already approved"
		}
		if u.Disabled {
			msg += " (it is still disabled: `rampart admin user enable` lets it sign in)"
		}
		return accounts.Change{Approved: &t}, msg
	})
}

func setRole(role string) func(u *store.User) (accounts.Change, string) {
	return func(u *store.User) (accounts.Change, string) {
		msg := "%s is now " + role + " (was " + u.Role + ")"
		if u.Role == role {
			msg = "%s is already " + role
		}
		return accounts.Change{Role: &role}, msg
	}
}

func runAdminUserPromote(ctx context.Context, args []string, io IO, _ instance.Options) error {
	var role *string
	extra := func(fs *flag.FlagSet) func() error {
		role = fs.String("role", accounts.RoleAdmin, "the new role: admin or moderator")
		return func() error {
			if *role != accounts.RoleAdmin && *role != accounts.RoleModerator {
				return usageError{fmt.Sprintf("--role: %q is not a role to promote to; use admin or moderator (demote makes a user)", *role)}
			}
			return nil
		}
	}
	return userChange(ctx, "admin user promote", args, io, extra, func(u *store.User) (accounts.Change, string) {
		return setRole(*role)(u)
	})
}

func runAdminUserDemote(ctx context.Context, args []string, io IO, _ instance.Options) error {
	return userChange(ctx, "admin user demote", args, io, nil, setRole(accounts.RoleUser))
}

func runAdminUserDelete(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin user delete", io)
	username := fs.String("username", "", "the local user (required)")
	yes := fs.Bool("yes", false, "confirm: the deletion cannot be undone")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *username == "" {
		return usageError{"--username is required"}
	}
	if !*yes {
		return usageError{"deleting an account cannot be undone: add --yes to confirm"}
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		a, _, err := localUser(ctx, inst.Store(), *username)
		if err != nil {
			return err
		}
		err = inst.Accounts().Delete(ctx, a.ID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("@%s was deleted already", a.Username)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "deleted @%s: its statuses, uploads and relations are gone, and the servers that knew it are told; "+
			"the username stays taken\n", a.Username)
		return nil
	})
}
