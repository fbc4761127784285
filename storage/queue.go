package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"activation-bot/bot"
)

// Queue implements bot.Queue: the inbox of accepted events, the outbox of
// replies, the shared send-rate limits, and the River client whose chat
// jobs work through them.
type Queue struct {
	db    *DB
	log   *slog.Logger
	now   func() time.Time
	river *river.Client[*sql.Tx]
	work  func(context.Context, bot.Chat) error
	// minutely is run once a minute by one instance (Engine.Reannounce).
	minutely func(context.Context) error
	// composer decides on reminders and broadcast copies when they are due.
	composer Composer
	// quiet holds broadcasts back at night.
	quiet bot.QuietHours
	// retention is how long transcripts are kept (retention.go); 0: for ever.
	retention time.Duration
}

var _ bot.Queue = (*Queue)(nil)

// NewQueue prepares the queue over a migrated database. Start runs its
// workers; without Start, events are stored and wait.
func NewQueue(db *DB, log *slog.Logger) (*Queue, error) {
	q := &Queue{db: db, log: log, now: time.Now}
	workers := river.NewWorkers()
	river.AddWorker(workers, &chatWorker{q: q})
	river.AddWorker(workers, &sweepWorker{q: q})
	river.AddWorker(workers, &purgeWorker{q: q})
	river.AddWorker(workers, &minuteWorker{q: q})
	river.AddWorker(workers, &reminderWorker{q: q})
	river.AddWorker(workers, &broadcastWorker{q: q})
	periodic := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return sweepArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return purgeArgs{}, nil }, nil),
		river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return minuteArgs{}, nil }, nil),
	}
	periodic = append(periodic, addRetention(workers, q))
	client, err := river.NewClient(db.riverDriver(), jobsConfig(log, workers, periodic))
	if err != nil {
		return nil, fmt.Errorf("create job queue client: %w", err)
	}
	q.river = client
	return q, nil
}

// SetClock makes the queue read the time from now (tests of the rate
// limits); River's own scheduling keeps the wall clock.
func (q *Queue) SetClock(now func() time.Time) { q.now = now }

// EveryMinute sets work to run once a minute, by one instance at a time;
// call it before Start.
func (q *Queue) EveryMinute(work func(context.Context) error) { q.minutely = work }

// Start runs the workers; work is called for each chat with pending work
// (bot.Dispatcher.Work), one call per chat at a time.
func (q *Queue) Start(ctx context.Context, work func(context.Context, bot.Chat) error) error {
	q.work = work
	if err := q.river.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	return nil
}

// Stop lets the running jobs finish (until ctx ends, then cancels them:
// they are snoozed and resume on the next start).
func (q *Queue) Stop(ctx context.Context) error {
	err := q.river.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		// Cancelled jobs still finish a send they started and record it.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 25*time.Second)
		defer cancel()
		err = q.river.StopAndCancel(cctx)
	}
	if err != nil {
		return fmt.Errorf("stop job queue: %w", err)
	}
	return nil
}

