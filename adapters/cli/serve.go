package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"activation-bot/adapters/email"
	"activation-bot/adapters/slack"
	"activation-bot/adapters/telegram"
	"activation-bot/adapters/web"
	"activation-bot/bot"
	"activation-bot/flows"
	"activation-bot/storage"
)

// drainTimeout bounds how long a stopping server lets requests and jobs
// in flight finish before it cancels the jobs (which still complete a send
// they started): most process managers give 30 s before they kill.
const drainTimeout = 10 * time.Second

func newServe(env Env) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the bot: migrations, the job queue, Telegram when configured, and the HTTP server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			a, err := openApp(ctx, env, slog.LevelInfo, true)
			if err != nil {
				return err
			}
			defer a.db.Close()
			if addr == "" {
				addr = net.JoinHostPort("", strconv.Itoa(a.cfg.Port))
			}
			return a.serve(ctx, addr)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (default :PORT)")
	return cmd
}

// serve wires the queue, the engine and the platforms, and runs until ctx
// ends: then it stops taking updates, finishes the work in flight and
// returns nil.
func (a *app) serve(ctx context.Context, addr string) error {
	queue, err := storage.NewQueue(a.db, a.log)
	if err != nil {
		return err
	}
	queue.KeepTranscripts(a.cfg.TranscriptRetention)
	// The content pack is checked before any adapter, so a broken one
	// stops the deploy here rather than at the first student.
	pack, err := a.pack()
	if err != nil {
		return err
	}
	senders, rosters := map[string]bot.Sender{}, map[string]bot.Roster{}
	tg, err := a.telegram(ctx, pack)
	if err != nil {
		return err
	}
	if tg != nil {
		senders[telegram.Platform] = tg.Sender()
		rosters[telegram.Platform] = tg.Roster()
	}
	sl, err := a.slack(ctx, pack)
	if err != nil {
		return err
	}
	if sl != nil {
		senders[slack.Platform] = sl.Sender()
		rosters[slack.Platform] = sl.Roster()
	}
	if a.cfg.Helpdesk.SMTPURL != "" {
		mail, err := a.email()
		if err != nil {
			return err
		}
		senders[bot.EmailPlatform] = mail
	}
	observed := a.metrics()
	engine, err := a.engine(bot.SystemClock{}, queue, rosters)
	if err != nil {
		return err
	}
	if !a.cfg.Helpdesk.Destinations() {
		a.log.InfoContext(ctx, "no helpdesk chat configured: tickets are in the console (/admin/tickets) and `activation-bot tickets`; set HELPDESK_SLACK_CHANNEL, HELPDESK_TELEGRAM_CHAT_ID or HELPDESK_SMTP_URL to post them there too")
	}
	site, err := a.web(ctx, engine, queue)
	if err != nil {
		return err
	}
	senders[web.Platform] = site.Sender()
	a.log.InfoContext(ctx, "web chat and console", slog.String("chat", a.cfg.PublicURL+"/"), slog.String("console", a.cfg.PublicURL+"/admin"))
	mux := http.NewServeMux()
	mux.Handle("/", site.Handler())
	mux.Handle("GET /metrics", observed.Handler())
	if tg != nil && tg.Webhook() {
		mux.Handle(telegram.WebhookPath, tg.WebhookHandler(engine))
	}
	if sl != nil && sl.HTTPMode() {
		for path, h := range sl.Routes(engine) {
			mux.Handle(path, h)
		}
	}
	if tg == nil && sl == nil {
		a.log.InfoContext(ctx, "no platform configured: students use the web chat only; set TELEGRAM_BOT_TOKEN or SLACK_BOT_TOKEN to talk to them there too")
	}
	if err := a.announceFirstAdmin(ctx); err != nil {
		return err
	}
	dispatcher := bot.NewDispatcher(engine, queue, senders, a.log)
	queue.EveryMinute(engine.Reannounce)
	queue.ComposeWith(engine, a.cfg.Proactive.Quiet)
	// The queue outlives ctx: on shutdown its running jobs finish first.
	if err := queue.Start(context.WithoutCancel(ctx), dispatcher.Work); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
		defer cancel()
		if err := queue.Stop(stopCtx); err != nil {
			a.log.Error("job queue did not stop cleanly", slog.Any("error", err))
		}
		a.log.Info("stopped")
	}()
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if tg != nil && !tg.Webhook() {
		go func() {
			if err := tg.Poll(runCtx, engine); err != nil {
				cancel(err)
			}
		}()
	}
	go func() {
		if err := site.Listen(runCtx); err != nil {
			a.log.WarnContext(runCtx, "web pages will see other instances' messages only by polling", slog.Any("error", err))
		}
	}()
	if sl != nil && sl.SocketMode() {
		go func() {
			if err := sl.RunSocketMode(runCtx, engine); err != nil {
				cancel(err)
			}
		}()
	}
	err = serveHTTP(runCtx, addr, mux, a.log)
	if cause := context.Cause(runCtx); err == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}

// web builds the chat page and the admin console. The session key is
// SESSION_KEY, or one generated once and stored, so instances agree.
func (a *app) web(ctx context.Context, engine *bot.Engine, queue *storage.Queue) (*web.Server, error) {
	key := a.cfg.SessionKey
	if key == "" {
		k, err := a.db.Setting(ctx, "session_key", randomSecret)
		if err != nil {
			return nil, fmt.Errorf("SESSION_KEY: %w", err)
		}
		key = k
	}
	return web.New(web.Config{Engine: engine, DB: a.db, Queue: queue, Key: []byte(key), PublicURL: a.cfg.PublicURL, Logger: a.log,
		TrustProxy: a.cfg.TrustProxy})
}

