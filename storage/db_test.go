package storage_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/storage"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestOpenRejectsBadURLs(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ url, want string }{
		{"mysql://root@localhost/db", "unsupported database URL"},
		{"", "unsupported database URL"},
		{"sqlite:", "names no file"},
		{"postgres://user:secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", "connect to postgres"},
	} {
		_, err := storage.Open(ctx, tc.url)
		require.ErrorContains(t, err, tc.want, tc.url)
		require.NotContains(t, err.Error(), "secret", "passwords never appear in errors")
	}
}

func TestOpenSQLiteCreatesFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "bot.db")
	db, err := storage.Open(context.Background(), "sqlite:"+path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Migrate(context.Background(), discard())
	require.NoError(t, err)
	_, err = os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, "sqlite", db.Kind())
}

func TestRedactHidesPasswords(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://bot:s3cret@db:5432/x":           "postgres://bot:xxxxx@db:5432/x",
		"postgres://bot@db:1/x?password=s3cret&a=b": "postgres://bot@db:1/x?password=xxxxx&a=b",
		"postgres://bot:s3c%ret@db/x":               "postgres://xxxxx@db/x",
		"host=db user=bot password=s3cret":          "host=db user=bot password=xxxxx",
		"sqlite:data/bot.db":                        "sqlite:data/bot.db",
	} {
		require.Equal(t, want, storage.Redact(in), in)
	}
	_, err := storage.Open(context.Background(), "postgres://bot:s3c%ret@127.0.0.1:1/x")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3c")
}