// Accept implements bot.Queue.
func (q *Queue) Accept(ctx context.Context, in bot.Inbound) error {
	if in.EventID == "" || in.ChatID == "" {
		return fmt.Errorf("accept event of %s: event id and chat id are required", in.Identity())
	}
	payload, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode event %s/%s: %w", in.Platform, in.EventID, err)
	}
	chat := bot.Chat{Platform: in.Platform, ID: in.ChatID}
	return q.inTx(ctx, "accept event "+in.EventID, func(tx *sqlx.Tx) error {
		now := q.now().UTC()
		query := `INSERT INTO inbox (platform, event_id, chat_id, payload, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
		res, err := tx.ExecContext(ctx, tx.Rebind(query), in.Platform, in.EventID, in.ChatID, string(payload), now)
		if err != nil {
			return fmt.Errorf("store event %s/%s: %w", in.Platform, in.EventID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmpOr(err, bot.ErrDuplicate)
		}
		// A student who writes again has unblocked the bot.
		reachable := in.Media != bot.MediaBlocked
		return q.enqueue(ctx, tx, chat, reachable)
	})
}

// enqueue locks the chat row and gives the chat a job unless it has a live
// one. reachable clears the chat's unreachable mark.
func (q *Queue) enqueue(ctx context.Context, tx *sqlx.Tx, chat bot.Chat, reachable bool) error {
	query := `INSERT INTO chats (platform, chat_id, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (platform, chat_id) DO UPDATE SET updated_at = excluded.updated_at`
	if reachable {
		query += `, unreachable_at = NULL, reason = ''`
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(query), chat.Platform, chat.ID, q.now().UTC()); err != nil {
		return fmt.Errorf("lock chat %s: %w", chat, err)
	}
	if _, err := q.river.InsertTx(ctx, tx.Tx, ChatArgs{Platform: chat.Platform, ChatID: chat.ID}, nil); err != nil {
		return fmt.Errorf("enqueue chat %s: %w", chat, err)
	}
	return nil
}

// lockChat locks the chat's row, creating it if needed.
func (q *Queue) lockChat(ctx context.Context, tx *sqlx.Tx, chat bot.Chat) error {
	query := `INSERT INTO chats (platform, chat_id, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (platform, chat_id) DO UPDATE SET updated_at = chats.updated_at`
	if _, err := tx.ExecContext(ctx, tx.Rebind(query), chat.Platform, chat.ID, q.now().UTC()); err != nil {
		return fmt.Errorf("lock chat %s: %w", chat, err)
	}
	return nil
}

// pending reports whether the chat has unprocessed events or unsent replies.
func (q *Queue) pending(ctx context.Context, tx *sqlx.Tx, chat bot.Chat) (bool, error) {
	var n int
	query := `SELECT
		(SELECT COUNT(*) FROM (SELECT 1 FROM inbox WHERE platform = ? AND chat_id = ? AND processed_at IS NULL LIMIT 1) i) +
		(SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE platform = ? AND chat_id = ? AND sent_at IS NULL AND failed_at IS NULL LIMIT 1) o)`
	if err := tx.GetContext(ctx, &n, tx.Rebind(query), chat.Platform, chat.ID, chat.Platform, chat.ID); err != nil {
		return false, fmt.Errorf("look for work of chat %s: %w", chat, err)
	}
	return n > 0, nil
}

// NextInbound implements bot.Queue.
func (q *Queue) NextInbound(ctx context.Context, chat bot.Chat) (bot.Inbound, bool, error) {
	var row struct {
		ID      int64  `db:"id"`
		Payload string `db:"payload"`
	}
	query := `SELECT id, payload FROM inbox WHERE platform = ? AND chat_id = ? AND processed_at IS NULL ORDER BY id LIMIT 1`
	err := q.db.GetContext(ctx, &row, q.db.Rebind(query), chat.Platform, chat.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Inbound{}, false, nil
	}
	if err != nil {
		return bot.Inbound{}, false, fmt.Errorf("next event of chat %s: %w", chat, err)
	}
	var in bot.Inbound
	if err := json.Unmarshal([]byte(row.Payload), &in); err != nil {
		// Nothing can be done with it: set it aside, keep the chat moving.
		q.log.ErrorContext(ctx, "undecodable inbox row set aside", slog.Int64("inbox_id", row.ID), slog.Any("error", err))
		if err := q.setAside(ctx, row.ID, err); err != nil {
			return bot.Inbound{}, false, err
		}
		return q.NextInbound(ctx, chat)
	}
	in.InboxID = row.ID
	return in, true, nil
}

// maxProcessAttempts bounds the failures of one event before it is set
// aside, so one poisoned event cannot block its chat for ever.
const maxProcessAttempts = 5

// FailInbound implements bot.Queue.
func (q *Queue) FailInbound(ctx context.Context, id int64, cause error) error {
	return q.inTx(ctx, fmt.Sprintf("record failure of event %d", id), func(tx *sqlx.Tx) error {
		query := `UPDATE inbox SET attempts = attempts + 1, error = ? WHERE id = ?`
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), errorText(cause), id); err != nil {
			return fmt.Errorf("record failure of event %d: %w", id, err)
		}
		// Two statements: Postgres will not type a parameter inside CASE.
		query = `UPDATE inbox SET processed_at = ?, payload = '' WHERE id = ? AND attempts >= ? AND processed_at IS NULL`
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), q.now().UTC(), id, maxProcessAttempts); err != nil {
			return fmt.Errorf("set event %d aside: %w", id, err)
		}
		return nil
	})
}

func (q *Queue) setAside(ctx context.Context, id int64, cause error) error {
	query := `UPDATE inbox SET processed_at = ?, payload = '', error = ? WHERE id = ?`
	if _, err := q.db.ExecContext(ctx, q.db.Rebind(query), q.now().UTC(), errorText(cause), id); err != nil {
		return fmt.Errorf("set event %d aside: %w", id, err)
	}
	return nil
}

// markProcessed settles an inbox event inside the transaction that acted
// on it, dropping its payload: the transcript keeps what is kept. An event
// settled already is a duplicate.
func markProcessed(ctx context.Context, tx *sqlx.Tx, id int64, now time.Time) error {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE inbox SET processed_at = ?, payload = '' WHERE id = ? AND processed_at IS NULL`), now, id)
	if err != nil {
		return fmt.Errorf("settle event %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return cmpOr(err, bot.ErrDuplicate)
	}
	return nil
}

// Notify implements bot.Queue.
func (q *Queue) Notify(ctx context.Context, chat bot.Chat, inboxID int64, msgs []bot.Outbound) error {
	return q.inTx(ctx, "notify chat "+chat.String(), func(tx *sqlx.Tx) error {
		now := q.now().UTC()
		if inboxID != 0 {
			if err := markProcessed(ctx, tx, inboxID, now); err != nil {
				return err
			}
		}
		if len(msgs) == 0 {
			return nil
		}
		if err := q.enqueue(ctx, tx, chat, false); err != nil {
			return err
		}
		var unreachable sql.NullTime
		query := `SELECT unreachable_at FROM chats WHERE platform = ? AND chat_id = ?`
		if err := tx.GetContext(ctx, &unreachable, tx.Rebind(query), chat.Platform, chat.ID); err != nil {
			return fmt.Errorf("check chat %s: %w", chat, err)
		}
		if unreachable.Valid {
			return nil // the student blocked the bot: nothing to send
		}
		return writeOutbox(ctx, tx, chat, 0, "", msgs, now)
	})
}

// writeOutbox appends an acknowledgement (when ack is set) and msgs to
// the chat's outbox, in that order, for student (0: no student's).
func writeOutbox(ctx context.Context, tx *sqlx.Tx, chat bot.Chat, student int64, ack string, msgs []bot.Outbound, now time.Time) error {
	rows := make([]bot.Delivery, 0, len(msgs)+1)
	if ack != "" {
		rows = append(rows, bot.Delivery{Ack: ack})
	}
	for i := range msgs {
		rows = append(rows, bot.Delivery{Message: &msgs[i], Forget: msgs[i].Secret != ""})
	}
	return writeDeliveries(ctx, tx, chat, student, rows, now)
}

// writeDeliveries appends rows to the chat's outbox, in order.
func writeDeliveries(ctx context.Context, tx *sqlx.Tx, chat bot.Chat, student int64, rows []bot.Delivery, now time.Time) error {
	for _, r := range rows {
		if _, err := insertDelivery(ctx, tx, chat, student, r, now); err != nil {
			return err
		}
	}
	return nil
}

// insertDelivery appends one row to the chat's outbox and returns its id.
func insertDelivery(ctx context.Context, tx *sqlx.Tx, chat bot.Chat, student int64, r bot.Delivery, now time.Time) (int64, error) {
	var owner sql.NullInt64
	if student != 0 {
		owner = sql.NullInt64{Int64: student, Valid: true}
	}
	payload, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("encode reply to %s: %w", chat, err)
	}
	var id int64
	query := `INSERT INTO outbox (platform, chat_id, student_id, payload, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`
	if err := tx.GetContext(ctx, &id, tx.Rebind(query), chat.Platform, chat.ID, owner, string(payload), now); err != nil {
		return 0, fmt.Errorf("queue reply to %s: %w", chat, err)
	}
	return id, nil
}

