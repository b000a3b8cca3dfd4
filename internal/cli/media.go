package cli

import (
	"context"
	"fmt"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/instance"
)

// runAdminMediaPrune does on demand what the server does every hour: remove
// uploads never attached within a day, and files no row refers to.
func runAdminMediaPrune(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin media prune", io)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		swept, err := inst.Media().Sweep(ctx)
		if err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		fmt.Fprintf(io.Stdout, "removed %d expired upload(s) and %d file(s), freeing %d bytes\n", swept.Rows, swept.Files, swept.Bytes)
		return nil
	})
}
