// Command rampart is the Rampart fediverse server and its admin tool.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/rampart-social/rampart/internal/cli"
	"github.com/rampart-social/rampart/internal/instance"
)

func main() {
	// Before anything creates a file: nothing Rampart writes is for others to read.
	restrictUmask()
	// SIGTERM (systemd) and SIGINT (Ctrl-C) start a graceful shutdown.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := cli.Main(ctx, os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()},
		instance.Options{AppRoutes: testRoutes, StoreRoutes: testStoreRoutes})
	stop()
	os.Exit(code)
}
