// Package telegram puts the activation conversation on Telegram: it turns
// updates (from its webhook or its long-polling loop) into the engine's
// events, and outbox rows into Bot API calls made with go-telegram/bot.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"activation-bot/bot"
)

// Platform is how Telegram identities and chats are named: telegram:<id>.
const Platform = "telegram"

// DefaultAPIURL is the public Bot API.
const DefaultAPIURL = "https://api.telegram.org"

// WebhookPath is where Telegram posts updates in webhook mode.
const WebhookPath = "/telegram/webhook"

// allowedUpdates are the update kinds the bot reads. Telegram remembers
// the list, so it is always sent whole.
var allowedUpdates = []string{"message", "edited_message", "callback_query", "my_chat_member"}

// Config configures the adapter; zero values get Telegram's defaults.
type Config struct {
	Token  string // TELEGRAM_BOT_TOKEN
	APIURL string // TELEGRAM_API_URL
	// WebhookURL is the public base URL (TELEGRAM_WEBHOOK_URL); empty means
	// long polling.
	WebhookURL    string
	WebhookSecret string // TELEGRAM_WEBHOOK_SECRET, or generated and stored
	// DeleteWebhook lets long polling remove a webhook found set
	// (TELEGRAM_DELETE_WEBHOOK).
	DeleteWebhook bool
	// PerChat and Overall are the send limits; Telegram asks for about one
	// message a second per chat and thirty a second in all.
	PerChat, Overall bot.Rate
	// PollTimeout is how long one getUpdates waits for updates.
	PollTimeout time.Duration
	// ConflictWait is the first wait after getUpdates reports a conflict
	// (another poller, or a webhook); it grows with each conflict in a row.
	ConflictWait time.Duration
	// HelpdeskChatID is the group tickets are posted to
	// (HELPDESK_TELEGRAM_CHAT_ID, e.g. -1001234567890); 0 means none.
	HelpdeskChatID int64
	HTTPClient     *http.Client
	Logger         *slog.Logger
}

// Adapter is one Telegram bot: its API client, its sender and its readers.
type Adapter struct {
	cfg    Config
	api    *tgbot.Bot
	sender *Sender
	reader reader
	roster *roster
	log    *slog.Logger
}

