// Package slack puts the activation conversation in Slack: direct messages
// with the app, mentions, Block Kit buttons, the App Home checklist and a
// slash command, over the Events API (signed HTTP requests) or Socket
// Mode, with slack-go as the client.
package slack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
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
	// HelpdeskChannel is HELPDESK_SLACK_CHANNEL, the id of the channel
	// tickets are posted to (C0123ABCD); "" for none. Its threads and
	// ticket buttons are read as the helpdesk's actions, and nothing else
	// said there is answered.
	HelpdeskChannel string
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
	roster   *roster // the helpdesk channel's members

	mu        sync.Mutex
	botUserID string
	profiles  map[string]profile // user id -> from users.info
	dms       map[string]string  // user id -> the app's DM channel with them
}

// profile is what users.info tells about a person: their locale, for the
// first language, and their names, for the helpdesk.
type profile struct {
	locale, handle, name string
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
	cfg.HelpdeskChannel = strings.TrimSpace(cfg.HelpdeskChannel)
	if cfg.HelpdeskChannel != "" && !channelID.MatchString(cfg.HelpdeskChannel) {
		return nil, fmt.Errorf("HELPDESK_SLACK_CHANNEL: %q is not a channel id such as C0123ABCD (channel details in Slack)", cfg.HelpdeskChannel)
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
		profiles: map[string]profile{}, dms: map[string]string{}}
	a.roster = newRoster(api, cfg.HelpdeskChannel)
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

// channelID is what a public or private channel's id looks like.
var channelID = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)

// inHelpdesk reports whether channel is the helpdesk channel.
func (a *Adapter) inHelpdesk(channel string) bool {
	return a.cfg.HelpdeskChannel != "" && channel == a.cfg.HelpdeskChannel
}

// maxCached bounds the per-user caches; past it they start over.
const maxCached = 50000

// profile returns what users.info says of user, cached. A failure leaves
// it empty: the engine then detects the language from the text, and the
// helpdesk sees the Slack id instead of a name.
func (a *Adapter) profile(ctx context.Context, user string) profile {
	a.mu.Lock()
	p, ok := a.profiles[user]
	a.mu.Unlock()
	if ok {
		return p
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	u, err := a.api.GetUserInfoContext(ctx, user)
	if err != nil {
		a.log.WarnContext(ctx, "slack users.info failed; language from the text, no name", slog.String("user", user), slog.Any("error", err))
		return profile{}
	}
	p = profile{locale: u.Locale, handle: u.Name,
		name: cmp.Or(u.Profile.RealName, u.RealName, u.Profile.DisplayName)}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.profiles) >= maxCached {
		a.profiles = map[string]profile{}
	}
	a.profiles[user] = p
	return p
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
