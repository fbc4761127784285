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

// Broadcasts keeps the admins' broadcasts; the queue's broadcast job hands
// each one's copies to the outbox.
type Broadcasts struct {
	q *Queue
}

// NewBroadcasts returns the broadcasts of the queue's database. The CLI
// only queues: a running serve delivers.
func NewBroadcasts(q *Queue) *Broadcasts { return &Broadcasts{q: q} }

// BroadcastProgress counts a broadcast's copies by status.
type BroadcastProgress struct {
	Pending int `json:"pending"` // recipients not yet handed to the outbox
	Queued  int `json:"queued"`
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// broadcastArgs is the job that sends a broadcast; one per broadcast.
type broadcastArgs struct {
	ID int64 `json:"id" river:"unique"`
}

func (broadcastArgs) Kind() string { return "broadcast" }

func (broadcastArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: proactiveQueue, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

// audience counts the students of seg per platform and language.
func audience(ctx context.Context, db queryer, seg bot.Segment) (bot.Audience, error) {
	sel, args := audienceQuery(seg)
	var rows []struct {
		Platform string `db:"platform"`
		Lang     string `db:"lang"`
		N        int    `db:"n"`
	}
	query := `SELECT platform, lang, COUNT(*) AS n FROM (` + sel + `) a GROUP BY platform, lang`
	if err := sqlx.SelectContext(ctx, db, &rows, db.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("count the audience of segment %s: %w", seg, err)
	}
	out := bot.Audience{}
	for _, r := range rows {
		if out[r.Platform] == nil {
			out[r.Platform] = map[string]int{}
		}
		out[r.Platform][r.Lang] = r.N
	}
	return out, nil
}

// queryer is a database or a transaction.
type queryer interface {
	sqlx.QueryerContext
	Rebind(string) string
}

const broadcastColumns = `id, segment, texts, button, status, send_at, created_by, created_at, updated_at`

type broadcastRow struct {
	ID        int64     `db:"id"`
	Segment   string    `db:"segment"`
	Texts     string    `db:"texts"`
	Button    bool      `db:"button"`
	Status    string    `db:"status"`
	SendAt    time.Time `db:"send_at"`
	CreatedBy string    `db:"created_by"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

func (r broadcastRow) broadcast() (bot.Broadcast, error) {
	b := bot.Broadcast{ID: r.ID, Button: r.Button, Status: r.Status, SendAt: r.SendAt.UTC(), CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.Segment), &b.Segment); err != nil {
		return b, fmt.Errorf("decode segment of broadcast %d: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Texts), &b.Texts); err != nil {
		return b, fmt.Errorf("decode texts of broadcast %d: %w", r.ID, err)
	}
	return b, nil
}

// Create stores a broadcast and schedules its job at SendAt, with an
// audit row, in one transaction.
func (b *Broadcasts) Create(ctx context.Context, bc bot.Broadcast) (int64, error) {
	var id int64
	err := b.q.inTx(ctx, "create broadcast", func(tx *sqlx.Tx) error {
		var err error
		id, err = createBroadcast(ctx, tx, b.q, bc, b.q.now())
		return err
	})
	return id, err
}

// Audience counts the students a broadcast to seg would reach now, per
// platform and language.
func (b *Broadcasts) Audience(ctx context.Context, seg bot.Segment) (bot.Audience, error) {
	return audience(ctx, b.q.db, seg)
}

// createBroadcast writes a broadcast, its job and its audit row in tx.
func createBroadcast(ctx context.Context, tx *sqlx.Tx, q *Queue, bc bot.Broadcast, now time.Time) (int64, error) {
	seg, err := json.Marshal(bc.Segment)
	if err != nil {
		return 0, fmt.Errorf("encode segment: %w", err)
	}
	texts, err := json.Marshal(bc.Texts)
	if err != nil {
		return 0, fmt.Errorf("encode texts: %w", err)
	}
	now = now.UTC()
	var id int64
	query := `INSERT INTO broadcasts (segment, texts, button, status, send_at, created_by, created_at, updated_at)
		VALUES (?, ?, ?, 'scheduled', ?, ?, ?, ?) RETURNING id`
	if err := tx.GetContext(ctx, &id, tx.Rebind(query), string(seg), string(texts), bc.Button, bc.SendAt.UTC(), bc.CreatedBy, now, now); err != nil {
		return 0, fmt.Errorf("store broadcast: %w", err)
	}
	var opts *river.InsertOpts
	if bc.SendAt.After(now) {
		// Only a later time is a schedule: River leaves scheduled jobs for
		// its scheduler's next round, seconds away.
		opts = &river.InsertOpts{ScheduledAt: bc.SendAt}
	}
	if _, err := q.river.InsertTx(ctx, tx.Tx, broadcastArgs{ID: id}, opts); err != nil {
		return 0, fmt.Errorf("schedule broadcast %d: %w", id, err)
	}
	entry := AuditEntry{Actor: bc.CreatedBy, Action: "broadcast.create", Subject: fmt.Sprintf("broadcast #%d", id),
		Detail: fmt.Sprintf("segment %s, send at %s", bc.Segment, bc.SendAt.UTC().Format(time.RFC3339))}
	return id, audit(ctx, tx, entry, now)
}

// broadcastDesk implements bot.BroadcastDesk inside a conversation's
// transaction: an admin's broadcast is queued exactly when the step that
// confirms it commits.
type broadcastDesk struct {
	ctx context.Context
	tx  *sqlx.Tx
	q   *Queue
	now time.Time
}

func (d *broadcastDesk) Audience(seg bot.Segment) (bot.Audience, error) {
	return audience(d.ctx, d.tx, seg)
}

func (d *broadcastDesk) Create(b bot.Broadcast) (int64, error) {
	return createBroadcast(d.ctx, d.tx, d.q, b, d.now)
}

// Get returns a broadcast and the progress of its copies.
func (b *Broadcasts) Get(ctx context.Context, id int64) (bot.Broadcast, BroadcastProgress, error) {
	var row broadcastRow
	err := b.q.db.GetContext(ctx, &row, b.q.db.Rebind(`SELECT `+broadcastColumns+` FROM broadcasts WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Broadcast{}, BroadcastProgress{}, fmt.Errorf("broadcast %d: %w", id, bot.ErrNotFound)
	}
	if err != nil {
		return bot.Broadcast{}, BroadcastProgress{}, fmt.Errorf("load broadcast %d: %w", id, err)
	}
	bc, err := row.broadcast()
	if err != nil {
		return bc, BroadcastProgress{}, err
	}
	p, err := b.progress(ctx, id)
	return bc, p, err
}

func (b *Broadcasts) progress(ctx context.Context, id int64) (BroadcastProgress, error) {
	all, err := b.countCopies(ctx, `WHERE broadcast_id = ?`, id)
	return all[id], err
}

// Progress counts the copies of every broadcast by status, in one query
// (the console's list shows them all).
func (b *Broadcasts) Progress(ctx context.Context) (map[int64]BroadcastProgress, error) {
	return b.countCopies(ctx, `WHERE broadcast_id IS NOT NULL`)
}

func (b *Broadcasts) countCopies(ctx context.Context, where string, args ...any) (map[int64]BroadcastProgress, error) {
	var rows []struct {
		Broadcast int64  `db:"broadcast_id"`
		Status    string `db:"status"`
		N         int    `db:"n"`
	}
	query := `SELECT broadcast_id, status, COUNT(*) AS n FROM proactive_sends ` + where + ` GROUP BY broadcast_id, status`
	if err := b.q.db.SelectContext(ctx, &rows, b.q.db.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("count the copies of broadcasts: %w", err)
	}
	out := map[int64]BroadcastProgress{}
	for _, r := range rows {
		p := out[r.Broadcast]
		switch r.Status {
		case "pending":
			p.Pending = r.N
		case "queued":
			p.Queued = r.N
		case "sent":
			p.Sent = r.N
		case "failed":
			p.Failed = r.N
		case "skipped":
			p.Skipped = r.N
		}
		out[r.Broadcast] = p
	}
	return out, nil
}

// List returns the broadcasts, newest first.
func (b *Broadcasts) List(ctx context.Context) ([]bot.Broadcast, error) {
	var rows []broadcastRow
	if err := b.q.db.SelectContext(ctx, &rows, `SELECT `+broadcastColumns+` FROM broadcasts ORDER BY id DESC LIMIT 200`); err != nil {
		return nil, fmt.Errorf("list broadcasts: %w", err)
	}
	out := make([]bot.Broadcast, 0, len(rows))
	for _, r := range rows {
		bc, err := r.broadcast()
		if err != nil {
			return nil, err
		}
		out = append(out, bc)
	}
	return out, nil
}

// ErrBroadcastOver: a broadcast that was sent or cancelled cannot be cancelled.
var ErrBroadcastOver = errors.New("the broadcast is over")

// Cancel stops a broadcast: copies not yet handed to the outbox are
// skipped, and those still waiting in it are taken out. A copy being sent
// at this instant still arrives.
func (b *Broadcasts) Cancel(ctx context.Context, id int64, actor string) error {
	return b.q.inTx(ctx, fmt.Sprintf("cancel broadcast %d", id), func(tx *sqlx.Tx) error {
		now := b.q.now().UTC()
		status, err := lockBroadcast(ctx, tx, b.q.db, id)
		if err != nil {
			return err
		}
		queued := false
		if status == bot.BroadcastSent {
			if queued, err = b.hasQueued(ctx, tx, id); err != nil {
				return err
			}
		}
		if status == bot.BroadcastCancelled || status == bot.BroadcastSent && !queued {
			return fmt.Errorf("cancel broadcast %d: %w (%s)", id, ErrBroadcastOver, status)
		}
		query := `UPDATE outbox SET failed_at = ?, error = 'broadcast cancelled'
			WHERE id IN (SELECT outbox_id FROM proactive_sends WHERE broadcast_id = ? AND status = 'queued') AND sent_at IS NULL AND failed_at IS NULL`
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), now, id); err != nil {
			return fmt.Errorf("take broadcast %d out of the outbox: %w", id, err)
		}
		query = `UPDATE proactive_sends SET status = 'skipped', reason = 'cancelled', updated_at = ?
			WHERE broadcast_id = ? AND (status = 'pending' OR status = 'queued' AND outbox_id IN (SELECT id FROM outbox WHERE failed_at IS NOT NULL))`
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), now, id); err != nil {
			return fmt.Errorf("skip the copies of broadcast %d: %w", id, err)
		}
		if err := setBroadcastStatus(ctx, tx, id, bot.BroadcastCancelled, now); err != nil {
			return err
		}
		return audit(ctx, tx, AuditEntry{Actor: actor, Action: "broadcast.cancel", Subject: fmt.Sprintf("broadcast #%d", id)}, now)
	})
}