// NextDelivery implements bot.Queue.
func (q *Queue) NextDelivery(ctx context.Context, chat bot.Chat) (bot.Delivery, bool, error) {
	var row struct {
		ID       int64         `db:"id"`
		Payload  string        `db:"payload"`
		Attempts int           `db:"attempts"`
		Parts    int           `db:"parts_sent"`
		Created  time.Time     `db:"created_at"`
		Student  sql.NullInt64 `db:"student_id"`
	}
	query := `SELECT id, payload, attempts, parts_sent, created_at, student_id FROM outbox
		WHERE platform = ? AND chat_id = ? AND sent_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT 1`
	err := q.db.GetContext(ctx, &row, q.db.Rebind(query), chat.Platform, chat.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Delivery{}, false, nil
	}
	if err != nil {
		return bot.Delivery{}, false, fmt.Errorf("next reply to %s: %w", chat, err)
	}
	var d bot.Delivery
	if err := json.Unmarshal([]byte(row.Payload), &d); err != nil || (d.Message == nil && d.Ack == "" && d.Home == nil) {
		cause := cmpOr(err, errors.New("empty outbox row"))
		if err := q.Undeliverable(ctx, row.ID, cause); err != nil {
			return bot.Delivery{}, false, err
		}
		return q.NextDelivery(ctx, chat)
	}
	d.ID, d.Chat, d.Attempts, d.Parts, d.Created = row.ID, chat, row.Attempts, row.Parts, row.Created
	if d.Proactive && row.Student.Valid {
		stopped, err := q.optedOut(ctx, row.Student.Int64)
		if err != nil {
			return bot.Delivery{}, false, err
		}
		if stopped {
			// /stop came after the message was queued: it is not sent.
			if err := q.dropProactive(ctx, row.ID); err != nil {
				return bot.Delivery{}, false, err
			}
			return q.NextDelivery(ctx, chat)
		}
	}
	if d.Ticket != nil {
		if d.Ticket.Ref, err = postRef(ctx, q.db, chat, d.Ticket.ID); err != nil {
			return bot.Delivery{}, false, err
		}
	}
	return d, true, nil
}

