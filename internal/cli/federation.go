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
	JobsPending   int64        `json:"jobs_pending"`
	JobsRunning   int64        `json:"jobs_running"`
	JobsRetrying  int64        `json:"jobs_retrying"`
	JobsDead      int64        `json:"jobs_dead"`
	OldestPending *time.Time   `json:"oldest_pending"`
	DomainBlocks  int          `json:"domain_blocks"`
	FailingHosts  []hostStatus `json:"failing_hosts"`
}

// hostStatus is a host whose deliveries fail.
type hostStatus struct {
	Host         string    `json:"host"`
	FailingSince time.Time `json:"failing_since"`
	LastFailure  time.Time `json:"last_failure"`
	Failures     int64     `json:"failures"`
	Unavailable  bool      `json:"unavailable"`
}

// statusHosts is how many failing hosts the status lists.
const statusHosts = 50

// runAdminFederationStatus prints the state of the work that leaves the
// request path: the job queue's depth and its oldest pending job (a queue
// that only grows means the runner is stuck or the server is not running),
// the buried jobs, how many domains are blocked, and the hosts whose
// deliveries fail (unavailable ones first: they get nothing until they are
// heard from).
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
		failing, err := inst.Store().FailingHosts(ctx, statusHosts)
		if err != nil {
			return err
		}
		if *asJSON {
			out := federationStatusJSON{JobsPending: js.Pending, JobsRunning: js.Running, JobsRetrying: js.Retrying, JobsDead: js.Dead,
				DomainBlocks: len(blocks), FailingHosts: []hostStatus{}}
			for _, h := range failing {
				out.FailingHosts = append(out.FailingHosts, hostStatus{Host: h.Host, FailingSince: h.FailingSince, LastFailure: h.LastFailure,
					Failures: h.Failures, Unavailable: h.Unavailable})
			}
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
		fmt.Fprintf(io.Stdout, "jobs pending:          %d (running %d, retrying %d)\njobs dead:             %d\noldest pending job:    %s\nblocked domains:       %d\n",
			js.Pending, js.Running, js.Retrying, js.Dead, oldest, len(blocks))
		fmt.Fprintf(io.Stdout, "failing hosts:         %d\n", len(failing))
		for _, h := range failing {
			state := "failing"
			if h.Unavailable {
				state = "unavailable"
			}
			since := "-"
			if !h.FailingSince.IsZero() {
				since = h.FailingSince.Format(time.RFC3339)
			}
			fmt.Fprintf(io.Stdout, "  %-40s %-11s since %s, %d failures, last %s\n", h.Host, state, since, h.Failures, h.LastFailure.Format(time.RFC3339))
		}
		return nil
	})
}
