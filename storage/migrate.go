package storage

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

// Pending reports whether migrations remain to be applied, for a process
// told not to apply them itself.
func (db *DB) Pending(ctx context.Context) (bool, error) {
	fsys, err := fs.Sub(migrations, "migrations/"+db.dialect.name)
	if err != nil {
		return false, fmt.Errorf("migrations for %s: %w", db.dialect.name, err)
	}
	p, err := goose.NewProvider(db.dialect.goose, db.DB.DB, fsys)
	if err != nil {
		return false, fmt.Errorf("prepare migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("check migrations: %w", err)
	}
	return pending, nil
}

// Migrate applies the embedded migrations of the database's dialect and
// returns how many it applied.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) (int, error) {
	fsys, err := fs.Sub(migrations, "migrations/"+db.dialect.name)
	if err != nil {
		return 0, fmt.Errorf("migrations for %s: %w", db.dialect.name, err)
	}
	var opts []goose.ProviderOption
	if db.dialect.name == postgresName {
		// Replicas that start together take turns instead of racing to
		// create the same tables.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300)) // poll each second, 5 minutes
		if err != nil {
			return 0, fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(db.dialect.goose, db.DB.DB, fsys, opts...)
	if err != nil {
		return 0, fmt.Errorf("prepare migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil && db.dialect.name == sqliteName {
		// Two processes on one SQLite file (serve and chat) may both start
		// the same migration; the loser's transaction rolled back, and a
		// second look finds the winner's work done.
		results, err = p.Up(ctx)
	}
	if err != nil {
		return len(results), fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range results {
		log.InfoContext(ctx, "migration applied", slog.Int64("version", r.Source.Version),
			slog.String("file", r.Source.Path), slog.Duration("took", r.Duration))
	}
	return len(results), db.migrateJobs(ctx, log)
}
