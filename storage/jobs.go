package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"activation-bot/bot"
)

// ChatArgs is the job that does one chat's queued work (bot.Dispatcher):
// unique per chat while it is live, so a chat's events and replies are
// handled by one worker at a time, in order.
type ChatArgs struct {
	Platform string `json:"platform" river:"unique"`
	ChatID   string `json:"chat_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (ChatArgs) Kind() string { return "chat" }

// liveStates are the states in which a chat job will still run: an insert
// for a chat with such a job is skipped as a duplicate.
var liveStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ChatArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       chatQueue,
		MaxAttempts: 25,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: liveStates},
	}
}

const chatQueue = "chats"

// sweepArgs is the periodic job that gives every chat with pending work a
// chat job: the safety net for a job River discarded after its attempts.
type sweepArgs struct{}

func (sweepArgs) Kind() string { return "sweep_chats" }

// purgeArgs is the periodic job that deletes inbox and outbox rows that
// are done and older than the retention period.
type purgeArgs struct{}

func (purgeArgs) Kind() string { return "purge_queues" }

// Retention of processed inbox rows (the dedupe window for redeliveries)
// and of sent outbox rows.
const queueRetention = 7 * 24 * time.Hour

// jobsConfig tunes River for a chat bot: replies should leave within tens
// of milliseconds, and a job of a crashed instance is rescued within a
// minute.
func jobsConfig(log *slog.Logger, workers *river.Workers, periodic []*river.PeriodicJob) *river.Config {
	return &river.Config{
		Logger: quieter(log),
		Queues: map[string]river.QueueConfig{
			chatQueue:          {MaxWorkers: 50, FetchCooldown: 10 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond},
			river.QueueDefault: {MaxWorkers: 4},
			// Reminders and broadcasts: short transactions, many due at
			// once when the quiet hours end.
			proactiveQueue: {MaxWorkers: 8, FetchPollInterval: 250 * time.Millisecond},
		},
		Workers:      workers,
		PeriodicJobs: periodic,
		RetryPolicy:  chatRetryPolicy{},
		// A chat's work yields before its timeout (bot.Dispatcher) and is
		// picked up again, so a job never runs much past it; one left
		// "running" by a crashed instance is rescued after RescueStuckJobsAfter
		// (River's default waits an hour), which must stay above the timeout:
		// else a second worker could take a job that still runs.
		JobTimeout:           40 * time.Second,
		RescueStuckJobsAfter: 60 * time.Second,
		// Delivery rows and jobs are inspected by the admin tools; a day
		// of finished jobs is plenty.
		CompletedJobRetentionPeriod: 24 * time.Hour,
	}
}

// chatRetryPolicy backs off on the errors a job had: 1 s, 2 s, 4 s, ...
// capped at 5 minutes, with jitter so chats do not retry in step. (River's
// default grows with the fourth power of the attempt: hours too soon for a
// chat.)
type chatRetryPolicy struct{}

func (chatRetryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	failures := max(len(job.Errors), 1)
	wait := min(time.Second<<min(failures-1, 9), 5*time.Minute)
	wait += time.Duration(rand.Int64N(int64(wait/4) + 1))
	return time.Now().Add(wait)
}

// riverDriver returns River's driver for the database: database/sql over lib/pq
// on Postgres, its SQLite driver over the same single connection.
func (db *DB) riverDriver() riverdriver.Driver[*sql.Tx] {
	if db.dialect.name == postgresName {
		return riverdatabasesql.New(db.DB.DB)
	}
	return riversqlite.New(db.DB.DB)
}

// riverMigrationLock is the Postgres advisory lock replicas take turns on
// while applying River's migrations (goose's own lock is another id).
const riverMigrationLock = 5718034117

// migrateJobs applies River's own migrations after ours. On Postgres the
// replicas that start together take turns under a session lock: two
// creating River's types at once collide in the catalogue.
func (db *DB) migrateJobs(ctx context.Context, log *slog.Logger) error {
	if db.dialect.name == postgresName {
		unlock, err := db.sessionLock(ctx, riverMigrationLock)
		if err != nil {
			return fmt.Errorf("job queue migration lock: %w", err)
		}
		defer unlock()
	}
	m, err := rivermigrate.New(db.riverDriver(), &rivermigrate.Config{Logger: quieter(log)})
	if err != nil {
		return fmt.Errorf("prepare job queue migrations: %w", err)
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil && db.dialect.name == sqliteName {
		// Two processes on one SQLite file may race on the same migration;
		// the loser's transaction rolled back and a second look finds it done.
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	}
	if err != nil {
		return fmt.Errorf("apply job queue migrations: %w", err)
	}
	return nil
}

// sessionLock takes a Postgres advisory lock on a connection of its own,
// waiting up to 5 minutes; unlock releases it and the connection.
func (db *DB) sessionLock(ctx context.Context, id int64) (unlock func(), err error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(id), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, err
	}
	conn, err := db.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if err := locker.SessionLock(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	return func() {
		_ = locker.SessionUnlock(context.WithoutCancel(ctx), conn)
		conn.Close()
	}, nil
}

// completeTx marks a chat job completed inside tx, with the River function
// of the database's driver.
func (db *DB) completeTx(ctx context.Context, tx *sql.Tx, job *river.Job[ChatArgs]) error {
	var err error
	if db.dialect.name == postgresName {
		_, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, tx, job)
	} else {
		_, err = river.JobCompleteTx[*riversqlite.Driver](ctx, tx, job)
	}
	return err
}

// chatWorker runs a chat's work until nothing is pending.
type chatWorker struct {
	river.WorkerDefaults[ChatArgs]
	q *Queue
}

func (w *chatWorker) Work(ctx context.Context, job *river.Job[ChatArgs]) error {
	chat := bot.Chat{Platform: job.Args.Platform, ID: job.Args.ChatID}
	for {
		err := w.q.work(ctx, chat)
		var later *bot.RetryAfter
		switch {
		case errors.As(err, &later):
			return river.JobSnooze(max(later.After, 10*time.Millisecond))
		case ctx.Err() != nil:
			// Shutting down or timed out: resume soon, not after a backoff.
			return river.JobSnooze(time.Second)
		case err != nil:
			return fmt.Errorf("work of chat %s: %w", chat, err)
		}
		done, err := w.q.completeIfIdle(ctx, chat, job)
		if err != nil || done {
			return err
		}
	}
}

// completeIfIdle completes the chat's job unless work arrived meanwhile.
// An enqueuer that found this job running skipped inserting its own; the
// chat row, which enqueuers lock too, orders the two, so no event or reply
// is stranded with no job to handle it.
func (q *Queue) completeIfIdle(ctx context.Context, chat bot.Chat, job *river.Job[ChatArgs]) (bool, error) {
	tx, err := q.db.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin completing chat %s: %w", chat, err)
	}
	defer tx.Rollback()
	if err := q.lockChat(ctx, tx, chat); err != nil {
		return false, err
	}
	pending, err := q.pending(ctx, tx, chat)
	if err != nil || pending {
		return false, err
	}
	if err := q.db.completeTx(ctx, tx.Tx, job); err != nil {
		return false, fmt.Errorf("complete job of chat %s: %w", chat, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit completing chat %s: %w", chat, err)
	}
	return true, nil
}

type sweepWorker struct {
	river.WorkerDefaults[sweepArgs]
	q *Queue
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[sweepArgs]) error {
	return w.q.sweep(ctx)
}

// minuteArgs is the periodic job that runs the bot's own minutely work
// (re-announcing unclaimed tickets), once across all instances.
type minuteArgs struct{}

func (minuteArgs) Kind() string { return "every_minute" }

type minuteWorker struct {
	river.WorkerDefaults[minuteArgs]
	q *Queue
}

func (w *minuteWorker) Work(ctx context.Context, _ *river.Job[minuteArgs]) error {
	if w.q.minutely == nil {
		return nil
	}
	return w.q.minutely(ctx)
}

type purgeWorker struct {
	river.WorkerDefaults[purgeArgs]
	q *Queue
}

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[purgeArgs]) error {
	return w.q.purge(ctx, queueRetention)
}

// quieter passes on River's warnings and errors only: its informational
// lines (job counts every few seconds) would drown the bot's own.
func quieter(log *slog.Logger) *slog.Logger {
	if log == nil {
		return nil
	}
	return slog.New(warnings{log.Handler()})
}

type warnings struct{ slog.Handler }

func (w warnings) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w warnings) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnings{w.Handler.WithAttrs(attrs)}
}

func (w warnings) WithGroup(name string) slog.Handler { return warnings{w.Handler.WithGroup(name)} }
