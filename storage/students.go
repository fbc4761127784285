package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"activation-bot/bot"
)

// StudentRecord is what an operator sees of one student (`students show`):
// everything in it was redacted before it was stored.
type StudentRecord struct {
	ID         int64
	Created    time.Time
	Identities []StudentIdentity
	Node       string
	Lang       string
	OptedOut   *time.Time // when the student asked for no proactive messages
	Accounts   []AccountState
	Tickets    []bot.Ticket // open and claimed ones, without messages
	Transcript []bot.Line   // the last lines, oldest first
}

// StudentIdentity is one platform account of a student.
type StudentIdentity struct {
	Platform string       `db:"platform"`
	UserID   string       `db:"platform_user_id"`
	ChatID   string       `db:"chat_id"`
	Name     string       `db:"display_name"`
	LastSeen sql.NullTime `db:"last_seen_at"`
	// Preferred: the student chose it for the bot's messages (/link prefer).
	Preferred bool `db:"preferred"`
}

// Identity is the identity as written everywhere, e.g. "slack:T1:U1".
func (i StudentIdentity) Identity() string { return i.Platform + ":" + i.UserID }

// AccountState is the progress of one of the student's accounts.
type AccountState struct {
	Account   string       `db:"account"`
	Status    string       `db:"status"`
	WaitUntil sql.NullTime `db:"wait_until"`
	Updated   time.Time    `db:"updated_at"`
}

// ErasureCounts says how much an erasure deletes, for the confirmation.
type ErasureCounts struct {
	Identities int `db:"identities"`
	Transcript int `db:"transcript"`
	Tickets    int `db:"tickets"`
	Outbox     int `db:"outbox"`
}

// StudentByIdentity returns the id of the student behind platform:userID,
// bot.ErrNotFound if none.
func (db *DB) StudentByIdentity(ctx context.Context, platform, userID string) (int64, error) {
	var id int64
	query := `SELECT student_id FROM identities WHERE platform = ? AND platform_user_id = ?`
	err := db.GetContext(ctx, &id, db.Rebind(query), platform, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, bot.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("find student of %s:%s: %w", platform, userID, err)
	}
	return id, nil
}

// transcriptShown is how many transcript lines `students show` prints.
const transcriptShown = 20

// Student reads one student for an operator; bot.ErrNotFound if none.
func (db *DB) Student(ctx context.Context, id int64) (StudentRecord, error) {
	var r StudentRecord
	err := inTx(ctx, db, "read student", func(tx *sqlx.Tx) error {
		var err error
		r, err = readStudent(ctx, tx, id)
		return err
	})
	return r, err
}

func readStudent(ctx context.Context, tx *sqlx.Tx, id int64) (StudentRecord, error) {
	r := StudentRecord{ID: id}
	var opted sql.NullTime
	query := `SELECT s.created_at, c.node, c.lang, c.opted_out_at FROM students s
		JOIN conversations c ON c.student_id = s.id WHERE s.id = ?`
	err := tx.QueryRowxContext(ctx, tx.Rebind(query), id).Scan(&r.Created, &r.Node, &r.Lang, &opted)
	if errors.Is(err, sql.ErrNoRows) {
		return r, bot.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("read student %d: %w", id, err)
	}
	if opted.Valid {
		at := opted.Time.UTC()
		r.OptedOut = &at
	}
	if r.Identities, r.Accounts, err = identitiesAndAccounts(ctx, tx, id); err != nil {
		return r, err
	}
	if r.Tickets, err = openTickets(ctx, tx, id); err != nil {
		return r, err
	}
	r.Transcript, err = lastLines(ctx, tx, id, transcriptShown)
	return r, err
}

// ErasureCounts counts what erasing the student would delete;
// bot.ErrNotFound if there is no such student.
func (db *DB) ErasureCounts(ctx context.Context, id int64) (ErasureCounts, error) {
	var c ErasureCounts
	err := inTx(ctx, db, "count student's data", func(tx *sqlx.Tx) error {
		var err error
		c, err = erasureCounts(ctx, tx, id, "")
		return err
	})
	return c, err
}

// erasureCounts counts the student's data; lock (the dialect's) keeps a
// concurrent /forget from erasing them first.
func erasureCounts(ctx context.Context, tx *sqlx.Tx, id int64, lock string) (ErasureCounts, error) {
	var found int64
	if lock != "" {
		// The conversation's row first, as every step of it locks it: the
		// other order deadlocks with a message being handled.
		err := tx.GetContext(ctx, &found, tx.Rebind(`SELECT student_id FROM conversations WHERE student_id = ?`+lock), id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return ErasureCounts{}, fmt.Errorf("lock the conversation of student %d: %w", id, err)
		}
	}
	err := tx.GetContext(ctx, &found, tx.Rebind(`SELECT id FROM students WHERE id = ?`+lock), id)
	if errors.Is(err, sql.ErrNoRows) {
		return ErasureCounts{}, bot.ErrNotFound
	}
	if err != nil {
		return ErasureCounts{}, fmt.Errorf("find student %d: %w", id, err)
	}
	var c ErasureCounts
	query := `SELECT
		(SELECT COUNT(*) FROM identities WHERE student_id = ?) AS identities,
		(SELECT COUNT(*) FROM transcript WHERE student_id = ?) AS transcript,
		(SELECT COUNT(*) FROM tickets WHERE student_id = ?) AS tickets,
		(SELECT COUNT(*) FROM outbox WHERE student_id = ?) AS outbox`
	if err := tx.GetContext(ctx, &c, tx.Rebind(query), id, id, id, id); err != nil {
		return c, fmt.Errorf("count data of student %d: %w", id, err)
	}
	return c, nil
}

