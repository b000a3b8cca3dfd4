package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/deploy"
	"github.com/rampart-social/rampart/internal/doctor"
	"github.com/rampart-social/rampart/internal/instance"
)

// runDoctor is `rampart doctor`: exit 0 when no check fails, 1 when one
// does, 2 when doctor could not run (bad flags, no readable config).
func runDoctor(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs := newFlags("doctor", io)
	cfgFlag := fs.String("config", "", "config file (default: $RAMPART_CONFIG, else "+deploy.DefaultUnitOptions().Config+")")
	url := fs.String("url", "", "the instance's public https origin to check over the wire, e.g. https://example.net (without it only local checks run)")
	unit := fs.String("unit", "", "installed systemd unit (default "+doctor.DefaultUnitPath+"; its absence there only warns)")
	asJSON := fs.Bool("json", false, `print JSON for monitoring: {"checks":[{"id","name","verdict","saw","fix"}],"failed":n,"warned":n}`)
	connect := fs.String("connect", "", "dial HOST:PORT for every https request instead of what DNS says (like curl --connect-to)")
	connectHTTP := fs.String("connect-http", "", "dial HOST:PORT for the http:// redirect probe (default: --connect's host, port 80)")
	ca := fs.String("ca", "", "PEM file of CA certificates to trust besides the system's (SSL_CERT_FILE is honoured too)")
	timeout := fs.Duration("timeout", doctor.DefaultTimeout, "bound for each network request and for systemd-analyze")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *timeout <= 0 {
		return usageError{"--timeout must be greater than zero"}
	}
	path := *cfgFlag
	if path == "" {
		path = io.getenv(config.EnvVarConfig)
	}
	if path == "" {
		path = deploy.DefaultUnitOptions().Config
	}
	rep, err := doctor.Run(ctx, doctor.Options{
		ConfigPath: path, Environ: io.Environ, URL: *url, UnitPath: *unit,
		Connect: *connect, ConnectHTTP: *connectHTTP, CAFile: *ca, Timeout: *timeout,
		Log: slog.New(slog.NewTextHandler(io.Stderr, nil)),
	})
	if err != nil {
		var re *doctor.RunError
		if errors.As(err, &re) {
			return usageError{err.Error()}
		}
		return err
	}
	if *asJSON {
		err = rep.WriteJSON(io.Stdout)
	} else {
		err = rep.WriteTable(io.Stdout)
	}
	if err != nil {
		return err
	}
	if rep.Failed > 0 {
		return fmt.Errorf("%d of %d checks failed", rep.Failed, len(rep.Checks))
	}
	return nil
}
