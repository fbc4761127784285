// Package cli holds activation-bot's commands (serve, chat, migrate,
// content) and the wiring each needs: configuration from the environment,
// then storage, then the engine, then the adapters.
package cli

import (
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"activation-bot/flows"
)

// DefaultDatabaseURL keeps state in a SQLite file under ./data, created on
// first use, so the bot runs with no setup at all.
const DefaultDatabaseURL = "sqlite:data/activation-bot.db"

// Config is everything read from the environment. Each field documents its
// variable; README.md has the same table.
type Config struct {
	DatabaseURL    string         // DATABASE_URL
	Port           int            // PORT
	LogLevel       slog.Level     // LOG_LEVEL
	LogLevelSet    bool           // whether LOG_LEVEL was given
	Location       *time.Location // TZ_CAMPUS
	ContentFile    string         // CONTENT_FILE
	LinksFile      string         // LINKS_FILE
	MigrateOnStart bool           // MIGRATE_ON_START
	Telegram       TelegramConfig
	Slack          SlackConfig
	Helpdesk       HelpdeskConfig
	Proactive      ProactiveConfig
	// TranscriptRetention is TRANSCRIPT_RETENTION; 0 keeps transcripts.
	TranscriptRetention time.Duration
	// PublicURL is PUBLIC_URL: where students and agents reach the web
	// pages; links the bot gives start with it. Default http://localhost:PORT.
	PublicURL string
	// SessionKey is SESSION_KEY; empty: one generated and stored in the
	// database, so every instance agrees.
	SessionKey string
	// TrustProxy is TRUST_PROXY: client addresses come from the proxy's
	// X-Forwarded-For (for the login and new-conversation limits).
	TrustProxy bool
}

// SlackConfig is the SLACK_* variables; the bot runs in Slack when
// BotToken is set, with a signing secret (HTTP mode), an app token
// (Socket Mode), or both.
type SlackConfig struct {
	BotToken      string // SLACK_BOT_TOKEN
	SigningSecret string // SLACK_SIGNING_SECRET
	AppToken      string // SLACK_APP_TOKEN
	APIURL        string // SLACK_API_URL
}

// TelegramConfig is the TELEGRAM_* variables; the bot runs on Telegram
// when Token is set.
type TelegramConfig struct {
	Token         string // TELEGRAM_BOT_TOKEN
	APIURL        string // TELEGRAM_API_URL
	WebhookURL    string // TELEGRAM_WEBHOOK_URL; empty: long polling
	WebhookSecret string // TELEGRAM_WEBHOOK_SECRET; empty: generated and stored
	DeleteWebhook bool   // TELEGRAM_DELETE_WEBHOOK
}

// LoadConfig reads the configuration; an invalid value is an error that
// names its variable.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL:    DefaultDatabaseURL,
		Port:           8080,
		LogLevel:       slog.LevelInfo,
		ContentFile:    strings.TrimSpace(getenv("CONTENT_FILE")),
		LinksFile:      strings.TrimSpace(getenv("LINKS_FILE")),
		MigrateOnStart: true,
	}
	if v := strings.TrimSpace(getenv("DATABASE_URL")); v != "" {
		c.DatabaseURL = v
	}
	if v := strings.TrimSpace(getenv("PORT")); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return c, fmt.Errorf("PORT: %q is not a port number (1-65535)", v)
		}
		c.Port = p
	}
	if v := strings.TrimSpace(getenv("LOG_LEVEL")); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return c, fmt.Errorf("LOG_LEVEL: %q is not one of debug, info, warn, error", v)
		}
		c.LogLevelSet = true
	}
	tz := strings.TrimSpace(getenv("TZ_CAMPUS"))
	if tz == "" {
		tz = "Europe/Brussels"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return c, fmt.Errorf("TZ_CAMPUS: %q is not a time zone name such as Europe/Brussels", tz)
	}
	c.Location = loc
	if v := strings.TrimSpace(getenv("MIGRATE_ON_START")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("MIGRATE_ON_START: %q is not true or false", v)
		}
		c.MigrateOnStart = b
	}
	if c.Telegram, err = loadTelegram(getenv); err != nil {
		return c, err
	}
	if c.Slack, err = loadSlack(getenv); err != nil {
		return c, err
	}
	if c.TranscriptRetention, err = loadRetention(getenv); err != nil {
		return c, err
	}
	if c.Helpdesk, err = loadHelpdesk(getenv, c); err != nil {
		return c, err
	}
	if c.PublicURL, c.SessionKey, err = loadWeb(getenv, c.Port); err != nil {
		return c, err
	}
	if v := strings.TrimSpace(getenv("TRUST_PROXY")); v != "" {
		if c.TrustProxy, err = strconv.ParseBool(v); err != nil {
			return c, fmt.Errorf("TRUST_PROXY: %q is not true or false", v)
		}
	}
	c.Proactive, err = loadProactive(getenv, c.Location)
	return c, err
}

