// Package cli holds activation-bot's commands (serve, chat, migrate,
// content) and the wiring each needs: configuration from the environment,
// then storage, then the engine, then the adapters.
package cli

import (
	"fmt"
	"log/slog"
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
	return c, nil
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
