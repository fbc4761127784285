package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"activation-bot/bot"
	"activation-bot/storage"
)

func newStudents(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "students",
		Short: "Look a student up, unlink one of their identities, or erase everything the bot keeps about them",
		Long: "A student is named by an identity (telegram:<user id>, slack:<team id>:<user id>,\n" +
			"console:<id>) or by their number.",
	}
	cmd.AddCommand(studentsShow(env), studentsUnlink(env), studentsErase(env))
	return cmd
}

func studentsShow(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "show IDENTITY|ID",
		Short: "Show a student: progress, step, language, identities, open tickets, last messages",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, env, func(a *app) error {
				id, err := findStudent(cmd.Context(), a.db, args[0])
				if err != nil {
					return err
				}
				r, err := a.db.Student(cmd.Context(), id)
				if errors.Is(err, bot.ErrNotFound) {
					return noSuchStudent(args[0])
				}
				if err != nil {
					return err
				}
				printStudent(env.Stdout, r, a.cfg.Location)
				return nil
			})
		},
	}
}

func studentsErase(env Env) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "erase IDENTITY|ID",
		Short: "Erase a student as /forget does: identities, conversation, transcript, tickets, messages",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, env, func(a *app) error {
				return eraseStudent(cmd.Context(), env, a.db, args[0], yes)
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "erase without asking")
	return cmd
}

// eraseStudent erases the student named by ref once the operator
// confirmed, by --yes or by typing yes at the terminal.
func eraseStudent(ctx context.Context, env Env, db *storage.DB, ref string, yes bool) error {
	id, err := findStudent(ctx, db, ref)
	if err != nil {
		return err
	}
	if !yes {
		counts, err := db.ErasureCounts(ctx, id)
		if errors.Is(err, bot.ErrNotFound) {
			return noSuchStudent(ref)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "This erases student #%d: %s.\n", id, describeCounts(counts))
		if err := confirmYes(env, "erase", "erased"); err != nil {
			return err
		}
	}
	counts, err := db.EraseStudent(ctx, id, operator().Identity)
	if errors.Is(err, bot.ErrNotFound) {
		return noSuchStudent(ref)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "student #%d erased: %s\n", id, describeCounts(counts))
	return nil
}

// confirmYes asks the operator to type yes before they verb (done: its
// past). A script (no terminal) must say --yes: a piped "yes" is too easy
// to send by mistake.
func confirmYes(env Env, verb, done string) error {
	if !env.interactive() {
		return fmt.Errorf("nothing %s: standard input is not a terminal; add --yes to %s", done, verb)
	}
	fmt.Fprintf(env.Stdout, "Type yes to %s: ", verb)
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read confirmation: %w", err)
	}
	if !strings.EqualFold(strings.TrimSpace(line), "yes") {
		return fmt.Errorf("nothing %s: not confirmed", done)
	}
	return nil
}

func studentsUnlink(env Env) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "unlink IDENTITY",
		Short: "Detach an identity from its student: it starts over as a new student, the rest stays",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, env, func(a *app) error {
				return unlinkIdentity(cmd.Context(), env, a.db, args[0], yes)
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "unlink without asking")
	return cmd
}

// unlinkIdentity detaches identity from its student once the operator
// confirmed, by --yes or by typing yes at the terminal.
func unlinkIdentity(ctx context.Context, env Env, db *storage.DB, identity string, yes bool) error {
	identity = strings.TrimSpace(identity)
	platform, user, ok := strings.Cut(identity, ":")
	if !ok || platform == "" || user == "" {
		return fmt.Errorf("%q is not an identity such as telegram:42", identity)
	}
	var confirmed int64 // the student the operator saw: unlink from that one only
	if !yes {
		id, err := db.StudentByIdentity(ctx, platform, user)
		if errors.Is(err, bot.ErrNotFound) {
			return noSuchIdentity(identity)
		}
		if err != nil {
			return err
		}
		r, err := db.Student(ctx, id)
		if err != nil {
			return err
		}
		if len(r.Identities) < 2 {
			return fmt.Errorf("nothing unlinked: %s is the only identity of student #%d", identity, id)
		}
		fmt.Fprintf(env.Stdout, "This detaches %s from student #%d (%s): it starts over as a new student; "+
			"the progress, tickets and history stay with the other %s.\n", identity, id,
			plural(len(r.Identities), "identity", "identities"), plural(len(r.Identities)-1, "identity", "identities"))
		if err := confirmYes(env, "unlink", "unlinked"); err != nil {
			return err
		}
		confirmed = id
	}
	var from, to int64
	var err error
	if confirmed != 0 {
		from = confirmed
		to, err = db.UnlinkIdentityOf(ctx, confirmed, identity, operator().Identity)
	} else {
		from, to, err = db.UnlinkIdentity(ctx, identity, operator().Identity)
	}
	switch {
	case errors.Is(err, bot.ErrNotFound):
		return noSuchIdentity(identity)
	case errors.Is(err, storage.ErrLastIdentity):
		return fmt.Errorf("nothing unlinked: %s is the only identity of student #%d", identity, from)
	case err != nil:
		return err
	}
	fmt.Fprintf(env.Stdout, "%s is now student %d (was %d)\n", identity, to, from)
	return nil
}