// New builds the adapter. It makes no request: Setup does.
func New(cfg Config) (*Adapter, error) {
	if !tokenRe.MatchString(cfg.Token) {
		// Never echo the token: it is a secret.
		return nil, errors.New("TELEGRAM_BOT_TOKEN: not a bot token (BotFather gives one like 123456:ABC-DEF...)")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if err := checkURL(cfg.APIURL); err != nil {
		return nil, fmt.Errorf("TELEGRAM_API_URL: %w", err)
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.WebhookURL != "" {
		if err := checkURL(cfg.WebhookURL); err != nil {
			return nil, fmt.Errorf("TELEGRAM_WEBHOOK_URL: %w", err)
		}
		cfg.WebhookURL = strings.TrimRight(cfg.WebhookURL, "/")
	}
	if cfg.PerChat == (bot.Rate{}) {
		cfg.PerChat = bot.Rate{Every: time.Second, Burst: 3}
	}
	if cfg.Overall == (bot.Rate{}) {
		cfg.Overall = bot.Rate{Every: time.Second / 30, Burst: 30}
	}
	if cfg.PollTimeout == 0 {
		cfg.PollTimeout = 50 * time.Second
	}
	if cfg.ConflictWait == 0 {
		cfg.ConflictWait = 2 * time.Second
	}
	if cfg.HTTPClient == nil {
		// Longer than a long poll, short enough that a hung connection is
		// noticed.
		cfg.HTTPClient = &http.Client{Timeout: cfg.PollTimeout + 15*time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	api, err := tgbot.New(cfg.Token,
		tgbot.WithSkipGetMe(),
		tgbot.WithServerURL(cfg.APIURL),
		tgbot.WithHTTPClient(cfg.PollTimeout, cfg.HTTPClient),
		tgbot.WithErrorsHandler(func(err error) { cfg.Logger.Error("telegram client", slog.Any("error", err)) }))
	if err != nil {
		return nil, fmt.Errorf("telegram client: %w", err)
	}
	botID, _, _ := strings.Cut(cfg.Token, ":")
	a := &Adapter{
		cfg:    cfg,
		api:    api,
		sender: &Sender{api: api, perChat: cfg.PerChat, global: cfg.Overall},
		reader: reader{botID: botID, helpdesk: cfg.HelpdeskChatID},
		log:    cfg.Logger,
	}
	a.roster = newRoster(cfg.HelpdeskChatID, a.getChatMember)
	return a, nil
}

// tokenRe is the shape of a bot token; anything else could end up in a
// request URL and an error message.
var tokenRe = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)

// checkURL accepts an absolute http or https URL: Telegram requires https
// for webhooks, but a self-hosted Bot API server and tests use http.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL such as https://bot.example.org", raw)
	}
	return nil
}

// Sender returns the adapter's bot.Sender.
func (a *Adapter) Sender() *Sender { return a.sender }

// Webhook reports whether the adapter runs in webhook mode.
func (a *Adapter) Webhook() bool { return a.cfg.WebhookURL != "" }

// Username returns the bot's @username, known after Setup.
func (a *Adapter) Username() string { return a.reader.username }

// Command is one entry of the bot's command menu.
type Command struct {
	Name, Description string
}

// Setup checks the token (getMe), registers the command menu per language
// (the menu of lang "" is the default for every other language), and
// prepares the chosen mode: setWebhook with the secret, or, for long
// polling, makes sure no webhook is set.
func (a *Adapter) Setup(ctx context.Context, menus map[string][]Command) error {
	me, err := a.api.GetMe(ctx)
	if errors.Is(err, tgbot.ErrorUnauthorized) {
		return fmt.Errorf("TELEGRAM_BOT_TOKEN: Telegram refused it (getMe): %w", err)
	}
	if err != nil {
		return fmt.Errorf("telegram getMe (TELEGRAM_API_URL %s): %w", a.cfg.APIURL, err)
	}
	a.reader.username = me.Username
	// Replies in the helpdesk group count only when they answer the bot's
	// own messages; its id comes from Telegram, not from the token.
	a.reader.selfID = me.ID
	for lang, cmds := range menus {
		if err := a.setCommands(ctx, lang, cmds); err != nil {
			return err
		}
	}
	if a.Webhook() {
		return a.setWebhook(ctx)
	}
	return a.preparePolling(ctx)
}

func (a *Adapter) setCommands(ctx context.Context, lang string, cmds []Command) error {
	list := make([]models.BotCommand, len(cmds))
	for i, c := range cmds {
		list[i] = models.BotCommand{Command: c.Name, Description: c.Description}
	}
	_, err := a.api.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{
		Commands:     list,
		Scope:        &models.BotCommandScopeAllPrivateChats{},
		LanguageCode: lang,
	})
	if err != nil {
		return fmt.Errorf("register the %q command menu with Telegram: %w", lang, err)
	}
	return nil
}

func (a *Adapter) setWebhook(ctx context.Context) error {
	if a.cfg.WebhookSecret == "" {
		return errors.New("TELEGRAM_WEBHOOK_SECRET: no secret for the webhook")
	}
	_, err := a.api.SetWebhook(ctx, &tgbot.SetWebhookParams{
		URL:            a.cfg.WebhookURL + WebhookPath,
		SecretToken:    a.cfg.WebhookSecret,
		AllowedUpdates: allowedUpdates,
	})
	if err != nil {
		return fmt.Errorf("TELEGRAM_WEBHOOK_URL: Telegram refused the webhook %s%s: %w", a.cfg.WebhookURL, WebhookPath, err)
	}
	a.log.InfoContext(ctx, "telegram webhook registered", slog.String("url", a.cfg.WebhookURL+WebhookPath))
	return nil
}

// preparePolling refuses to take over from a webhook unless told to: the
// webhook may belong to another deployment using the same token.
func (a *Adapter) preparePolling(ctx context.Context) error {
	info, err := a.api.GetWebhookInfo(ctx)
	if err != nil {
		return fmt.Errorf("telegram getWebhookInfo: %w", err)
	}
	if info.URL == "" {
		return nil
	}
	if !a.cfg.DeleteWebhook {
		return fmt.Errorf("a Telegram webhook is set for this bot (%s), so another deployment may be using "+
			"TELEGRAM_BOT_TOKEN; set TELEGRAM_WEBHOOK_URL to use the webhook, or TELEGRAM_DELETE_WEBHOOK=true "+
			"to remove it and poll from here", info.URL)
	}
	// Pending updates are kept: they are polled next.
	if _, err := a.api.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{}); err != nil {
		return fmt.Errorf("telegram deleteWebhook: %w", err)
	}
	a.log.WarnContext(ctx, "telegram webhook deleted to poll from here", slog.String("was", info.URL))
	return nil
}