func (b *Broadcasts) hasQueued(ctx context.Context, tx *sqlx.Tx, id int64) (bool, error) {
	var n int
	query := `SELECT COUNT(*) FROM proactive_sends WHERE broadcast_id = ? AND status = 'queued'`
	if err := tx.GetContext(ctx, &n, tx.Rebind(query), id); err != nil {
		return false, fmt.Errorf("count the queued copies of broadcast %d: %w", id, err)
	}
	return n > 0, nil
}

// lockBroadcast locks the broadcast's row and returns its status: the
// job's batches and a cancel take turns on it.
func lockBroadcast(ctx context.Context, tx *sqlx.Tx, db *DB, id int64) (string, error) {
	var status string
	err := tx.GetContext(ctx, &status, tx.Rebind(`SELECT status FROM broadcasts WHERE id = ?`+db.dialect.lock), id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("broadcast %d: %w", id, bot.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("lock broadcast %d: %w", id, err)
	}
	return status, nil
}

func setBroadcastStatus(ctx context.Context, tx *sqlx.Tx, id int64, status string, now time.Time) error {
	query := `UPDATE broadcasts SET status = ?, updated_at = ? WHERE id = ?`
	if _, err := tx.ExecContext(ctx, tx.Rebind(query), status, now, id); err != nil {
		return fmt.Errorf("mark broadcast %d %s: %w", id, status, err)
	}
	return nil
}

type broadcastWorker struct {
	river.WorkerDefaults[broadcastArgs]
	q *Queue
}

// Work hands a broadcast's copies to the outbox in batches, each batch one
// transaction that also marks its recipients: a crash repeats no copy,
// and the rescued job goes on with the recipients left. The chat jobs
// deliver them within the platforms' limits.
func (w *broadcastWorker) Work(ctx context.Context, job *river.Job[broadcastArgs]) error {
	q := w.q
	if q.composer == nil {
		return river.JobSnooze(time.Minute)
	}
	if end, quiet := q.quiet.End(q.now()); quiet {
		return river.JobSnooze(max(end.Sub(q.now()), time.Second))
	}
	id := job.Args.ID
	started, err := q.startBroadcast(ctx, id)
	if err != nil || !started {
		return err
	}
	for {
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < 5*time.Second {
			return river.JobSnooze(time.Second)
		}
		if end, quiet := q.quiet.End(q.now()); quiet {
			// The quiet hours began mid-broadcast: the rest waits for them.
			return river.JobSnooze(max(end.Sub(q.now()), time.Second))
		}
		n, err := q.handOff(ctx, id, broadcastBatch)
		if err != nil {
			return err
		}
		if n == 0 {
			return q.finishBroadcast(ctx, id)
		}
	}
}

// broadcastBatch is how many copies one transaction hands to the outbox.
const broadcastBatch = 100

// startBroadcast turns a scheduled broadcast into a sending one, fixing
// its recipients; it reports false when there is nothing to send.
func (q *Queue) startBroadcast(ctx context.Context, id int64) (bool, error) {
	var run bool
	err := q.inTx(ctx, fmt.Sprintf("start broadcast %d", id), func(tx *sqlx.Tx) error {
		var row broadcastRow
		err := tx.GetContext(ctx, &row, tx.Rebind(`SELECT `+broadcastColumns+` FROM broadcasts WHERE id = ?`+q.db.dialect.lock), id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // deleted: nothing to do
		}
		if err != nil {
			return fmt.Errorf("load broadcast %d: %w", id, err)
		}
		switch row.Status {
		case bot.BroadcastSending:
			run = true
			return nil
		case bot.BroadcastScheduled:
		default:
			return nil
		}
		bc, err := row.broadcast()
		if err != nil {
			return err
		}
		now := q.now().UTC()
		sel, args := audienceQuery(bc.Segment)
		query := `INSERT INTO proactive_sends (student_id, kind, broadcast_id, platform, chat_id, lang, status, created_at, updated_at)
			SELECT a.student_id, 'broadcast', ?, a.platform, a.chat_id, a.lang, 'pending', ?, ? FROM (` + sel + `) a
			WHERE true ORDER BY a.student_id
			ON CONFLICT DO NOTHING`
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), append([]any{id, now, now}, args...)...); err != nil {
			return fmt.Errorf("fix the recipients of broadcast %d: %w", id, err)
		}
		run = true
		q.log.InfoContext(ctx, "broadcast started", slog.Int64("broadcast", id), slog.String("segment", bc.Segment.String()))
		return setBroadcastStatus(ctx, tx, id, bot.BroadcastSending, now)
	})
	return run, err
}