func noSuchIdentity(identity string) error {
	return fmt.Errorf("identity %s: no such identity", identity)
}

func describeCounts(c storage.ErasureCounts) string {
	return fmt.Sprintf("%s, %s, %s, %s", plural(c.Identities, "identity", "identities"),
		plural(c.Transcript, "transcript line", "transcript lines"), plural(c.Tickets, "ticket", "tickets"),
		plural(c.Outbox, "outbox message", "outbox messages"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// findStudent resolves a student number or an identity such as
// "telegram:42" or "slack:T1:U1" (the platform is up to the first colon).
func findStudent(ctx context.Context, db *storage.DB, ref string) (int64, error) {
	ref = strings.TrimSpace(ref)
	if id, err := strconv.ParseInt(strings.TrimPrefix(ref, "#"), 10, 64); err == nil && id > 0 {
		return id, nil
	}
	platform, user, ok := strings.Cut(ref, ":")
	if !ok || platform == "" || user == "" {
		return 0, fmt.Errorf("%q is neither a student number such as 7 nor an identity such as telegram:42", ref)
	}
	id, err := db.StudentByIdentity(ctx, platform, user)
	if errors.Is(err, bot.ErrNotFound) {
		return 0, noSuchStudent(ref)
	}
	return id, err
}

func noSuchStudent(ref string) error { return fmt.Errorf("student %s: no such student", ref) }

func printStudent(w io.Writer, r storage.StudentRecord, loc *time.Location) {
	stamp := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04") }
	fmt.Fprintf(w, "Student #%d, since %s\n", r.ID, stamp(r.Created))
	for _, i := range r.Identities {
		fmt.Fprintf(w, "Identity: %s (chat %s)", i.Identity(), i.ChatID)
		if name := oneLine(i.Name, 40); name != "" {
			fmt.Fprintf(w, " %s", name)
		}
		if i.LastSeen.Valid {
			fmt.Fprintf(w, ", last used %s", stamp(i.LastSeen.Time))
		} else {
			fmt.Fprint(w, ", never used")
		}
		if i.Preferred {
			fmt.Fprint(w, ", preferred") // the bot's messages go there (/link prefer)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Language: %s\nStep: %s\n", orNone(r.Lang, "(none)"), orNone(r.Node, "(none)"))
	if r.OptedOut != nil {
		fmt.Fprintf(w, "Opted out of proactive messages: yes, since %s\n", stamp(*r.OptedOut))
	} else {
		fmt.Fprintln(w, "Opted out of proactive messages: no")
	}
	if len(r.Accounts) == 0 {
		fmt.Fprintln(w, "Accounts: not started")
	}
	for _, acc := range r.Accounts {
		fmt.Fprintf(w, "Account %s: %s since %s", acc.Account, acc.Status, stamp(acc.Updated))
		if acc.WaitUntil.Valid {
			fmt.Fprintf(w, ", may activate from %s", stamp(acc.WaitUntil.Time))
		}
		fmt.Fprintln(w)
	}
	if len(r.Tickets) == 0 {
		fmt.Fprintln(w, "Open tickets: none")
	}
	for _, t := range r.Tickets {
		fmt.Fprintf(w, "Open ticket: #%d %s (%s)\n", t.ID, t.Category, t.Status)
	}
	if len(r.Transcript) > 0 {
		fmt.Fprintf(w, "\nLast %d messages (redacted when stored):\n", len(r.Transcript))
	}
	for _, l := range r.Transcript {
		who := "bot"
		if l.In {
			who = "student"
		}
		fmt.Fprintf(w, "%s %s: %s\n", stamp(l.At), who, oneLine(l.Text, 200))
	}
}
