package storage

import (
	"context"
	"fmt"
)

// QueueDepth counts the work waiting: inbox events not yet processed and
// outbox rows neither sent nor set aside (both on partial indexes, so a
// scrape stays cheap however long the tables grow).
func (db *DB) QueueDepth(ctx context.Context) (inbox, outbox int, err error) {
	var n struct {
		Inbox  int `db:"inbox"`
		Outbox int `db:"outbox"`
	}
	query := `SELECT (SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL) AS inbox,
		(SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL) AS outbox`
	if err := db.GetContext(ctx, &n, query); err != nil {
		return 0, 0, fmt.Errorf("count queued work: %w", err)
	}
	return n.Inbox, n.Outbox, nil
}