// handOff writes up to n pending copies to the outbox in one transaction;
// it returns how many recipients it settled (handed on or skipped). A
// batch costs two statements per recipient and three in all, so a large
// broadcast reaches the outbox faster than the platforms take it.
func (q *Queue) handOff(ctx context.Context, id int64, n int) (int, error) {
	var done int
	err := q.inTx(ctx, fmt.Sprintf("hand off broadcast %d", id), func(tx *sqlx.Tx) error {
		bc, ok, err := q.sendingBroadcast(ctx, tx, id)
		if err != nil || !ok {
			return err // cancelled meanwhile: done stays 0
		}
		batch, err := q.nextCopies(ctx, tx, id, n)
		if err != nil {
			return err
		}
		var lines []transcriptLine
		var chats []bot.Chat
		for _, r := range batch {
			c := &bot.Conversation{StudentID: r.Student, Lang: r.Lang, Stopped: r.Stopped.Time}
			p := q.composer.BroadcastCopy(c, r.recipient(), bc)
			if p.Message == nil {
				if err := skipSend(ctx, tx, r.ID, p.Skip, q.now()); err != nil {
					return err
				}
				continue
			}
			if err := q.queueCopy(ctx, tx, r, p.Message); err != nil {
				return err
			}
			lines = append(lines, transcriptLine{student: r.Student, body: p.Message.Text, intent: p.Message.Intent})
			chats = append(chats, r.recipient().Chat)
		}
		if err := appendLines(ctx, tx, lines, q.now()); err != nil {
			return err
		}
		done = len(batch)
		return q.enqueueMany(ctx, tx, chats)
	})
	return done, err
}

