// Package slack puts the activation conversation in Slack: direct messages
// with the app, mentions, Block Kit buttons, the App Home checklist and a
// slash command, over the Events API (signed HTTP requests) or Socket
// Mode, with slack-go as the client.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"activation-bot/bot"
)

// Platform is how Slack identities and chats are named:
// slack:<team id>:<user id>.
const Platform = "slack"

// Paths of the HTTP mode, on PORT.
const (
	EventsPath       = "/slack/events"
	InteractionsPath = "/slack/interactions"
	CommandsPath     = "/slack/commands"
)

// Config configures the adapter; zero values get Slack's defaults.
type Config struct {
	BotToken      string // SLACK_BOT_TOKEN (xoxb-…)
	SigningSecret string // SLACK_SIGNING_SECRET: HTTP mode
	AppToken      string // SLACK_APP_TOKEN (xapp-…): Socket Mode
	APIURL        string // SLACK_API_URL, e.g. https://slack.com/api/
	// Commands are the engine's command names ("status", "help", ...): a
	// slash command's first word that is one runs it.
	Commands []string
	// PerChat and Overall are the send limits: Slack takes about one
	// message a second per channel.
	PerChat, Overall bot.Rate
	HTTPClient       *http.Client
	Logger           *slog.Logger
}

// Adapter is one Slack app in one workspace.
type Adapter struct {
	cfg      Config
	api      *slackapi.Client
	sender   *Sender
	log      *slog.Logger
	commands map[string]bool

	mu        sync.Mutex
	botUserID string
	locales   map[string]string // user id -> locale, from users.info
	dms       map[string]string // user id -> the app's DM channel with them
}

// New builds the adapter; it makes no request: Setup does.
func New(cfg Config) (*Adapter, error) {
	if strings.TrimSpace(cfg.BotToken) == "" {
		return nil, errors.New("SLACK_BOT_TOKEN is empty")
	}
	if cfg.SigningSecret == "" && cfg.AppToken == "" {
		return nil, errors.New("SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode) is needed with SLACK_BOT_TOKEN")
	}
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("SLACK_API_URL: %q is not an http(s) URL such as https://slack.com/api/", cfg.APIURL)
		}
		if !strings.HasSuffix(cfg.APIURL, "/") {
			cfg.APIURL += "/"
		}
	}
	if cfg.PerChat == (bot.Rate{}) {
		cfg.PerChat = bot.Rate{Every: time.Second, Burst: 3}
	}
	if cfg.Overall == (bot.Rate{}) {
		cfg.Overall = bot.Rate{Every: 20 * time.Millisecond, Burst: 50}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	opts := []slackapi.Option{slackapi.OptionHTTPClient(cfg.HTTPClient)}
	if cfg.APIURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(cfg.APIURL))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slackapi.OptionAppLevelToken(cfg.AppToken))
	}
	api := slackapi.New(cfg.BotToken, opts...)
	a := &Adapter{cfg: cfg, api: api, log: cfg.Logger, commands: map[string]bool{},
		locales: map[string]string{}, dms: map[string]string{}}
	for _, c := range cfg.Commands {
		a.commands[c] = true
	}
	a.sender = &Sender{api: api, perChat: cfg.PerChat, overall: cfg.Overall, dm: a.dmChannel, botUser: a.botUser,
		responseURLs: []string{"https://hooks.slack.com/", "https://hooks.slack-gov.com/"}}
	if cfg.APIURL != "" {
		u, _ := url.Parse(cfg.APIURL) // checked above
		a.sender.responseURLs = append(a.sender.responseURLs, u.Scheme+"://"+u.Host+"/")
	}
	return a, nil
}

// Setup checks the bot token (auth.test) and learns the bot's user and
// team, so the bot ignores its own messages.
func (a *Adapter) Setup(ctx context.Context) error {
	auth, err := a.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("SLACK_BOT_TOKEN: Slack refused it (auth.test): %w", err)
	}
	a.mu.Lock()
	a.botUserID = auth.UserID
	a.mu.Unlock()
	return nil
}

// Sender returns the adapter's bot.Sender.
func (a *Adapter) Sender() *Sender { return a.sender }

// HTTPMode reports whether Slack posts to serve's endpoints.
func (a *Adapter) HTTPMode() bool { return a.cfg.SigningSecret != "" }

// SocketMode reports whether the adapter connects to Slack itself.
func (a *Adapter) SocketMode() bool { return a.cfg.AppToken != "" }

func (a *Adapter) botUser() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.botUserID
}

// maxCached bounds the per-user caches; past it they start over.
const maxCached = 50000

// locale returns the user's Slack locale (users.info, cached). A failure
// leaves it empty: the engine then detects the language from the text.
func (a *Adapter) locale(ctx context.Context, user string) string {
	a.mu.Lock()
	l, ok := a.locales[user]
	a.mu.Unlock()
	if ok {
		return l
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	u, err := a.api.GetUserInfoContext(ctx, user)
	if err != nil {
		a.log.WarnContext(ctx, "slack users.info failed; the language is detected instead", slog.Any("error", err))
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.locales) >= maxCached {
		a.locales = map[string]string{}
	}
	a.locales[user] = u.Locale
	return u.Locale
}

// dmChannel returns the app's direct-message channel with user, opening
// it when not known yet.
func (a *Adapter) dmChannel(ctx context.Context, user string) (string, error) {
	a.mu.Lock()
	ch, ok := a.dms[user]
	a.mu.Unlock()
	if ok {
		return ch, nil
	}
	c, _, _, err := a.api.OpenConversationContext(ctx, &slackapi.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
	if err != nil {
		return "", fmt.Errorf("open a direct message with %s: %w", user, err)
	}
	a.rememberDM(user, c.ID)
	return c.ID, nil
}

func (a *Adapter) rememberDM(user, channel string) {
	if user == "" || !strings.HasPrefix(channel, "D") {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.dms) >= maxCached {
		a.dms = map[string]string{}
	}
	a.dms[user] = channel
}
