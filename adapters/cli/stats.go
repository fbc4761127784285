package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"activation-bot/flows"
	"activation-bot/storage"
)

const dateLayout = "2006-01-02"

func newStats(env Env) *cobra.Command {
	var since string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "The funnel: where students are, where they stop, how long activation takes",
		Long: "Figures computed from the stored rows: students per step, account state, platform and\n" +
			"language; how many reached each step of the flow and how many stopped there; median and\n" +
			"90th percentile time from first message to each account done; problems per category;\n" +
			"proactive messages sent and the share of recipients who progressed within 48 hours.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Checked before the database is opened, so a typo costs nothing.
			if _, err := time.Parse(dateLayout, since); since != "" && err != nil {
				return fmt.Errorf("--since: %q is not a date such as 2026-09-01", since)
			}
			a, err := openApp(cmd.Context(), env, slog.LevelWarn, true)
			if err != nil {
				return err
			}
			defer a.db.Close()
			pack, err := a.pack()
			if err != nil {
				return err
			}
			filter := storage.StatsFilter{Accounts: accountIDs(pack)}
			if since != "" {
				// Midnight on campus, where "the 15th" begins for the admin.
				filter.Since, _ = time.ParseInLocation(dateLayout, since, a.cfg.Location)
			}
			st, err := a.db.Stats(cmd.Context(), filter)
			if err != nil {
				return err
			}
			r := newReport(st, flowOrder(pack), since)
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			return r.print(env.Stdout)
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only students whose first message came on or after this date (YYYY-MM-DD, campus time)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func accountIDs(p *flows.Pack) []string {
	ids := make([]string, len(p.Accounts))
	for i, a := range p.Accounts {
		ids[i] = a.ID
	}
	return ids
}

// flowOrder is the pack's main path (flows.Pack.MainPath), the order the
// funnel is shown in, here and on the console's funnel page.
func flowOrder(p *flows.Pack) []string { return p.MainPath() }

// report is the funnel as printed; its JSON keys are the `stats --json`
// contract.
type report struct {
	Since      *string         `json:"since"`
	Students   int             `json:"students"`
	Completed  int             `json:"completed"`
	Steps      []nodeCount     `json:"steps"`
	StepsBy    []stepBy        `json:"steps_by_platform_and_language"`
	Accounts   []accountCount  `json:"accounts"`
	Platforms  []platformCount `json:"platforms"`
	Languages  []langCount     `json:"languages"`
	Funnel     []funnelStep    `json:"funnel"`
	TimeToDone []timeToDone    `json:"time_to_done"`
	Problems   []problemCount  `json:"problems"`
	Proactive  []proactive     `json:"proactive"`
}

type nodeCount struct {
	Node     string `json:"node"`
	Students int    `json:"students"`
}

type stepBy struct {
	Node     string `json:"node"`
	Platform string `json:"platform"`
	Lang     string `json:"lang"`
	Students int    `json:"students"`
}

type platformCount struct {
	Platform string `json:"platform"`
	Students int    `json:"students"`
}

type langCount struct {
	Lang     string `json:"lang"`
	Students int    `json:"students"`
}

type accountCount struct {
	Account    string `json:"account"`
	NotStarted int    `json:"not_started"`
	Waiting    int    `json:"waiting"`
	Done       int    `json:"done"`
	Problem    int    `json:"problem"`
}

// funnelStep: DropOff is Reached minus the next step's Reached, negative
// when students skip this step (the wait is only for some).
type funnelStep = storage.FunnelStep

type timeToDone struct {
	Account       string `json:"account"` // "all": every account done
	Students      int    `json:"students"`
	MedianSeconds int64  `json:"median_seconds"`
	P90Seconds    int64  `json:"p90_seconds"`
	Median        string `json:"median"`
	P90           string `json:"p90"`
}

type problemCount struct {
	Category string `json:"category"`
	Open     int    `json:"open"`
	Resolved int    `json:"resolved"`
}

type proactive struct {
	Kind          string  `json:"kind"`
	Sent          int     `json:"sent"`
	Recipients    int     `json:"recipients"`
	Progressed48h int     `json:"progressed_48h"`
	ProgressedPct float64 `json:"progressed_pct"`
}

func newReport(st storage.Stats, order []string, since string) report {
	r := report{Students: st.Students, Completed: st.Completed}
	if since != "" {
		r.Since = &since
	}
	r.Steps = convert(st.Steps, func(c storage.Count) nodeCount { return nodeCount{c.Key, c.N} })
	r.StepsBy = convert(st.StepsBy, func(c storage.StepCount) stepBy { return stepBy{c.Node, c.Platform, c.Lang, c.N} })
	r.Platforms = convert(st.Platforms, func(c storage.Count) platformCount { return platformCount{c.Key, c.N} })
	r.Languages = convert(st.Languages, func(c storage.Count) langCount { return langCount{c.Key, c.N} })
	r.Accounts = convert(st.Accounts, func(a storage.AccountCounts) accountCount {
		return accountCount{a.Account, a.NotStarted, a.Waiting, a.Done, a.Problem}
	})
	r.Funnel = storage.Funnel(st.Reached, order)
	r.TimeToDone = convert(st.Done, newTimeToDone)
	r.Problems = convert(st.Problems, func(p storage.ProblemCounts) problemCount {
		return problemCount{p.Category, p.Open, p.Resolved}
	})
	r.Proactive = convert(st.Proactive, func(p storage.ProactiveCounts) proactive {
		return proactive{p.Kind, p.Sent, p.Recipients, p.Progressed, storage.Percent(p.Progressed, p.Recipients)}
	})
	return r
}

// convert maps a list, giving an empty (not nil) one so JSON shows [].
func convert[S, T any](in []S, fn func(S) T) []T {
	out := make([]T, len(in))
	for i, x := range in {
		out[i] = fn(x)
	}
	return out
}

func newTimeToDone(t storage.TimeToDone) timeToDone {
	med, p90 := storage.Percentile(t.Durations, 50), storage.Percentile(t.Durations, 90)
	account := t.Account
	if account == "" {
		account = "all"
	}
	return timeToDone{Account: account, Students: len(t.Durations),
		MedianSeconds: int64(med / time.Second), P90Seconds: int64(p90 / time.Second),
		Median: storage.HumanDuration(med, len(t.Durations)), P90: storage.HumanDuration(p90, len(t.Durations))}
}

// print writes the report as aligned sections.
func (r report) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	scope := "all students"
	if r.Since != nil {
		scope = "students since " + *r.Since
	}
	fmt.Fprintf(tw, "Funnel of %s\n", scope)
	fmt.Fprintf(tw, "Students\t%d\nCompleted (every account done)\t%d\n", r.Students, r.Completed)
	r.printPositions(tw)
	r.printFlow(tw)
	r.printOutcomes(tw)
	return tw.Flush()
}

