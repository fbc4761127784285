package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"activation-bot/bot"
)

// Reserve implements bot.Queue with the generic cell rate algorithm over
// one row per key, so every instance on the database shares the limit.
// The row holds the theoretical arrival time (tat) of the next send; a
// send may go at tat minus the burst tolerance, and moves tat one interval
// on. The update happens only when that moment is near enough, so a chat
// that must wait long does not burn slots it will not use.
func (q *Queue) Reserve(ctx context.Context, key string, r bot.Rate, within time.Duration) (time.Time, bool, error) {
	now := q.now().UnixMicro()
	every := r.Every.Microseconds()
	tolerance := int64(max(r.Burst-1, 0)) * every
	// CASE rather than GREATEST/MAX: the one spelling both dialects share.
	query := `INSERT INTO send_slots (key, tat) VALUES (?, CAST(? AS BIGINT))
		ON CONFLICT (key) DO UPDATE
		SET tat = (CASE WHEN send_slots.tat > CAST(? AS BIGINT) THEN send_slots.tat ELSE CAST(? AS BIGINT) END) + CAST(? AS BIGINT)
		WHERE (CASE WHEN send_slots.tat > CAST(? AS BIGINT) THEN send_slots.tat ELSE CAST(? AS BIGINT) END) - CAST(? AS BIGINT) <= CAST(? AS BIGINT)
		RETURNING tat`
	var tat int64
	err := q.db.GetContext(ctx, &tat, q.db.Rebind(query),
		key, now+every,
		now, now, every,
		now, now, tolerance, now+within.Microseconds())
	if err == nil {
		return at(max(tat-every-tolerance, now)), true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, fmt.Errorf("reserve send slot %s: %w", key, err)
	}
	// Too far: say when it opens, without taking it.
	if err := q.db.GetContext(ctx, &tat, q.db.Rebind(`SELECT tat FROM send_slots WHERE key = ?`), key); err != nil {
		return time.Time{}, false, fmt.Errorf("read send slot %s: %w", key, err)
	}
	return at(max(tat-tolerance, now)), false, nil
}

func at(micros int64) time.Time { return time.UnixMicro(micros) }

// Available says whether a slot under the limit is open now, and when the
// next one opens, without taking it: a login checks its name's limit, and
// only a failed attempt takes a slot.
func (q *Queue) Available(ctx context.Context, key string, r bot.Rate) (time.Time, bool, error) {
	now := q.now().UnixMicro()
	tolerance := int64(max(r.Burst-1, 0)) * r.Every.Microseconds()
	var tat int64
	err := q.db.GetContext(ctx, &tat, q.db.Rebind(`SELECT tat FROM send_slots WHERE key = ?`), key)
	if errors.Is(err, sql.ErrNoRows) {
		return at(now), true, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read send slot %s: %w", key, err)
	}
	opens := max(tat-tolerance, now)
	return at(opens), opens <= now, nil
}

// Release gives back what Reserve took for key: the work the slot was for
// did not happen (a broadcast form whose creation failed may be posted
// again).
func (q *Queue) Release(ctx context.Context, key string) error {
	if _, err := q.db.ExecContext(ctx, q.db.Rebind(`DELETE FROM send_slots WHERE key = ?`), key); err != nil {
		return fmt.Errorf("release slot %s: %w", key, err)
	}
	return nil
}
