package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"activation-bot/storage"
)

func newAudit(env Env) *cobra.Command {
	var since string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List the audit log, newest first: ticket actions and erasures, who and when",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := parseSince(since)
			if err != nil {
				return err
			}
			if limit < 0 {
				return fmt.Errorf("--limit: %d is negative", limit)
			}
			return withApp(cmd, env, func(a *app) error {
				if !from.IsZero() {
					// A day in campus time, as everywhere the bot shows one.
					from = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, a.cfg.Location)
				}
				log, err := a.db.AuditLog(cmd.Context(), from, limit)
				if err != nil {
					return err
				}
				if asJSON {
					return printAuditJSON(env.Stdout, log)
				}
				return printAudit(env.Stdout, log, a.cfg.Location)
			})
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only entries from this day on (YYYY-MM-DD, campus time)")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many entries (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	return cmd
}

func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since: %q is not a day such as 2026-09-21", s)
	}
	return t, nil
}

func printAuditJSON(w io.Writer, log []storage.AuditEntry) error {
	if log == nil {
		log = []storage.AuditEntry{} // [] rather than null for scripts
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func printAudit(w io.Writer, log []storage.AuditEntry, loc *time.Location) error {
	if len(log) == 0 {
		_, err := fmt.Fprintln(w, "no entries")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tACTOR\tACTION\tSUBJECT\tDETAIL")
	for _, e := range log {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.In(loc).Format("2006-01-02 15:04:05"), e.Actor, e.Action, e.Subject, e.Detail)
	}
	return tw.Flush()
}