// sendingBroadcast locks the broadcast's row and loads it while it is
// being sent: the batches and a cancel take turns on that row.
func (q *Queue) sendingBroadcast(ctx context.Context, tx *sqlx.Tx, id int64) (bot.Broadcast, bool, error) {
	var row broadcastRow
	err := tx.GetContext(ctx, &row, tx.Rebind(`SELECT `+broadcastColumns+` FROM broadcasts WHERE id = ?`+q.db.dialect.lock), id)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Broadcast{}, false, nil
	}
	if err != nil {
		return bot.Broadcast{}, false, fmt.Errorf("lock broadcast %d: %w", id, err)
	}
	if row.Status != bot.BroadcastSending {
		return bot.Broadcast{}, false, nil
	}
	bc, err := row.broadcast()
	return bc, err == nil, err
}

// copyRow is a pending copy with what deciding on it needs.
type copyRow struct {
	ID          int64        `db:"id"`
	Student     int64        `db:"student_id"`
	Lang        string       `db:"lang"`
	Stopped     sql.NullTime `db:"opted_out_at"`
	Platform    string       `db:"platform"`
	ChatID      string       `db:"chat_id"`
	Unreachable sql.NullTime `db:"unreachable_at"`
}

func (r copyRow) recipient() bot.Recipient {
	return bot.Recipient{Chat: bot.Chat{Platform: r.Platform, ID: r.ChatID},
		Reachable: !r.Unreachable.Valid && bot.ReachesProactively(r.Platform)}
}

