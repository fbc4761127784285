package storage

import (
	"context"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// MigrateTo applies the migrations up to version only (upgrade tests).
func MigrateTo(ctx context.Context, db *DB, version int64) error {
	fsys, err := fs.Sub(migrations, "migrations/"+db.dialect.name)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(db.dialect.goose, db.DB.DB, fsys)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
