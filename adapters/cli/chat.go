package cli

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"activation-bot/adapters/console"
	"activation-bot/bot"
	"activation-bot/storage"
)

func newChat(env Env) *cobra.Command {
	var (
		user, now, lang string
		asJSON          bool
	)
	cmd := &cobra.Command{
		Use:   "chat",
		Short: "Chat with the bot in the terminal (--json for scripts)",
		Long: "Chat with the bot in the terminal as console user --user.\n" +
			"With --json, every input line is text typed by the student, or {\"button\":\"<id>\"} to press\n" +
			"a button, and every message of the bot is printed as one JSON object per line.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			clock, err := parseNow(now)
			if err != nil {
				return err
			}
			if strings.TrimSpace(user) == "" {
				return fmt.Errorf("--user: must not be empty")
			}
			a, err := openApp(cmd.Context(), env, slog.LevelWarn, true)
			if err != nil {
				return err
			}
			defer a.db.Close()
			// Tickets opened here get their helpdesk jobs at once: a
			// running `serve` posts them.
			queue, err := storage.NewQueue(a.db, a.log)
			if err != nil {
				return err
			}
			eng, err := a.engine(clock, queue, nil)
			if err != nil {
				return err
			}
			c := &console.Chat{Engine: eng, UserID: user, JSON: asJSON, LocaleHint: lang, In: env.Stdin, Out: env.Stdout}
			return c.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&user, "user", defaultUser(), "console user id: the student is console:<id>")
	cmd.Flags().BoolVar(&asJSON, "json", false, "read lines and print one JSON object per bot message")
	cmd.Flags().StringVar(&now, "now", "", "fix the clock at this RFC 3339 instant (tests, demos)")
	cmd.Flags().StringVar(&lang, "lang", "", "language hint, as a platform would send it (en, nl, fr)")
	return cmd
}

func parseNow(s string) (bot.Clock, error) {
	if s == "" {
		return bot.SystemClock{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, fmt.Errorf("--now: %q is not an RFC 3339 time such as 2026-09-21T14:00:00+02:00", s)
	}
	return bot.FixedClock(t), nil
}

func defaultUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "student"
}