// nextCopies reads (and on Postgres locks, with the students'
// conversations) the next pending copies of a broadcast, each with where
// it goes now: a student may have opted out or blocked the bot since.
func (q *Queue) nextCopies(ctx context.Context, tx *sqlx.Tx, id int64, n int) ([]copyRow, error) {
	lock := ""
	if q.db.dialect.name == postgresName {
		lock = " FOR UPDATE OF ps, c"
	}
	query := `SELECT ps.id, ps.student_id, c.lang, c.opted_out_at, i.platform, i.chat_id, ch.unreachable_at
		FROM proactive_sends ps
		JOIN conversations c ON c.student_id = ps.student_id
		JOIN identities i ON i.student_id = ps.student_id
		LEFT JOIN chats ch ON ch.platform = i.platform AND ch.chat_id = i.chat_id
		WHERE ps.broadcast_id = ? AND ps.status = 'pending'
		AND ` + isRecipient + `
		ORDER BY ps.id LIMIT ?` + lock
	var rows []copyRow
	if err := tx.SelectContext(ctx, &rows, tx.Rebind(query), id, n); err != nil {
		return nil, fmt.Errorf("next recipients of broadcast %d: %w", id, err)
	}
	return rows, nil
}

// queueCopy writes one copy to its chat's outbox and marks it queued.
func (q *Queue) queueCopy(ctx context.Context, tx *sqlx.Tx, r copyRow, msg *bot.Outbound) error {
	now := q.now().UTC()
	outboxID, err := insertDelivery(ctx, tx, r.recipient().Chat, r.Student, bot.Delivery{Message: msg, Proactive: true}, now)
	if err != nil {
		return err
	}
	query := `UPDATE proactive_sends SET status = 'queued', outbox_id = ?, platform = ?, chat_id = ?, lang = ?, updated_at = ? WHERE id = ?`
	if _, err := tx.ExecContext(ctx, tx.Rebind(query), outboxID, r.Platform, r.ChatID, msg.Lang, now, r.ID); err != nil {
		return fmt.Errorf("record broadcast copy %d queued: %w", r.ID, err)
	}
	return nil
}

func skipSend(ctx context.Context, tx *sqlx.Tx, id int64, reason string, now time.Time) error {
	query := `UPDATE proactive_sends SET status = 'skipped', reason = ?, updated_at = ? WHERE id = ?`
	if _, err := tx.ExecContext(ctx, tx.Rebind(query), reason, now.UTC(), id); err != nil {
		return fmt.Errorf("skip proactive message %d: %w", id, err)
	}
	return nil
}

// finishBroadcast marks a broadcast whose copies are all handed off.
func (q *Queue) finishBroadcast(ctx context.Context, id int64) error {
	return q.inTx(ctx, fmt.Sprintf("finish broadcast %d", id), func(tx *sqlx.Tx) error {
		status, err := lockBroadcast(ctx, tx, q.db, id)
		if err != nil || status != bot.BroadcastSending {
			return err
		}
		// A recipient left with no conversation or chat (unlinked since the
		// start) would wait for ever: skipped, and said so.
		query := `UPDATE proactive_sends SET status = 'skipped', reason = 'no chat', updated_at = ? WHERE broadcast_id = ? AND status = 'pending'`
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), q.now().UTC(), id); err != nil {
			return fmt.Errorf("skip the recipients of broadcast %d left without a chat: %w", id, err)
		}
		q.log.InfoContext(ctx, "broadcast handed to the outbox", slog.Int64("broadcast", id))
		return setBroadcastStatus(ctx, tx, id, bot.BroadcastSent, q.now().UTC())
	})
}