// loadWeb reads PUBLIC_URL and SESSION_KEY.
func loadWeb(getenv func(string) string, port int) (publicURL, key string, err error) {
	publicURL = strings.TrimRight(strings.TrimSpace(getenv("PUBLIC_URL")), "/")
	if publicURL == "" {
		publicURL = "http://localhost:" + strconv.Itoa(port)
	}
	u, perr := url.Parse(publicURL)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("PUBLIC_URL: %q is not an http(s) address such as https://activation.example.edu", publicURL)
	}
	key = getenv("SESSION_KEY")
	if key != "" && len(key) < 32 {
		// A secret: the error never shows it.
		return "", "", fmt.Errorf("SESSION_KEY: too short (%d characters); use at least 32 random characters, e.g. `openssl rand -hex 32`", len(key))
	}
	return publicURL, key, nil
}

func loadSlack(getenv func(string) string) (SlackConfig, error) {
	s := SlackConfig{
		BotToken:      strings.TrimSpace(getenv("SLACK_BOT_TOKEN")),
		SigningSecret: strings.TrimSpace(getenv("SLACK_SIGNING_SECRET")),
		AppToken:      strings.TrimSpace(getenv("SLACK_APP_TOKEN")),
		APIURL:        strings.TrimSpace(getenv("SLACK_API_URL")),
	}
	// Tokens are secrets: errors name the variable, never the value.
	switch {
	case s.BotToken == "" && (s.SigningSecret != "" || s.AppToken != ""):
		return s, fmt.Errorf("SLACK_BOT_TOKEN: needed with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN")
	case s.BotToken == "":
		return s, nil
	case !strings.HasPrefix(s.BotToken, "xoxb-"):
		return s, fmt.Errorf("SLACK_BOT_TOKEN: not a bot token (it starts with xoxb-; see OAuth & Permissions)")
	case s.AppToken != "" && !strings.HasPrefix(s.AppToken, "xapp-"):
		return s, fmt.Errorf("SLACK_APP_TOKEN: not an app-level token (it starts with xapp-; see Basic Information > App-Level Tokens)")
	case s.SigningSecret == "" && s.AppToken == "":
		return s, fmt.Errorf("SLACK_SIGNING_SECRET or SLACK_APP_TOKEN: set one (HTTP mode or Socket Mode) with SLACK_BOT_TOKEN")
	}
	if s.APIURL != "" {
		if u, err := url.Parse(s.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return s, fmt.Errorf("SLACK_API_URL: %q is not an http(s) URL such as https://slack.com/api/", s.APIURL)
		}
	}
	return s, nil
}

// telegramTokenRe is the shape of a bot token.
var telegramTokenRe = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)

// webhookSecretRe is what Telegram accepts as a webhook secret token.
var webhookSecretRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func loadTelegram(getenv func(string) string) (TelegramConfig, error) {
	t := TelegramConfig{
		Token:         strings.TrimSpace(getenv("TELEGRAM_BOT_TOKEN")),
		APIURL:        strings.TrimSpace(getenv("TELEGRAM_API_URL")),
		WebhookURL:    strings.TrimSpace(getenv("TELEGRAM_WEBHOOK_URL")),
		WebhookSecret: strings.TrimSpace(getenv("TELEGRAM_WEBHOOK_SECRET")),
	}
	if t.Token != "" && !telegramTokenRe.MatchString(t.Token) {
		// Never echo the token: it is a secret.
		return t, fmt.Errorf("TELEGRAM_BOT_TOKEN: not a bot token (BotFather gives one like 123456:ABC-DEF...)")
	}
	for name, v := range map[string]string{"TELEGRAM_API_URL": t.APIURL, "TELEGRAM_WEBHOOK_URL": t.WebhookURL} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return t, fmt.Errorf("%s: %q is not an http(s) URL such as https://bot.example.org", name, v)
		}
	}
	if t.WebhookSecret != "" && !webhookSecretRe.MatchString(t.WebhookSecret) {
		return t, fmt.Errorf("TELEGRAM_WEBHOOK_SECRET: use 1-256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule)")
	}
	if v := strings.TrimSpace(getenv("TELEGRAM_DELETE_WEBHOOK")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return t, fmt.Errorf("TELEGRAM_DELETE_WEBHOOK: %q is not true or false", v)
		}
		t.DeleteWebhook = b
	}
	return t, nil
}

// LoadPack loads the content pack (CONTENT_FILE, else the embedded one) and
// applies LINKS_FILE.
func (c Config) LoadPack() (*flows.Pack, error) {
	var (
		p   *flows.Pack
		err error
	)
	if c.ContentFile != "" {
		p, err = flows.LoadFile(c.ContentFile)
	} else {
		p, err = flows.Default()
	}
	if err != nil {
		return nil, fmt.Errorf("CONTENT_FILE: %w", err)
	}
	if c.LinksFile != "" {
		if err := p.LoadLinksFile(c.LinksFile); err != nil {
			return nil, fmt.Errorf("LINKS_FILE: %w", err)
		}
	}
	return p, nil
}