// announceFirstAdmin prints a one-time link to create the first admin of
// the console while there is none, so a fresh install is usable at once.
// It goes to standard error as a plain line, not into the structured log.
func (a *app) announceFirstAdmin(ctx context.Context) error {
	link, err := web.FirstAdminLink(ctx, a.db, a.cfg.PublicURL)
	if err != nil || link == "" {
		return err
	}
	fmt.Fprintf(a.stderr, "\nNo console admin yet. Open this link within 24 hours to create one:\n  %s\n(or run: activation-bot admin add NAME --role admin)\n\n", link)
	return nil
}

// telegram builds and sets up the Telegram adapter when a token is set.
func (a *app) telegram(ctx context.Context, pack *flows.Pack) (*telegram.Adapter, error) {
	c := a.cfg.Telegram
	if c.Token == "" {
		return nil, nil
	}
	secret := c.WebhookSecret
	if c.WebhookURL != "" && secret == "" {
		// Generated once and stored, so every instance checks the same one.
		s, err := a.db.Setting(ctx, "telegram_webhook_secret", randomSecret)
		if err != nil {
			return nil, fmt.Errorf("TELEGRAM_WEBHOOK_SECRET: %w", err)
		}
		secret = s
	}
	tg, err := telegram.New(telegram.Config{
		Token:          c.Token,
		APIURL:         c.APIURL,
		WebhookURL:     c.WebhookURL,
		WebhookSecret:  secret,
		DeleteWebhook:  c.DeleteWebhook,
		HelpdeskChatID: a.cfg.Helpdesk.TelegramChatID,
		Overall:        sendRate(a.cfg.Proactive.TelegramRate),
		Logger:         a.log,
	})
	if err != nil {
		return nil, err
	}
	if err := tg.Setup(ctx, commandMenus(pack)); err != nil {
		return nil, err
	}
	mode := "long polling"
	if tg.Webhook() {
		mode = "webhook"
	}
	a.log.InfoContext(ctx, "on Telegram", slog.String("bot", "@"+tg.Username()), slog.String("mode", mode))
	return tg, nil
}

// slack builds and sets up the Slack adapter when a bot token is set.
func (a *app) slack(ctx context.Context, pack *flows.Pack) (*slack.Adapter, error) {
	c := a.cfg.Slack
	if c.BotToken == "" {
		return nil, nil
	}
	// "/activation broadcast" is the admins' guided broadcast.
	commands := []string{"broadcast"}
	for name := range pack.Commands {
		commands = append(commands, name)
	}
	sl, err := slack.New(slack.Config{
		BotToken:        c.BotToken,
		SigningSecret:   c.SigningSecret,
		AppToken:        c.AppToken,
		APIURL:          c.APIURL,
		Commands:        commands,
		HelpdeskChannel: a.cfg.Helpdesk.SlackChannel,
		Overall:         sendRate(a.cfg.Proactive.SlackRate),
		Logger:          a.log,
	})
	if err != nil {
		return nil, err
	}
	if err := sl.Setup(ctx); err != nil {
		return nil, err
	}
	a.log.InfoContext(ctx, "in Slack", slog.Bool("http_mode", sl.HTTPMode()), slog.Bool("socket_mode", sl.SocketMode()))
	return sl, nil
}

// email builds the e-mail helpdesk destination.
func (a *app) email() (*email.Sender, error) {
	h := a.cfg.Helpdesk
	cfg, err := email.ParseConfig(h.SMTPURL, h.EmailFrom, h.EmailTo)
	if err != nil {
		return nil, err
	}
	cfg.Logger = a.log
	return email.New(cfg)
}

func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// menuOrder puts the commands a student needs first; others follow by name.
var menuOrder = []string{"start", "help", "status", "language", "restart", "stop", "forget"}

// commandMenus returns the command menu per language from the pack; the
// default language's menu also serves languages the pack lacks ("").
func commandMenus(p *flows.Pack) map[string][]telegram.Command {
	var names []string
	for name, cmd := range p.Commands {
		if cmd != nil && len(cmd.Menu) > 0 {
			names = append(names, name)
		}
	}
	rank := func(n string) int {
		if i := slices.Index(menuOrder, n); i >= 0 {
			return i
		}
		return len(menuOrder)
	}
	slices.SortFunc(names, func(x, y string) int {
		if d := rank(x) - rank(y); d != 0 {
			return d
		}
		return strings.Compare(x, y)
	})
	menus := map[string][]telegram.Command{}
	for _, lang := range append([]string{""}, p.Languages...) {
		l := lang
		if l == "" {
			l = p.DefaultLanguage
		}
		for _, n := range names {
			menus[lang] = append(menus[lang], telegram.Command{Name: n, Description: p.Localize(p.Commands[n].Menu, l)})
		}
	}
	return menus
}

// serveHTTP serves until ctx is done, then drains in-flight requests.
func serveHTTP(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("PORT: listen on %s: %w", addr, err)
	}
	log.InfoContext(ctx, "serving", slog.String("addr", ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: no new updates; finishing the work in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down http: %w", err)
	}
	return nil
}