// optedOut reports whether the student turned proactive messages off.
func (q *Queue) optedOut(ctx context.Context, student int64) (bool, error) {
	var stopped sql.NullTime
	query := `SELECT opted_out_at FROM conversations WHERE student_id = ?`
	err := q.db.GetContext(ctx, &stopped, q.db.Rebind(query), student)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("check the opt-out of student %d: %w", student, err)
	}
	return stopped.Valid, nil
}

// dropProactive sets aside a queued proactive message and counts it skipped.
func (q *Queue) dropProactive(ctx context.Context, id int64) error {
	return q.inTx(ctx, fmt.Sprintf("drop proactive message %d", id), func(tx *sqlx.Tx) error {
		query := `UPDATE outbox SET failed_at = ?, error = 'opted out' WHERE id = ?`
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), q.now().UTC(), id); err != nil {
			return fmt.Errorf("set aside proactive message %d: %w", id, err)
		}
		query = `UPDATE proactive_sends SET status = 'skipped', reason = 'opted out', updated_at = ? WHERE outbox_id = ? AND status = 'queued'`
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), q.now().UTC(), id); err != nil {
			return fmt.Errorf("skip proactive message %d: %w", id, err)
		}
		return nil
	})
}

// Delivered implements bot.Queue.
func (q *Queue) Delivered(ctx context.Context, d bot.Delivery, ref string) error {
	return q.inTx(ctx, "mark reply sent", func(tx *sqlx.Tx) error {
		now := q.now().UTC()
		query := `UPDATE outbox SET sent_at = ?, message_ref = ?, attempts = attempts + 1 WHERE id = ?`
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), now, ref, d.ID); err != nil {
			return fmt.Errorf("mark reply %d sent: %w", d.ID, err)
		}
		if d.Forget {
			query := `UPDATE outbox SET payload = '' WHERE id = ?`
			if _, err := tx.ExecContext(ctx, tx.Rebind(query), d.ID); err != nil {
				return fmt.Errorf("forget the text of reply %d: %w", d.ID, err)
			}
		}
		if d.Proactive {
			// A copy sent while its broadcast was being cancelled still counts.
			query := `UPDATE proactive_sends SET status = 'sent', reason = '', updated_at = ?
				WHERE outbox_id = ? AND (status = 'queued' OR status = 'skipped' AND reason = 'cancelled')`
			if _, err := tx.ExecContext(ctx, tx.Rebind(query), now, d.ID); err != nil {
				return fmt.Errorf("record proactive message %d sent: %w", d.ID, err)
			}
		}
		return recordPost(ctx, tx, d, ref, now)
	})
}

// Retry implements bot.Queue.
func (q *Queue) Retry(ctx context.Context, id int64, cause error) error {
	query := `UPDATE outbox SET attempts = attempts + 1, error = ? WHERE id = ?`
	if _, err := q.db.ExecContext(ctx, q.db.Rebind(query), errorText(cause), id); err != nil {
		return fmt.Errorf("record failed send of reply %d: %w", id, err)
	}
	return nil
}

// PartsSent implements bot.Queue.
func (q *Queue) PartsSent(ctx context.Context, id int64, parts int) error {
	if _, err := q.db.ExecContext(ctx, q.db.Rebind(`UPDATE outbox SET parts_sent = ? WHERE id = ?`), parts, id); err != nil {
		return fmt.Errorf("record parts sent of reply %d: %w", id, err)
	}
	return nil
}

