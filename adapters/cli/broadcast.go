package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"activation-bot/bot"
	"activation-bot/storage"
)

func newBroadcast(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "broadcast",
		Short: "Send a message to the students of a segment (those who are stuck)",
		Long: "A broadcast is a message to a segment of students, in their language, now or later.\n" +
			"This command only queues it: the running `serve` instances deliver it, within the\n" +
			"platforms' rate limits and outside the quiet hours. Opted-out (/stop) and unreachable\n" +
			"students never get it.",
	}
	cmd.AddCommand(broadcastCreate(env), broadcastList(env), broadcastShow(env), broadcastCancel(env))
	return cmd
}

type createFlags struct {
	segment, at string
	texts       map[string]*string
	button      bool
	dryRun, yes bool
}

func broadcastCreate(env Env) *cobra.Command {
	f := createFlags{texts: map[string]*string{}}
	cmd := &cobra.Command{
		Use:   "create --segment SEGMENT --text-en TEXT [--text-nl TEXT] [--text-fr TEXT]",
		Short: "Preview a broadcast, then queue it once confirmed",
		Long: "SEGMENT is `all` or comma-separated filters that must all hold (values joined by |):\n" +
			"  progress=not_started|waiting|odisee_done|kuleuven_done|completed|problem\n" +
			"  platform=telegram|slack|web   lang=en|nl|fr\n" +
			"  active_before=YYYY-MM-DD   active_after=YYYY-MM-DD   (campus time)\n" +
			"The preview shows the recipients per platform and language and each message.\n" +
			"Without --yes it asks for confirmation on the terminal, and sends nothing when\n" +
			"there is no terminal to ask on.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return createBroadcast(cmd, env, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.segment, "segment", "", "who gets it: all, or filters such as progress=waiting,lang=nl (required)")
	for _, lang := range []string{"en", "nl", "fr"} {
		f.texts[lang] = fl.String("text-"+lang, "", "the message in "+lang)
	}
	fl.BoolVar(&f.button, "button", false, "add a Continue button that takes the student back to where they were")
	fl.StringVar(&f.at, "at", "", `send later: "YYYY-MM-DD HH:MM" (campus time) or RFC 3339`)
	fl.BoolVar(&f.dryRun, "dry-run", false, "only show the preview")
	fl.BoolVar(&f.yes, "yes", false, "queue it without asking")
	return cmd
}

func createBroadcast(cmd *cobra.Command, env Env, f createFlags) error {
	ctx := cmd.Context()
	a, err := openApp(ctx, env, slog.LevelWarn, true)
	if err != nil {
		return err
	}
	defer a.db.Close()
	b, err := a.broadcastFromFlags(f)
	if err != nil {
		return err
	}
	queue, err := storage.NewQueue(a.db, a.log)
	if err != nil {
		return err
	}
	eng, err := a.engine(bot.SystemClock{}, queue, nil)
	if err != nil {
		return err
	}
	store := storage.NewBroadcasts(queue)
	audience, err := store.Audience(ctx, b.Segment)
	if err != nil {
		return err
	}
	printPreview(env.Stdout, eng, b, audience, a.cfg)
	if f.dryRun {
		fmt.Fprintln(env.Stdout, "Dry run: nothing was queued.")
		return nil
	}
	if audience.Total() == 0 && f.at == "" {
		return errors.New("no student is in this segment now: nothing to send")
	}
	if !f.yes {
		if err := confirm(env, audience.Total()); err != nil {
			return err
		}
	}
	id, err := store.Create(ctx, b)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Broadcast #%d queued; `activation-bot broadcast show %d` follows its progress.\n", id, id)
	return nil
}

// broadcastFromFlags checks the flags and builds the broadcast.
func (a *app) broadcastFromFlags(f createFlags) (bot.Broadcast, error) {
	pack, err := a.pack()
	if err != nil {
		return bot.Broadcast{}, err
	}
	if strings.TrimSpace(f.segment) == "" {
		return bot.Broadcast{}, errors.New("--segment: required (all, or filters such as progress=waiting)")
	}
	seg, err := bot.ParseSegment(f.segment, pack, a.cfg.Location)
	if err != nil {
		return bot.Broadcast{}, fmt.Errorf("--segment: %w", err)
	}
	b := bot.Broadcast{Segment: seg, Texts: map[string]string{}, Button: f.button, CreatedBy: operator().Identity, SendAt: time.Now()}
	for lang, text := range f.texts {
		t := strings.TrimSpace(*text)
		if n := len([]rune(t)); n > bot.MaxBroadcastRunes {
			return b, fmt.Errorf("--text-%s: %d characters, at most %d fit in one message", lang, n, bot.MaxBroadcastRunes)
		}
		if t != "" {
			b.Texts[lang] = t
		}
	}
	if b.Texts["en"] == "" {
		return b, errors.New("--text-en: required: students whose language has no text get the English one")
	}
	if f.at != "" {
		if b.SendAt, err = parseAt(f.at, a.cfg.Location); err != nil {
			return b, err
		}
	}
	return b, nil
}

// parseAt reads --at: campus time or RFC 3339, not in the past.
func parseAt(s string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02 15:04", strings.TrimSpace(s), loc)
	if err != nil {
		t, err = time.Parse(time.RFC3339, strings.TrimSpace(s))
	}
	if err != nil {
		return t, fmt.Errorf(`--at: %q is not a time such as "2026-09-22 09:00" (campus time) or 2026-09-22T09:00:00+02:00`, s)
	}
	if t.Before(time.Now().Add(-time.Minute)) {
		return t, fmt.Errorf("--at: %s is in the past", t.In(loc).Format("2006-01-02 15:04 MST"))
	}
	return t, nil
}

// printPreview shows who gets what: recipients per platform and language,
// when it goes, and each language's message as the students will see it.
func printPreview(w io.Writer, eng *bot.Engine, b bot.Broadcast, audience bot.Audience, cfg Config) {
	fmt.Fprintf(w, "Broadcast to %d students (segment %s)\n", audience.Total(), b.Segment)
	langs := eng.Pack().Languages
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  platform\t%s\ttotal\n", strings.Join(langs, "\t"))
	platforms := make([]string, 0, len(audience))
	for p := range audience {
		platforms = append(platforms, p)
	}
	slices.Sort(platforms)
	for _, p := range platforms {
		row, total := []string{p}, 0
		for _, l := range langs {
			row = append(row, strconv.Itoa(audience[p][l]))
			total += audience[p][l]
		}
		fmt.Fprintf(tw, "  %s\t%d\n", strings.Join(row, "\t"), total)
	}
	tw.Flush()
	when := "now"
	if time.Until(b.SendAt) > time.Minute {
		when = b.SendAt.In(cfg.Location).Format("2006-01-02 15:04 MST")
	}
	fmt.Fprintf(w, "Sends: %s (quiet hours %s campus time hold it back)\n", when, cfg.Proactive.Quiet)
	for _, lang := range langs {
		msg := eng.BroadcastMessage(b, lang)
		note := ""
		if b.Texts[lang] == "" {
			note = " (no text in this language: the English one)"
		}
		fmt.Fprintf(w, "\n--- %s%s ---\n%s\n", lang, note, msg.Text)
		for _, btn := range msg.Buttons {
			fmt.Fprintf(w, "[%s]\n", btn.Label)
		}
	}
	fmt.Fprintln(w)
}

// confirm asks the person at the terminal; without one, nothing is sent.
func confirm(env Env, n int) error {
	if !env.interactive() {
		return errors.New("not queued: no terminal to confirm on; check the preview and run again with --yes")
	}
	fmt.Fprintf(env.Stdout, "Send to %d students? Type yes to confirm: ", n)
	answer, _ := bufio.NewReader(env.Stdin).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "yes" && a != "y" {
		return errors.New("not confirmed: nothing was queued")
	}
	return nil
}

// broadcastJSON is a broadcast as `broadcast list|show --json` prints it.
type broadcastJSON struct {
	ID        int64                      `json:"id"`
	Status    string                     `json:"status"`
	Segment   string                     `json:"segment"`
	SendAt    string                     `json:"send_at"`
	CreatedBy string                     `json:"created_by"`
	Texts     map[string]string          `json:"texts"`
	Button    bool                       `json:"button"`
	Progress  *storage.BroadcastProgress `json:"progress,omitempty"`
}

func toJSON(b bot.Broadcast, p *storage.BroadcastProgress) broadcastJSON {
	return broadcastJSON{ID: b.ID, Status: b.Status, Segment: b.Segment.String(), SendAt: b.SendAt.Format(time.RFC3339),
		CreatedBy: b.CreatedBy, Texts: b.Texts, Button: b.Button, Progress: p}
}

func broadcastList(env Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List broadcasts, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withBroadcasts(cmd, env, func(a *app, store *storage.Broadcasts) error {
				list, err := store.List(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]broadcastJSON, len(list))
					for i, b := range list {
						out[i] = toJSON(b, nil)
					}
					return json.NewEncoder(env.Stdout).Encode(out)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tSEND AT\tSEGMENT\tBY")
				for _, b := range list {
					fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t%s\n", b.ID, b.Status, b.SendAt.In(a.cfg.Location).Format("2006-01-02 15:04"), b.Segment, b.CreatedBy)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	return cmd
}

func broadcastShow(env Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a broadcast and its progress: queued, sent, failed, skipped",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := broadcastID(args[0])
			if err != nil {
				return err
			}
			return withBroadcasts(cmd, env, func(a *app, store *storage.Broadcasts) error {
				b, p, err := store.Get(cmd.Context(), id)
				if err != nil {
					return notFound(err, id)
				}
				if asJSON {
					return json.NewEncoder(env.Stdout).Encode(toJSON(b, &p))
				}
				w := env.Stdout
				fmt.Fprintf(w, "Broadcast #%d: %s\nSegment: %s\nSend at: %s\nBy: %s\n", b.ID, b.Status, b.Segment,
					b.SendAt.In(a.cfg.Location).Format("2006-01-02 15:04 MST"), b.CreatedBy)
				fmt.Fprintf(w, "Progress: %d waiting, %d queued, %d sent, %d failed, %d skipped\n", p.Pending, p.Queued, p.Sent, p.Failed, p.Skipped)
				for _, lang := range a.loaded.Languages {
					if t := b.Texts[lang]; t != "" {
						fmt.Fprintf(w, "\n--- %s ---\n%s\n", lang, t)
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func broadcastCancel(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a broadcast: copies not yet sent are not sent",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := broadcastID(args[0])
			if err != nil {
				return err
			}
			return withBroadcasts(cmd, env, func(_ *app, store *storage.Broadcasts) error {
				if err := store.Cancel(cmd.Context(), id, operator().Identity); err != nil {
					return notFound(err, id)
				}
				fmt.Fprintf(env.Stdout, "Broadcast #%d cancelled.\n", id)
				return nil
			})
		},
	}
}

// withBroadcasts opens the database and the broadcast store for fn.
func withBroadcasts(cmd *cobra.Command, env Env, fn func(*app, *storage.Broadcasts) error) error {
	return withApp(cmd, env, func(a *app) error {
		if _, err := a.pack(); err != nil {
			return err
		}
		queue, err := storage.NewQueue(a.db, a.log)
		if err != nil {
			return err
		}
		return fn(a, storage.NewBroadcasts(queue))
	})
}

func broadcastID(s string) (int64, error) { return number(s, "a broadcast number such as 3") }

func notFound(err error, id int64) error {
	if errors.Is(err, bot.ErrNotFound) {
		return fmt.Errorf("broadcast #%d: no such broadcast", id)
	}
	return err
}
