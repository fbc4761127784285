package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"activation-bot/bot"
	"activation-bot/flows"
	"activation-bot/storage"
)

// Env is what a command sees of its process: arguments aside, its
// standard streams and environment, so tests run commands in-process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Terminal reports whether Stdin is a person at a terminal, who can be
	// asked to confirm; nil looks at Stdin itself.
	Terminal func() bool
}

// interactive reports whether a confirmation can be asked for.
func (e Env) interactive() bool {
	if e.Terminal != nil {
		return e.Terminal()
	}
	f, ok := e.Stdin.(*os.File)
	// A terminal, not a mere character device: /dev/null is one too.
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// Main runs the command line and returns the process exit code. Errors are
// printed as one line on standard error.
func Main(ctx context.Context, args []string, env Env) int {
	root := newRoot(env)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			return exit.code
		}
		fmt.Fprintf(env.Stderr, "activation-bot: %v\n", err)
		return 1
	}
	return 0
}

// exitError ends the program with a code and no further message, for
// commands that already said why.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func newRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "activation-bot",
		Short: "Walks new Odisee students through activating their two accounts",
		Long: "activation-bot walks new students through activating their Odisee account and their\n" +
			"KU Leuven association account, in a terminal chat and (later) on Telegram, Slack and the web.\n" +
			"Configuration comes from environment variables; see README.md.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.AddCommand(newServe(env), newChat(env), newMigrate(env), newContent(env), newTickets(env), newStats(env), newAdmin(env),
		newBroadcast(env), newAudit(env), newStudents(env))
	return root
}

// app is what most commands wire up: configuration, logger, database.
type app struct {
	cfg Config
	log *slog.Logger
	db  *storage.DB
	// loaded is the content pack, once checked.
	loaded *flows.Pack
	// observer is told about events and sends (serve's metrics); nil: none.
	observer bot.Observer
	// stderr is where lines for the operator go that are not log records.
	stderr io.Writer
}

// openApp reads the configuration, opens the database and, when asked
// (MIGRATE_ON_START), migrates it. defaultLevel applies when LOG_LEVEL is
// unset: the interactive chat keeps the terminal quiet.
// withApp runs an operator command's work with the database open (and
// migrated), closing it after.
func withApp(cmd *cobra.Command, env Env, fn func(*app) error) error {
	a, err := openApp(cmd.Context(), env, slog.LevelWarn, true)
	if err != nil {
		return err
	}
	defer a.db.Close()
	return fn(a)
}

func openApp(ctx context.Context, env Env, defaultLevel slog.Level, migrate bool) (*app, error) {
	cfg, err := LoadConfig(env.Getenv)
	if err != nil {
		return nil, err
	}
	if !cfg.LogLevelSet {
		cfg.LogLevel = defaultLevel
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	db, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	a := &app{cfg: cfg, log: log, db: db, stderr: env.Stderr}
	switch {
	case migrate && cfg.MigrateOnStart:
		if _, err := db.Migrate(ctx, log); err != nil {
			db.Close()
			return nil, fmt.Errorf("DATABASE_URL %s: %w", storage.Redact(cfg.DatabaseURL), err)
		}
	case migrate:
		pending, err := db.Pending(ctx)
		if err == nil && pending {
			err = errors.New("the database needs migrations: run `activation-bot migrate` first (MIGRATE_ON_START=false)")
		}
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("DATABASE_URL %s: %w", storage.Redact(cfg.DatabaseURL), err)
		}
	}
	return a, nil
}

// engine loads and checks the content pack and builds the engine; with a
// queue, platform events go through the inbox and the outbox.
func (a *app) engine(clock bot.Clock, queue *storage.Queue, rosters map[string]bot.Roster) (*bot.Engine, error) {
	pack, err := a.pack()
	if err != nil {
		return nil, err
	}
	cfg := bot.Config{
		Pack:      pack,
		Store:     storage.NewConversations(a.db).WithQueue(queue),
		Helpdesk:  a.helpdesk(queue, rosters),
		Reminders: a.cfg.Proactive.Reminders(),
		Admins:    a.cfg.Proactive.Admins,
		Clock:     clock,
		Location:  a.cfg.Location,
		Logger:    a.log,
		Observer:  a.observer,
	}
	if queue != nil {
		cfg.Queue = queue // a nil *storage.Queue must stay a nil interface
	}
	return bot.NewEngine(cfg)
}

// pack loads the content pack once and refuses one with errors, logging them.
func (a *app) pack() (*flows.Pack, error) {
	if a.loaded != nil {
		return a.loaded, nil
	}
	pack, err := a.cfg.LoadPack()
	if err != nil {
		return nil, err
	}
	issues := pack.Check()
	for _, i := range issues {
		if i.Severity == flows.SeverityError {
			a.log.Error("content pack error", slog.String("issue", i.String()))
		}
	}
	if flows.HasErrors(issues) {
		return nil, fmt.Errorf("content pack %s has errors; run `activation-bot content check` for the list", pack.Source)
	}
	a.loaded = pack
	return pack, nil
}

// helpdesk is where tickets go, from the HELPDESK_* variables.
func (a *app) helpdesk(queue *storage.Queue, rosters map[string]bot.Roster) bot.Helpdesk {
	h := a.cfg.Helpdesk
	hd := bot.Helpdesk{
		Tickets:         storage.NewTickets(a.db, queue),
		Agents:          h.Users,
		Rosters:         rosters,
		ReannounceAfter: h.ReannounceAfter,
	}
	if h.SlackChannel != "" {
		hd.Destinations = append(hd.Destinations, bot.Chat{Platform: "slack", ID: h.SlackChannel})
	}
	if h.TelegramChatID != 0 {
		hd.Destinations = append(hd.Destinations, bot.Chat{Platform: "telegram", ID: strconv.FormatInt(h.TelegramChatID, 10)})
	}
	if h.SMTPURL != "" {
		hd.Destinations = append(hd.Destinations, bot.Chat{Platform: bot.EmailPlatform, ID: "helpdesk"})
	}
	return hd
}