// EraseStudent deletes the student as /forget does (everything cascades,
// and the messages to them in every outbox) and logs the erasure by actor,
// in one transaction. It returns what was deleted; bot.ErrNotFound if
// there is no such student.
func (db *DB) EraseStudent(ctx context.Context, id int64, actor string) (ErasureCounts, error) {
	var c ErasureCounts
	err := inTx(ctx, db, fmt.Sprintf("erase student %d", id), func(tx *sqlx.Tx) error {
		var err error
		if c, err = erasureCounts(ctx, tx, id, db.dialect.lock); err != nil {
			return err
		}
		e := AuditEntry{Actor: actor, Action: ActionErase, Subject: studentSubject(id)}
		if err := audit(ctx, tx, e, time.Now()); err != nil {
			return err
		}
		return eraseStudent(ctx, tx, id)
	})
	return c, err
}

// ErrLastIdentity: a student's only identity cannot be detached from them.
var ErrLastIdentity = errors.New("it is the student's only identity")

// UnlinkIdentity detaches identity ("telegram:42") from its student, for
// an operator: it becomes a new student of its own, with nothing, and
// the progress, tickets and history stay. It returns the student it left
// and the new one; bot.ErrNotFound when no such identity exists.
func (db *DB) UnlinkIdentity(ctx context.Context, identity, actor string) (from, to int64, err error) {
	return db.unlinkIdentity(ctx, 0, identity, actor)
}

// UnlinkIdentityOf is UnlinkIdentity for an identity an operator saw on
// student's page: bot.ErrNotFound when it is no longer theirs (a merge or
// another unlink came first), checked in the same transaction.
func (db *DB) UnlinkIdentityOf(ctx context.Context, student int64, identity, actor string) (to int64, err error) {
	_, to, err = db.unlinkIdentity(ctx, student, identity, actor)
	return to, err
}

// unlinkIdentity detaches identity from its student; of, unless 0, is the
// student it must belong to.
func (db *DB) unlinkIdentity(ctx context.Context, of int64, identity, actor string) (from, to int64, err error) {
	platform, userID, ok := strings.Cut(identity, ":")
	if !ok {
		return 0, 0, fmt.Errorf("unlink %q: an identity is platform:id: %w", identity, bot.ErrNotFound)
	}
	err = inTx(ctx, db, "unlink "+identity, func(tx *sqlx.Tx) error {
		if from, err = findStudentID(ctx, tx, platform, userID); err != nil {
			return err
		}
		if of != 0 && from != of {
			return fmt.Errorf("unlink %s of student %d: it is student %d's: %w", identity, of, from, bot.ErrNotFound)
		}
		// A message of the student's being stepped meanwhile waits, and
		// the other way round.
		if _, err := lockConversation(ctx, tx, db, from); errors.Is(err, errGone) {
			return fmt.Errorf("unlink %s: student %d was merged or erased meanwhile: %w", identity, from, bot.ErrNotFound)
		} else if err != nil {
			return err
		}
		if err := detachIdentity(ctx, tx, from, identity, actor, time.Now().UTC()); err != nil {
			return err
		}
		to, err = findStudentID(ctx, tx, platform, userID)
		return err
	})
	return from, to, err
}

// identitiesAndAccounts reads a student's identities and the progress of
// their accounts.
func identitiesAndAccounts(ctx context.Context, q queryer, id int64) ([]StudentIdentity, []AccountState, error) {
	var ids []StudentIdentity
	var accounts []AccountState
	query := `SELECT platform, platform_user_id, chat_id, display_name, last_seen_at, preferred FROM identities i
		WHERE student_id = ? ORDER BY ` + identityOrder("i")
	if err := sqlx.SelectContext(ctx, q, &ids, q.Rebind(query), id); err != nil {
		return nil, nil, fmt.Errorf("read identities of student %d: %w", id, err)
	}
	query = `SELECT account, status, wait_until, updated_at FROM account_progress WHERE student_id = ? ORDER BY account`
	if err := sqlx.SelectContext(ctx, q, &accounts, q.Rebind(query), id); err != nil {
		return nil, nil, fmt.Errorf("read progress of student %d: %w", id, err)
	}
	return ids, accounts, nil
}
