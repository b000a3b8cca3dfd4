package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/instance"
)

// federationStatusJSON is `admin federation status --json`.
type federationStatusJSON struct {
	JobsPending   int64      `json:"jobs_pending"`
	JobsDead      int64      `json:"jobs_dead"`
	OldestPending *time.Time `json:"oldest_pending"`
	DomainBlocks  int        `json:"domain_blocks"`
}

// runAdminFederationStatus prints the state of the work that leaves the
// request path: the job queue's depth and its oldest pending job (a queue
// that only grows means the runner is stuck or the server is not running),
// the buried jobs, and how many domains are blocked.
func runAdminFederationStatus(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin federation status", io)
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		js, err := inst.Store().JobStats(ctx)
		if err != nil {
			return err
		}
		blocks, err := inst.Store().DomainBlocks(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			out := federationStatusJSON{JobsPending: js.Pending, JobsDead: js.Dead, DomainBlocks: len(blocks)}
			if !js.OldestPending.IsZero() {
				out.OldestPending = &js.OldestPending
			}
			enc := json.NewEncoder(io.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		oldest := "none"
		if !js.OldestPending.IsZero() {
			oldest = fmt.Sprintf("%s (%s ago)", js.OldestPending.Format(time.RFC3339), time.Since(js.OldestPending).Round(time.Second))
		}
		fmt.Fprintf(io.Stdout, "jobs pending:          %d\njobs dead:             %d\noldest pending job:    %s\nblocked domains:       %d\n",
			js.Pending, js.Dead, oldest, len(blocks))
		return nil
	})
}
