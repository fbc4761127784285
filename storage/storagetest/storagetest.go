// Package storagetest gives tests real, fresh databases: SQLite always, and
// Postgres whenever TEST_DATABASE_URL is set. Under CI=true a missing
// TEST_DATABASE_URL fails the test instead of quietly testing less.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"activation-bot/storage"
)

// Database is one fresh, migrated database for one test.
type Database struct {
	Name string // "sqlite" or "postgres"
	URL  string // a DATABASE_URL that reaches exactly this database
	DB   *storage.DB
}

// ForEach runs fn as a subtest once per available database.
func ForEach(t *testing.T, fn func(t *testing.T, d Database)) {
	t.Helper()
	for _, name := range Names(t) {
		t.Run(name, func(t *testing.T) {
			fn(t, Open(t, name))
		})
	}
}

// Names lists the databases available to tests.
func Names(t testing.TB) []string {
	t.Helper()
	if PostgresURL(t) == "" {
		return []string{"sqlite"}
	}
	return []string{"sqlite", "postgres"}
}

// PostgresURL returns TEST_DATABASE_URL, failing the test when CI=true and
// it is missing.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" && os.Getenv("CI") == "true" {
		t.Fatal("TEST_DATABASE_URL is not set but CI=true: the Postgres tests must run in CI")
	}
	return u
}

// Open creates a fresh, migrated database of the named kind, removed when
// the test ends.
func Open(t testing.TB, name string) Database {
	t.Helper()
	d := OpenEmpty(t, name)
	if _, err := d.DB.Migrate(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("migrate %s: %v", name, err)
	}
	return d
}

// OpenEmpty creates a fresh database of the named kind with no tables.
func OpenEmpty(t testing.TB, name string) Database {
	t.Helper()
	ctx := context.Background()
	var u string
	switch name {
	case "sqlite":
		u = "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	case "postgres":
		u = freshSchema(t, PostgresURL(t))
	default:
		t.Fatalf("unknown database %q", name)
	}
	db, err := storage.Open(ctx, u)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { db.Close() })
	return Database{Name: name, URL: u, DB: db}
}

// freshSchema creates a schema of its own for the test and returns a URL
// whose connections use it (lib/pq passes search_path to the server).
func freshSchema(t testing.TB, base string) string {
	t.Helper()
	if base == "" {
		t.Fatal("postgres requested but TEST_DATABASE_URL is not set")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		t.Fatalf("open TEST_DATABASE_URL: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(fmt.Sprintf("CREATE SCHEMA %s", schema)); err != nil {
		t.Fatalf("create schema (is Postgres running at TEST_DATABASE_URL?): %v", err)
	}
	t.Cleanup(func() {
		a, err := sqlx.Open("postgres", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec(fmt.Sprintf("DROP SCHEMA %s CASCADE", schema))
	})
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	return pu.String()
}

// Settle waits until the database's queue has no event to process and no
// reply to send, then a little more, so a test can assert that nothing
// else arrives.
func Settle(t testing.TB, db *storage.DB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := db.Get(&n, `SELECT (SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL) +
			(SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL)`); err != nil {
			t.Fatalf("count queued items: %v", err)
		}
		if n == 0 {
			time.Sleep(150 * time.Millisecond)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d queued items never settled", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Clock is a clock a test moves; safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
