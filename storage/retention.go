package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"activation-bot/bot"
)

// retentionArgs is the daily job that deletes conversation text older
// than the retention period (TRANSCRIPT_RETENTION).
type retentionArgs struct{}

func (retentionArgs) Kind() string { return "transcript_retention" }

type retentionWorker struct {
	river.WorkerDefaults[retentionArgs]
	q *Queue
}

func (w *retentionWorker) Work(ctx context.Context, _ *river.Job[retentionArgs]) error {
	_, err := w.q.ForgetOld(ctx)
	return err
}

// addRetention registers the retention job's worker and returns its
// schedule: daily, and at start, since instances restarted more often than
// daily (deploys) would otherwise never reach the first run.
func addRetention(workers *river.Workers, q *Queue) *river.PeriodicJob {
	river.AddWorker(workers, &retentionWorker{q: q})
	return river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return retentionArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}

// KeepTranscripts sets how long transcripts and the messages of resolved
// tickets are kept; 0 (the default) keeps them. Call it before Start.
func (q *Queue) KeepTranscripts(keep time.Duration) { q.retention = keep }

// Forgotten counts what one retention run deleted.
type Forgotten struct {
	Transcript     int64
	WebMessages    int64 // the web chat's copies of old messages
	TicketMessages int64
	// TicketContexts counts resolved tickets whose copy of the last
	// conversation lines was dropped.
	TicketContexts int64
}

// retentionBatch bounds one DELETE, so a first run over years of rows
// never holds locks (or SQLite's only writer) for long.
const retentionBatch = 5000

// ForgetOld deletes transcript lines older than the retention period, and
// the older messages of resolved tickets and the conversation lines copied
// into them (an open ticket keeps all of it, whatever its age).
func (q *Queue) ForgetOld(ctx context.Context) (Forgotten, error) {
	var f Forgotten
	if q.retention <= 0 {
		return f, nil
	}
	before := q.now().Add(-q.retention).UTC()
	var err error
	query := `DELETE FROM transcript WHERE id IN (SELECT id FROM transcript WHERE created_at < ? LIMIT ?)`
	if f.Transcript, err = deleteInBatches(ctx, q.db, query, before); err != nil {
		return f, fmt.Errorf("delete old transcript: %w", err)
	}
	// The web chat's mailbox is a second copy of the same conversation.
	query = `DELETE FROM web_messages WHERE id IN (SELECT id FROM web_messages WHERE created_at < ? LIMIT ?)`
	if f.WebMessages, err = deleteInBatches(ctx, q.db, query, before); err != nil {
		return f, fmt.Errorf("delete old web chat messages: %w", err)
	}
	query = `DELETE FROM ticket_messages WHERE id IN (SELECT m.id FROM ticket_messages m
		JOIN tickets t ON t.id = m.ticket_id WHERE t.status = 'resolved' AND m.created_at < ? LIMIT ?)`
	if f.TicketMessages, err = deleteInBatches(ctx, q.db, query, before); err != nil {
		return f, fmt.Errorf("delete old ticket messages: %w", err)
	}
	if f.TicketContexts, err = forgetTicketContexts(ctx, q.db, before); err != nil {
		return f, err
	}
	if q.log != nil && f.Transcript+f.WebMessages+f.TicketMessages+f.TicketContexts > 0 {
		q.log.InfoContext(ctx, "old conversation text deleted", slog.Time("before", before),
			slog.Int64("transcript_lines", f.Transcript), slog.Int64("web_messages", f.WebMessages), slog.Int64("ticket_messages", f.TicketMessages),
			slog.Int64("ticket_contexts", f.TicketContexts))
	}
	return f, nil
}

// deleteInBatches runs query (its arguments: before, then the batch size)
// until it deletes less than a batch, and returns how many rows went.
func deleteInBatches(ctx context.Context, db *DB, query string, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := db.ExecContext(ctx, db.Rebind(query), before, retentionBatch)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n < retentionBatch {
			return total, nil
		}
	}
}

// forgetTicketContexts empties the transcript a ticket copied when it was
// opened (bot.TicketContext), for resolved tickets opened before before:
// those lines are older still. The accounts' progress stays.
func forgetTicketContexts(ctx context.Context, db *DB, before time.Time) (int64, error) {
	var total int64
	for {
		var rows []struct {
			ID      int64  `db:"id"`
			Context string `db:"context"`
		}
		// An emptied context holds "transcript":[] and no longer matches.
		query := `SELECT id, context FROM tickets WHERE status = 'resolved' AND created_at < ? AND context LIKE ? ORDER BY id LIMIT ?`
		if err := db.SelectContext(ctx, &rows, db.Rebind(query), before, `%"transcript":[{%`, retentionBatch); err != nil {
			return total, fmt.Errorf("find old ticket contexts: %w", err)
		}
		for _, r := range rows {
			if err := emptyTicketTranscript(ctx, db, r.ID, r.Context); err != nil {
				return total, err
			}
		}
		total += int64(len(rows))
		if len(rows) < retentionBatch {
			return total, nil
		}
	}
}

func emptyTicketTranscript(ctx context.Context, db *DB, id int64, stored string) error {
	var tc bot.TicketContext
	// A context that does not decode is replaced: it can hold nothing kept.
	_ = json.Unmarshal([]byte(stored), &tc)
	tc.Transcript = []bot.Line{}
	b, err := json.Marshal(tc)
	if err != nil {
		return fmt.Errorf("encode context of ticket %d: %w", id, err)
	}
	if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE tickets SET context = ? WHERE id = ?`), string(b), id); err != nil {
		return fmt.Errorf("forget context of ticket %d: %w", id, err)
	}
	return nil
}
