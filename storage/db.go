// Package storage keeps activation-bot's state in a SQL database through
// sqlx: Postgres (lib/pq) in production, SQLite (modernc.org/sqlite, pure
// Go) as the zero-setup default. Dialect differences live in dialect.go.
package storage

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"  // registers "postgres"
	_ "modernc.org/sqlite" // registers "sqlite"
)

// DB is an open database with its dialect.
type DB struct {
	*sqlx.DB
	dialect dialect
	// url is the DATABASE_URL, for a second kind of connection (Postgres
	// notifications); never logged.
	url string
}

// Kind returns "postgres" or "sqlite".
func (db *DB) Kind() string { return db.dialect.name }

// Open connects to the database a DATABASE_URL names: "postgres://…" (or
// "postgresql://…") or "sqlite:PATH". It pings before returning, so an
// unreachable database is reported here, once, clearly.
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	d, dsn, err := parseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	if d.name == sqliteName {
		if err := os.MkdirAll(filepath.Dir(dsnPath(databaseURL)), 0o750); err != nil {
			return nil, fmt.Errorf("create folder for SQLite database: %w", err)
		}
	}
	x, err := sqlx.Open(d.driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", d.name, err)
	}
	d.configure(x)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := x.PingContext(pingCtx); err != nil {
		x.Close()
		return nil, fmt.Errorf("connect to %s database %s: %w", d.name, Redact(databaseURL), err)
	}
	return &DB{DB: x, dialect: d, url: databaseURL}, nil
}

func parseURL(databaseURL string) (dialect, string, error) {
	switch {
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		if _, err := url.Parse(databaseURL); err != nil {
			// url.Parse's error quotes the whole URL, password included.
			return dialect{}, "", fmt.Errorf("malformed postgres URL %s (percent-encode special characters in the password)", Redact(databaseURL))
		}
		return postgres, databaseURL, nil
	case strings.HasPrefix(databaseURL, "sqlite:"):
		path := dsnPath(databaseURL)
		if path == "" {
			return dialect{}, "", fmt.Errorf("sqlite URL %q names no file (want sqlite:PATH)", databaseURL)
		}
		return sqlite, sqliteDSN(path), nil
	}
	return dialect{}, "", fmt.Errorf("unsupported database URL %s (want postgres://… or sqlite:PATH)", Redact(databaseURL))
}

func dsnPath(databaseURL string) string {
	p := strings.TrimPrefix(databaseURL, "sqlite:")
	return strings.TrimPrefix(p, "//")
}

var (
	passwordParam = regexp.MustCompile(`(?i)(password=)[^&\s]*`)
	userInfo      = regexp.MustCompile(`//[^/?#]*@`)
)

// Redact hides the password of a database URL, for error messages and
// logs: in the user info, in a password= parameter, or in a key=value
// connection string.
func Redact(databaseURL string) string {
	s := passwordParam.ReplaceAllString(databaseURL, "${1}xxxxx")
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return userInfo.ReplaceAllString(s, "//xxxxx@")
}
