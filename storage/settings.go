package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Setting returns the value stored under key, storing generate's value
// first when there is none. Instances that start together agree on one
// value: the first insert wins and everyone reads it back.
func (db *DB) Setting(ctx context.Context, key string, generate func() (string, error)) (string, error) {
	var value string
	err := db.GetContext(ctx, &value, db.Rebind(`SELECT value FROM settings WHERE key = ?`), key)
	if err == nil {
		return value, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	fresh, err := generate()
	if err != nil {
		return "", fmt.Errorf("generate setting %s: %w", key, err)
	}
	query := `INSERT INTO settings (key, value, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`
	if _, err := db.ExecContext(ctx, db.Rebind(query), key, fresh, time.Now().UTC()); err != nil {
		return "", fmt.Errorf("store setting %s: %w", key, err)
	}
	if err := db.GetContext(ctx, &value, db.Rebind(`SELECT value FROM settings WHERE key = ?`), key); err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return value, nil
}
