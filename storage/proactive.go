package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"activation-bot/bot"
)

// Composer decides what the bot sends on its own, and whether it still
// fits when it is due (bot.Engine); the queue runs it with the student's
// conversation locked.
type Composer interface {
	Remind(c *bot.Conversation, to bot.Recipient, r bot.Reminder) bot.Proactive
	BroadcastCopy(c *bot.Conversation, to bot.Recipient, b bot.Broadcast) bot.Proactive
}

// ComposeWith sets who composes reminders and broadcast copies, and the
// quiet hours that hold broadcasts back; call it before Start. Without
// it, due reminders and broadcasts wait.
func (q *Queue) ComposeWith(c Composer, quiet bot.QuietHours) { q.composer, q.quiet = c, quiet }

// reminderArgs is the durable job of one reminder, scheduled at its due time.
type reminderArgs struct {
	Reminder bot.Reminder `json:"reminder"`
}

func (reminderArgs) Kind() string { return "reminder" }

// InsertOpts makes a reminder unique by its arguments: a wait corrected
// back to an earlier end (A, B, A) schedules its reminder once.
func (reminderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: proactiveQueue, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

const proactiveQueue = "proactive"

// schedule inserts the reminders a conversation step asked for, in its
// transaction: a reminder exists exactly when the state that caused it does.
func (q *Queue) schedule(ctx context.Context, tx *sqlx.Tx, timers []bot.Reminder, now time.Time) error {
	if q == nil || len(timers) == 0 {
		return nil
	}
	for _, r := range timers {
		if r.Kind == bot.ReminderNudge {
			r.Since = now // the instant the store recorded the step
		}
		opts := &river.InsertOpts{ScheduledAt: r.Due}
		if _, err := q.river.InsertTx(ctx, tx.Tx, reminderArgs{Reminder: r}, opts); err != nil {
			return fmt.Errorf("schedule %s reminder of student %d: %w", r.Kind, r.Student, err)
		}
	}
	return nil
}

type reminderWorker struct {
	river.WorkerDefaults[reminderArgs]
	q *Queue
}

func (w *reminderWorker) Work(ctx context.Context, job *river.Job[reminderArgs]) error {
	return w.q.remind(ctx, job)
}

// remind sends a due reminder, or postpones or drops it as the composer
// decides. The message, the transcript and the job's completion share one
// transaction: a reminder is sent once, or (after a crash) not yet.
func (q *Queue) remind(ctx context.Context, job *river.Job[reminderArgs]) error {
	if q.composer == nil {
		return river.JobSnooze(time.Minute)
	}
	r := job.Args.Reminder
	var later time.Time
	err := q.inTx(ctx, fmt.Sprintf("%s reminder of student %d", r.Kind, r.Student), func(tx *sqlx.Tx) error {
		c, to, err := q.recipient(ctx, tx, r.Student)
		if errors.Is(err, errGone) {
			return completeJobTx(ctx, q.db, tx, job) // the student was erased
		}
		if err != nil {
			return err
		}
		p := q.composer.Remind(c, to, r)
		if !p.Later.IsZero() {
			later = p.Later
			return nil
		}
		if p.Message != nil {
			if _, err := q.sendProactive(ctx, tx, c, to, sendKind(r.Kind), 0, p.Message); err != nil {
				return err
			}
		} else {
			q.log.DebugContext(ctx, "reminder dropped", slog.Int64("student", r.Student), slog.String("kind", r.Kind), slog.String("reason", p.Skip))
		}
		return completeJobTx(ctx, q.db, tx, job)
	})
	if err != nil || later.IsZero() {
		return err
	}
	return river.JobSnooze(max(later.Sub(q.now()), time.Second))
}

// sendKind is how proactive_sends (and the funnel) name a reminder.
func sendKind(reminder string) string {
	if reminder == bot.ReminderNudge {
		return "nudge"
	}
	return "reminder"
}

// recipient locks the student's conversation and finds where a message to
// them goes: one identity's chat (recipientOrder: the chosen or the last
// used one that can be reached), and whether it can be reached.
func (q *Queue) recipient(ctx context.Context, tx *sqlx.Tx, student int64) (*bot.Conversation, bot.Recipient, error) {
	c, err := lockConversation(ctx, tx, q.db, student)
	if err != nil {
		return nil, bot.Recipient{}, err
	}
	var row struct {
		Platform    string       `db:"platform"`
		ChatID      string       `db:"chat_id"`
		Unreachable sql.NullTime `db:"unreachable_at"`
	}
	query := `SELECT i.platform, i.chat_id, ch.unreachable_at FROM identities i
		LEFT JOIN chats ch ON ch.platform = i.platform AND ch.chat_id = i.chat_id
		WHERE i.student_id = ? ORDER BY ` + recipientOrder("i") + ` LIMIT 1`
	err = tx.GetContext(ctx, &row, tx.Rebind(query), student)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bot.Recipient{}, errGone
	}
	if err != nil {
		return nil, bot.Recipient{}, fmt.Errorf("find the chat of student %d: %w", student, err)
	}
	to := bot.Recipient{Chat: bot.Chat{Platform: row.Platform, ID: row.ChatID}}
	to.Reachable = !row.Unreachable.Valid && bot.ReachesProactively(row.Platform)
	return c, to, nil
}

