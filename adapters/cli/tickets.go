package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"activation-bot/bot"
	"activation-bot/storage"
)

func newTickets(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tickets",
		Short: "List, read, answer and resolve the problems students reported",
		Long: "Tickets are the problems students reported to the helpdesk. Answers given here reach the\n" +
			"student on their own platform once a `serve` instance delivers them.",
	}
	cmd.AddCommand(ticketsList(env), ticketsShow(env), ticketsAct(env, "reply"), ticketsAct(env, "claim"),
		ticketsAct(env, "resolve"), ticketsAct(env, "reopen"))
	return cmd
}

// ticketJSON is a ticket as `tickets list --json` prints it.
type ticketJSON struct {
	ID        int64  `json:"id"`
	Student   string `json:"student"`
	Name      string `json:"name,omitempty"`
	Status    string `json:"status"`
	Category  string `json:"category"`
	Lang      string `json:"lang"`
	ClaimedBy string `json:"claimed_by,omitempty"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func ticketsList(env Env) *cobra.Command {
	var status string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List tickets, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch status {
			case "", bot.TicketOpen, bot.TicketClaimed, bot.TicketResolved:
			default:
				return fmt.Errorf("--status: %q is not one of open, claimed, resolved", status)
			}
			a, err := openApp(cmd.Context(), env, slog.LevelWarn, true)
			if err != nil {
				return err
			}
			defer a.db.Close()
			list, err := storage.NewTickets(a.db, nil).Tickets(cmd.Context(), status)
			if err != nil {
				return err
			}
			if asJSON {
				return printTicketsJSON(env.Stdout, list)
			}
			return printTickets(env.Stdout, list)
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only tickets in this state: open, claimed or resolved")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	return cmd
}

func printTicketsJSON(w io.Writer, list []bot.Ticket) error {
	out := make([]ticketJSON, len(list))
	for i, t := range list {
		out[i] = ticketJSON{ID: t.ID, Student: t.Student, Name: t.Name, Status: t.Status, Category: t.Category,
			Lang: t.Lang, ClaimedBy: t.ClaimedBy, CreatedAt: t.Created.Format(timeJSON), UpdatedAt: t.Updated.Format(timeJSON)}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

const timeJSON = "2006-01-02T15:04:05Z07:00"

func printTickets(w io.Writer, list []bot.Ticket) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no tickets")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tCATEGORY\tSTUDENT\tNAME\tCREATED")
	for _, t := range list {
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Status, t.Category, t.Student, oneLine(t.Name, 30), t.Created.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

// oneLine keeps what students wrote from breaking a table.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func ticketsShow(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a ticket: the student's context and the messages relayed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := ticketID(args[0])
			if err != nil {
				return err
			}
			a, err := openApp(cmd.Context(), env, slog.LevelWarn, true)
			if err != nil {
				return err
			}
			defer a.db.Close()
			eng, err := a.engine(bot.SystemClock{}, nil, nil)
			if err != nil {
				return err
			}
			t, err := eng.HelpdeskTickets().Ticket(cmd.Context(), id)
			if errors.Is(err, bot.ErrNotFound) {
				return fmt.Errorf("ticket #%d: no such ticket", id)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, eng.TicketText(t, bot.EmailPlatform))
			if len(t.Messages) > 0 {
				fmt.Fprintln(env.Stdout, "\nRelayed messages:")
			}
			for _, m := range t.Messages {
				who := "student"
				if m.From == bot.FromAgent {
					who = m.Author
				}
				fmt.Fprintf(env.Stdout, "%s %s: %s\n", m.At.In(a.cfg.Location).Format("2006-01-02 15:04"), who, m.Text)
			}
			return nil
		},
	}
}

// ticketsAct is `tickets reply ID TEXT`, `tickets resolve ID` and friends.
func ticketsAct(env Env, action string) *cobra.Command {
	use, args := action+" ID", cobra.ExactArgs(1)
	short := map[string]string{
		"claim":   "Claim a ticket",
		"resolve": "Mark a ticket resolved; the student is told",
		"reopen":  "Reopen a resolved ticket",
		"reply":   "Answer the student of a ticket, on their platform",
	}[action]
	if action == "reply" {
		use, args = "reply ID TEXT", cobra.MinimumNArgs(2)
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := ticketID(args[0])
			if err != nil {
				return err
			}
			text := strings.TrimSpace(strings.Join(args[1:], " "))
			if action == "reply" && text == "" {
				return errors.New("reply: the answer is empty")
			}
			a, err := openApp(cmd.Context(), env, slog.LevelWarn, true)
			if err != nil {
				return err
			}
			defer a.db.Close()
			queue, err := storage.NewQueue(a.db, a.log)
			if err != nil {
				return err
			}
			eng, err := a.engine(bot.SystemClock{}, queue, nil)
			if err != nil {
				return err
			}
			err = eng.Act(cmd.Context(), id, action, operator(), text)
			if errors.Is(err, bot.ErrNotFound) {
				return fmt.Errorf("ticket #%d: no such ticket", id)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "ticket #%d: %s done\n", id, action)
			return nil
		},
	}
}

func ticketID(s string) (int64, error) { return number(s, "a ticket number such as 12") }

// number reads a record's number, written 12 or #12.
func number(s, what string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not %s", s, what)
	}
	return id, nil
}

// operator is the person at the terminal, as an identity.
func operator() bot.Agent {
	name := "operator"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return bot.Agent{Identity: "console:" + name, Name: name}
}