// Undeliverable implements bot.Queue.
func (q *Queue) Undeliverable(ctx context.Context, id int64, cause error) error {
	return q.inTx(ctx, fmt.Sprintf("mark reply %d failed", id), func(tx *sqlx.Tx) error {
		query := `UPDATE outbox SET failed_at = ?, error = ?, attempts = attempts + 1 WHERE id = ?`
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), q.now().UTC(), errorText(cause), id); err != nil {
			return fmt.Errorf("mark reply %d failed: %w", id, err)
		}
		return settleProactive(ctx, tx, "failed", errorText(cause), "outbox_id = ?", id)
	})
}

// Unreachable implements bot.Queue.
func (q *Queue) Unreachable(ctx context.Context, chat bot.Chat, cause error) error {
	return q.inTx(ctx, "mark chat "+chat.String()+" unreachable", func(tx *sqlx.Tx) error {
		now := q.now().UTC()
		query := `INSERT INTO chats (platform, chat_id, unreachable_at, reason, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (platform, chat_id) DO UPDATE
			SET unreachable_at = excluded.unreachable_at, reason = excluded.reason, updated_at = excluded.updated_at`
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), chat.Platform, chat.ID, now, errorText(cause), now); err != nil {
			return fmt.Errorf("mark chat %s unreachable: %w", chat, err)
		}
		// The outbox rows first, then their proactive_sends rows: the order
		// every writer of both keeps (Delivered, a broadcast's cancel).
		var ids []int64
		query = `UPDATE outbox SET failed_at = ?, error = ? WHERE platform = ? AND chat_id = ? AND sent_at IS NULL AND failed_at IS NULL RETURNING id`
		if err := tx.SelectContext(ctx, &ids, tx.Rebind(query), now, "unreachable: "+errorText(cause), chat.Platform, chat.ID); err != nil {
			return fmt.Errorf("set aside replies to %s: %w", chat, err)
		}
		if len(ids) == 0 {
			return nil
		}
		return settleProactive(ctx, tx, "failed", "unreachable", "outbox_id IN ("+marks(len(ids))+")", asArgs(ids)...)
	})
}

// Reachable reports whether the chat accepts messages, as far as the bot
// knows; a chat never seen is reachable.
func (q *Queue) Reachable(ctx context.Context, chat bot.Chat) (bool, error) {
	var unreachable sql.NullTime
	query := `SELECT unreachable_at FROM chats WHERE platform = ? AND chat_id = ?`
	err := q.db.GetContext(ctx, &unreachable, q.db.Rebind(query), chat.Platform, chat.ID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("check chat %s: %w", chat, err)
	}
	return !unreachable.Valid, nil
}

// sweep gives every chat with pending work a job; the unique job options
// skip chats that have a live one.
func (q *Queue) sweep(ctx context.Context) error {
	var chats []struct {
		Platform string `db:"platform"`
		ChatID   string `db:"chat_id"`
	}
	query := `SELECT platform, chat_id FROM inbox WHERE processed_at IS NULL
		UNION SELECT platform, chat_id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL LIMIT 10000`
	if err := q.db.SelectContext(ctx, &chats, query); err != nil {
		return fmt.Errorf("find chats with pending work: %w", err)
	}
	for _, c := range chats {
		chat := bot.Chat{Platform: c.Platform, ID: c.ChatID}
		if err := q.inTx(ctx, "sweep chat "+chat.String(), func(tx *sqlx.Tx) error {
			return q.enqueue(ctx, tx, chat, false)
		}); err != nil {
			return err
		}
	}
	return nil
}

// purge deletes settled inbox and outbox rows older than keep.
func (q *Queue) purge(ctx context.Context, keep time.Duration) error {
	before := q.now().Add(-keep).UTC()
	if _, err := q.db.ExecContext(ctx, q.db.Rebind(`DELETE FROM inbox WHERE processed_at < ?`), before); err != nil {
		return fmt.Errorf("purge inbox: %w", err)
	}
	query := `DELETE FROM outbox WHERE sent_at < ? OR failed_at < ?`
	if _, err := q.db.ExecContext(ctx, q.db.Rebind(query), before, before); err != nil {
		return fmt.Errorf("purge outbox: %w", err)
	}
	return nil
}

// inTx runs fn in a transaction, committing when it returns nil.
func (q *Queue) inTx(ctx context.Context, what string, fn func(*sqlx.Tx) error) error {
	return inTx(ctx, q.db, what, fn)
}

// inTx runs fn in one transaction of db, committed when fn succeeds.
func inTx(ctx context.Context, db *DB, what string, fn func(*sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// errorText bounds an error message kept in a row.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

func cmpOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}