// recipientChat is the chat the bot's own messages to the student go to;
// false when the student has no identity left.
func recipientChat(ctx context.Context, tx *sqlx.Tx, student int64) (bot.Chat, bool, error) {
	var row struct {
		Platform string `db:"platform"`
		ChatID   string `db:"chat_id"`
	}
	query := `SELECT i.platform, i.chat_id FROM identities i WHERE i.student_id = ? ORDER BY ` + recipientOrder("i") + ` LIMIT 1`
	err := tx.GetContext(ctx, &row, tx.Rebind(query), student)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Chat{}, false, nil
	}
	if err != nil {
		return bot.Chat{}, false, fmt.Errorf("find the chat of student %d: %w", student, err)
	}
	return bot.Chat{Platform: row.Platform, ID: row.ChatID}, true, nil
}

// sendProactive writes a message the bot sends on its own: to the outbox
// (its chat's job delivers it, in order, within the rate limits), to the
// transcript, and as a proactive_sends row whose status follows the
// delivery. For a broadcast the row exists already (sendID).
func (q *Queue) sendProactive(ctx context.Context, tx *sqlx.Tx, c *bot.Conversation, to bot.Recipient, kind string, sendID int64, msg *bot.Outbound) (int64, error) {
	now := q.now().UTC()
	outboxID, err := insertDelivery(ctx, tx, to.Chat, c.StudentID, bot.Delivery{Message: msg, Proactive: true}, now)
	if err != nil {
		return 0, err
	}
	if sendID == 0 {
		query := `INSERT INTO proactive_sends (student_id, kind, platform, chat_id, lang, status, outbox_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?)`
		_, err = tx.ExecContext(ctx, tx.Rebind(query), c.StudentID, kind, to.Chat.Platform, to.Chat.ID, msg.Lang, outboxID, now, now)
	} else {
		query := `UPDATE proactive_sends SET status = 'queued', outbox_id = ?, platform = ?, chat_id = ?, lang = ?, updated_at = ? WHERE id = ?`
		_, err = tx.ExecContext(ctx, tx.Rebind(query), outboxID, to.Chat.Platform, to.Chat.ID, msg.Lang, now, sendID)
	}
	if err != nil {
		return 0, fmt.Errorf("record %s to student %d: %w", kind, c.StudentID, err)
	}
	query := `UPDATE conversations SET offered = ?, nudges = ? WHERE student_id = ?`
	if _, err := tx.ExecContext(ctx, tx.Rebind(query), strings.Join(c.Offered, ","), c.Nudges, c.StudentID); err != nil {
		return 0, fmt.Errorf("save the buttons offered to student %d: %w", c.StudentID, err)
	}
	query = `INSERT INTO transcript (student_id, direction, body, intent, created_at) VALUES (?, 'out', ?, ?, ?)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(query), c.StudentID, msg.Text, msg.Intent, now); err != nil {
		return 0, fmt.Errorf("append %s to the transcript of student %d: %w", kind, c.StudentID, err)
	}
	return outboxID, q.enqueue(ctx, tx, to.Chat, false)
}

// settleProactive makes proactive_sends follow what became of outbox rows.
func settleProactive(ctx context.Context, tx sqlx.ExtContext, status, reason, where string, args ...any) error {
	query := `UPDATE proactive_sends SET status = ?, reason = ?, updated_at = ? WHERE status = 'queued' AND ` + where
	all := append([]any{status, reason, time.Now().UTC()}, args...)
	if _, err := tx.ExecContext(ctx, tx.Rebind(query), all...); err != nil {
		return fmt.Errorf("record proactive messages %s: %w", status, err)
	}
	return nil
}

// completeJobTx marks a job completed inside tx, with the River function
// of the database's driver.
func completeJobTx[T river.JobArgs](ctx context.Context, db *DB, tx *sqlx.Tx, job *river.Job[T]) error {
	var err error
	var done *river.Job[T]
	if db.dialect.name == postgresName {
		done, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, tx.Tx, job)
	} else {
		done, err = river.JobCompleteTx[*riversqlite.Driver](ctx, tx.Tx, job)
	}
	if err != nil {
		return fmt.Errorf("complete job %d (%s): %w", job.ID, job.Kind, err)
	}
	if done.State != rivertype.JobStateCompleted {
		// River completes only a running job: this one was taken over
		// (rescued) meanwhile, and what this run wrote must not commit.
		return fmt.Errorf("complete job %d (%s): it is %s, no longer this run's", job.ID, job.Kind, done.State)
	}
	return nil
}

// transcriptLine is one message of the bot's for a student's transcript.
type transcriptLine struct {
	student      int64
	body, intent string
}

// appendLines writes the bot's messages to several transcripts in one
// statement.
func appendLines(ctx context.Context, tx *sqlx.Tx, lines []transcriptLine, now time.Time) error {
	if len(lines) == 0 {
		return nil
	}
	rows := make([]string, len(lines))
	args := make([]any, 0, 4*len(lines))
	for i, l := range lines {
		rows[i] = "(?, 'out', ?, ?, ?)"
		args = append(args, l.student, l.body, l.intent, now.UTC())
	}
	q := `INSERT INTO transcript (student_id, direction, body, intent, created_at) VALUES ` + strings.Join(rows, ", ")
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
		return fmt.Errorf("append %d messages to transcripts: %w", len(lines), err)
	}
	return nil
}

// enqueueMany is enqueue for many chats in three statements: their rows
// are locked (in one order, so two batches cannot deadlock) and each gets
// a job unless it has a live one.
func (q *Queue) enqueueMany(ctx context.Context, tx *sqlx.Tx, chats []bot.Chat) error {
	chats = slices.Clone(chats)
	slices.SortFunc(chats, func(a, b bot.Chat) int { return strings.Compare(a.String(), b.String()) })
	chats = slices.Compact(chats)
	if len(chats) == 0 {
		return nil
	}
	rows := make([]string, len(chats))
	args := make([]any, 0, 3*len(chats))
	params := make([]river.InsertManyParams, len(chats))
	now := q.now().UTC()
	for i, c := range chats {
		rows[i] = "(?, ?, ?)"
		args = append(args, c.Platform, c.ID, now)
		params[i] = river.InsertManyParams{Args: ChatArgs{Platform: c.Platform, ChatID: c.ID}}
	}
	query := `INSERT INTO chats (platform, chat_id, updated_at) VALUES ` + strings.Join(rows, ", ") + `
		ON CONFLICT (platform, chat_id) DO UPDATE SET updated_at = excluded.updated_at`
	if _, err := tx.ExecContext(ctx, tx.Rebind(query), args...); err != nil {
		return fmt.Errorf("lock %d chats: %w", len(chats), err)
	}
	if _, err := q.river.InsertManyTx(ctx, tx.Tx, params); err != nil {
		return fmt.Errorf("enqueue %d chats: %w", len(chats), err)
	}
	return nil
}
