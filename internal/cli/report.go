package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/store"
)

// reportJSON is one row of `admin report list --json`. Ids are strings,
// as in the Mastodon API.
type reportJSON struct {
	ID         string     `json:"id"`
	Reporter   string     `json:"reporter"`
	Target     string     `json:"target"`
	StatusIDs  []string   `json:"status_ids"`
	Comment    string     `json:"comment"`
	Category   string     `json:"category"`
	CreatedAt  time.Time  `json:"created_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
}

// reportsListed is how many reports the list shows.
const reportsListed = 200

// acctOf names an account as a person would: user, or user@host.
func acctOf(a *store.Account) string {
	if a.Domain == "" {
		return a.Username
	}
	return a.Username + "@" + a.Domain
}

func runReportList(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin report list", io)
	all := fs.Bool("all", false, "list resolved reports too")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		reports, err := inst.Store().Reports(ctx, *all, reportsListed)
		if err != nil {
			return err
		}
		out := make([]reportJSON, 0, len(reports))
		for _, r := range reports {
			row := reportJSON{ID: strconv.FormatInt(r.ID, 10), Comment: r.Comment, Category: r.Category, CreatedAt: r.CreatedAt, StatusIDs: []string{}}
			for _, id := range r.StatusIDs {
				row.StatusIDs = append(row.StatusIDs, strconv.FormatInt(id, 10))
			}
			if a, err := inst.Store().AccountByID(ctx, r.AccountID); err == nil {
				row.Reporter = acctOf(a)
			}
			if a, err := inst.Store().AccountByID(ctx, r.TargetID); err == nil {
				row.Target = acctOf(a)
			}
			if !r.ResolvedAt.IsZero() {
				row.ResolvedAt = &r.ResolvedAt
			}
			out = append(out, row)
		}
		if *asJSON {
			enc := json.NewEncoder(io.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		if len(out) == 0 {
			fmt.Fprintln(io.Stdout, "no open reports")
			return nil
		}
		tw := tabwriter.NewWriter(io.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCREATED\tREPORTER\tTARGET\tCATEGORY\tSTATUSES\tCOMMENT")
		for _, r := range out {
			comment := r.Comment
			if len(comment) > 60 {
				comment = comment[:57] + "..."
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%q\n", r.ID, r.CreatedAt.Format(time.DateTime), r.Reporter, r.Target, r.Category, len(r.StatusIDs), comment)
		}
		return tw.Flush()
	})
}

// reportIDArg reads the one report id of a command, before or after its flags.
func reportIDArg(fs *flag.FlagSet, args []string) (int64, error) {
	// The id before or after the flags, as with the domain commands.
	var arg string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		arg, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, err
		}
		return 0, usageError{err.Error()}
	}
	rest := fs.Args()
	if arg == "" && len(rest) > 0 {
		arg, rest = rest[0], rest[1:]
	}
	if arg == "" || len(rest) > 0 {
		return 0, usageError{"one report id is required (from `rampart admin report list`)"}
	}
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError{fmt.Sprintf("%q is not a report id", arg)}
	}
	return id, nil
}

func runReportResolve(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin report resolve", io)
	id, err := reportIDArg(fs, args)
	if err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		err := inst.Store().ResolveReport(ctx, id, time.Now())
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no open report %d", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "report %d resolved\n", id)
		return nil
	})
}

// runReportShow prints one report whole: who reported whom, the reported
// statuses' text, the comment, the category and its state.
func runReportShow(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin report show", io)
	id, err := reportIDArg(fs, args)
	if err != nil {
		return err
	}
	return withInstance(ctx, *cfgPath, io, func(_ *config.Config, inst *instance.Instance) error {
		st := inst.Store()
		r, err := st.ReportByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no report %d", id)
		}
		if err != nil {
			return err
		}
		name := func(id int64) string {
			if a, err := st.AccountByID(ctx, id); err == nil {
				return acctOf(a)
			}
			return fmt.Sprintf("account %d (gone)", id)
		}
		state := "open"
		if !r.ResolvedAt.IsZero() {
			state = "resolved " + r.ResolvedAt.Format(time.DateTime)
			if r.ResolvedBy != 0 {
				state += " by " + name(r.ResolvedBy)
			}
		}
		w := io.Stdout
		fmt.Fprintf(w, "report:    %d\n", r.ID)
		fmt.Fprintf(w, "created:   %s\n", r.CreatedAt.Format(time.DateTime))
		fmt.Fprintf(w, "reporter:  %s\n", name(r.AccountID))
		fmt.Fprintf(w, "target:    %s\n", name(r.TargetID))
		fmt.Fprintf(w, "category:  %s\n", r.Category)
		fmt.Fprintf(w, "state:     %s\n", state)
		if r.AssignedID != 0 {
			fmt.Fprintf(w, "assigned:  %s\n", name(r.AssignedID))
		}
		if r.URI != "" {
			fmt.Fprintf(w, "flag:      %s\n", r.URI)
		}
		fmt.Fprintf(w, "comment:   %q\n", r.Comment)
		statuses, err := st.StatusesByIDs(ctx, r.StatusIDs)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "statuses:  %d\n", len(r.StatusIDs))
		for _, sid := range r.StatusIDs {
			s, ok := statuses[sid]
			if !ok {
				fmt.Fprintf(w, "  %d: (deleted)\n", sid)
				continue
			}
			text := s.Text
			if text == "" {
				text = s.Content
			}
			fmt.Fprintf(w, "  %d: %q\n", sid, text)
		}
		return nil
	})
}
