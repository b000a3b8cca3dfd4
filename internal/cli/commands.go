package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rampart-social/rampart/internal/buildinfo"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/deploy"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/logging"
)

func runVersion(_ context.Context, args []string, io IO, opts instance.Options) error {
	if err := parseFlags(newFlags("version", io), args); err != nil {
		return err
	}
	v := "rampart " + buildinfo.Version
	if c := buildinfo.Commit(); c != "" {
		v += " (" + c + ")"
	}
	fmt.Fprintln(io.Stdout, v)
	return nil
}

// loadConfig loads the file named by --config, else by RAMPART_CONFIG, with
// the process's RAMPART_* overrides; it also returns the path it used.
func loadConfig(path string, io IO) (*config.Config, string, error) {
	if path == "" {
		path = io.getenv(config.EnvVarConfig)
	}
	if path == "" {
		return nil, "", usageError{"no config file: pass --config FILE or set " + config.EnvVarConfig + " (create one with `rampart gen config`)"}
	}
	cfg, err := config.Load(path, io.Environ)
	return cfg, path, err
}

func runServe(ctx context.Context, args []string, io IO, opts instance.Options) error {
	fs := newFlags("serve", io)
	path := fs.String("config", "", "config file (default: $RAMPART_CONFIG)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, _, err := loadConfig(*path, io)
	if err != nil {
		return err
	}
	log, flush := logging.New(cfg, io.Stderr)
	defer flush()
	return instance.Run(ctx, cfg, log, opts)
}

func runConfigCheck(_ context.Context, args []string, io IO, opts instance.Options) error {
	fs := newFlags("config check", io)
	path := fs.String("config", "", "config file (default: $RAMPART_CONFIG)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, p, err := loadConfig(*path, io)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "# %s is valid. Effective configuration (secrets redacted):\n", p)
	fmt.Fprint(io.Stdout, cfg.Redacted())
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(io.Stderr, "WARNING: %s\n", w)
	}
	return nil
}

func runGenConfig(_ context.Context, args []string, io IO, opts instance.Options) error {
	fs := newFlags("gen config", io)
	var o config.GenOptions
	fs.StringVar(&o.Domain, "domain", "", "instance host, e.g. example.net (required)")
	fs.StringVar(&o.MediaDomain, "media-domain", "", "media host, e.g. media.example.net (required; must differ)")
	fs.StringVar(&o.Env, "env", config.EnvProd, "environment: prod or dev")
	fs.StringVar(&o.Listen, "listen", config.DefaultListen, "listen address, host:port or unix:/path")
	fs.StringVar(&o.DataDir, "data", config.Defaults().DataDir, "data directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.Domain == "" || o.MediaDomain == "" {
		return usageError{"--domain and --media-domain are required (e.g. --domain example.net --media-domain media.example.net)"}
	}
	out, err := config.Generate(o)
	if err != nil {
		return err
	}
	_, err = io.Stdout.Write(out)
	return err
}

func runGenSystemd(_ context.Context, args []string, io IO, opts instance.Options) error {
	fs := newFlags("gen systemd", io)
	o := deploy.DefaultUnitOptions()
	fs.StringVar(&o.Binary, "binary", o.Binary, "path of the rampart binary")
	fs.StringVar(&o.Config, "config", o.Config, "path of the config file; when it exists, its database.driver = \"postgres\" orders the unit after postgresql.service")
	fs.StringVar(&o.User, "user", o.User, "unprivileged user (and group) to run as")
	fs.StringVar(&o.DataDir, "data", o.DataDir, "data directory (data_dir)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	postgres, err := unitDatabase(o.Config)
	if err != nil {
		return err
	}
	o.Postgres = postgres
	unit, err := deploy.SystemdUnit(o)
	if err != nil {
		return usageError{err.Error()}
	}
	_, err = fmt.Fprint(io.Stdout, unit)
	return err
}

// unitDatabase reports whether the config at path runs on PostgreSQL, for
// gen systemd. A file that does not exist (yet) gives the SQLite unit, so
// the unit can be written before the config; one that exists must be read,
// since guessing SQLite for a PostgreSQL config would leave the unit
// unordered against the database. RAMPART_* variables of this shell are not
// applied: the unit sets none, so the file alone is what serve reads.
func unitDatabase(path string) (postgres bool, err error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	cfg, err := config.Load(path, nil)
	if errors.Is(err, os.ErrPermission) {
		return false, fmt.Errorf("--config: %w; run gen systemd with sudo (the unit depends on the config's database.driver)", err)
	}
	if err != nil {
		return false, fmt.Errorf("--config: %w", err)
	}
	return cfg.Database.Driver == config.DriverPostgres, nil
}

// quickstartConfigName is the config quickstart writes into --data on first run.
const quickstartConfigName = "rampart.toml"

func runQuickstart(ctx context.Context, args []string, io IO, opts instance.Options) error {
	fs := newFlags("quickstart", io)
	data := fs.String("data", "./data", "directory for the config, database and uploads")
	listen := fs.String("listen", config.DefaultListen, "loopback host:port to listen on")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := filepath.Abs(*data)
	if err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	_, port, err := splitLoopbackListen(*listen)
	if err != nil {
		return usageError{err.Error()}
	}
	path := filepath.Join(dir, quickstartConfigName)
	// The app is on localhost and media on 127.0.0.1: two hosts, one listener,
	// and browsers treat both as secure contexts over plain http.
	overrides := []string{
		"RAMPART_HTTP_LISTEN=" + *listen,
		"RAMPART_URL=http://localhost:" + port,
		"RAMPART_MEDIA_URL=http://127.0.0.1:" + port,
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		gen, err := config.Generate(config.GenOptions{
			Domain: "localhost:" + port, MediaDomain: "127.0.0.1:" + port,
			Env: config.EnvDev, Listen: *listen, DataDir: dir,
		})
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, gen, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Fprintf(io.Stdout, "Wrote a dev config to %s (reused on the next run).\n", path)
	} else if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	cfg, err := config.Load(path, append(append([]string(nil), io.Environ...), overrides...))
	if err != nil {
		return err
	}
	if !cfg.IsDev() {
		return fmt.Errorf("%s: env is %q; quickstart runs only dev instances — use `rampart serve` for production", path, cfg.Env)
	}
	fmt.Fprintf(io.Stdout, "\nRampart dev instance (not for production)\n"+
		"  app:        %s/  the instance: open it in a browser, point Mastodon apps at it\n"+
		"  media host: %s/  uploaded files only (the same port under another host name, so that uploads never act as the app)\n"+
		"  data:       %s\nCtrl-C stops it.\n\n",
		cfg.InstanceURL(), cfg.MediaOrigin(), dir)
	log, flush := logging.New(cfg, io.Stderr)
	defer flush()
	return instance.Run(ctx, cfg, log, opts)
}