// printPositions: where students are now.
func (r report) printPositions(tw io.Writer) {
	fmt.Fprint(tw, "\nCURRENT STEP\tSTUDENTS\n")
	for _, s := range r.Steps {
		fmt.Fprintf(tw, "%s\t%d\n", orNone(s.Node, "(not started)"), s.Students)
	}
	fmt.Fprint(tw, "\nACCOUNT\tNOT STARTED\tWAITING\tDONE\tPROBLEM\n")
	for _, a := range r.Accounts {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", a.Account, a.NotStarted, a.Waiting, a.Done, a.Problem)
	}
	fmt.Fprint(tw, "\nPLATFORM\tSTUDENTS\n")
	for _, p := range r.Platforms {
		fmt.Fprintf(tw, "%s\t%d\n", p.Platform, p.Students)
	}
	fmt.Fprint(tw, "\nLANGUAGE\tSTUDENTS\n")
	for _, l := range r.Languages {
		fmt.Fprintf(tw, "%s\t%d\n", orNone(l.Lang, "(not chosen)"), l.Students)
	}
	fmt.Fprint(tw, "\nCURRENT STEP\tPLATFORM\tLANGUAGE\tSTUDENTS\n")
	for _, b := range r.StepsBy {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", orNone(b.Node, "(not started)"), b.Platform, orNone(b.Lang, "(not chosen)"), b.Students)
	}
}

// printFlow: how far students got, and how fast.
func (r report) printFlow(tw io.Writer) {
	fmt.Fprint(tw, "\nSTEP (FLOW ORDER)\tREACHED\tDROP-OFF TO NEXT\n")
	for i, s := range r.Funnel {
		drop := "-"
		if i+1 < len(r.Funnel) {
			drop = fmt.Sprintf("%d (%.1f%%)", s.DropOff, s.DropOffPct)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", s.Node, s.Reached, drop)
	}
	fmt.Fprint(tw, "\nTIME TO DONE\tSTUDENTS\tMEDIAN\tP90\n")
	for _, t := range r.TimeToDone {
		name := t.Account
		if name == "all" {
			name = "all accounts"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", name, t.Students, t.Median, t.P90)
	}
}

// printOutcomes: problems reported, and what proactive messages did.
func (r report) printOutcomes(tw io.Writer) {
	fmt.Fprint(tw, "\nPROBLEM\tOPEN\tRESOLVED\n")
	for _, p := range r.Problems {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", p.Category, p.Open, p.Resolved)
	}
	fmt.Fprint(tw, "\nPROACTIVE\tSENT\tRECIPIENTS\tPROGRESSED WITHIN 48H\n")
	for _, p := range r.Proactive {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d (%.1f%%)\n", p.Kind, p.Sent, p.Recipients, p.Progressed48h, p.ProgressedPct)
	}
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
