package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"activation-bot/bot"
)

// Conversations implements bot.Store.
type Conversations struct {
	db    *DB
	queue *Queue
	now   func() time.Time
}

// NewConversations returns the conversation store over db.
func NewConversations(db *DB) *Conversations {
	return &Conversations{db: db, now: time.Now}
}

var _ bot.Store = (*Conversations)(nil)

// SetClock makes the store stamp what it writes with now (tests, `chat --now`).
func (s *Conversations) SetClock(now func() time.Time) *Conversations {
	s.now = now
	return s
}

// WithQueue makes the notices a conversation writes to other chats (a
// ticket for the helpdesk) start their chat's job at once.
func (s *Conversations) WithQueue(q *Queue) *Conversations {
	s.queue = q
	return s
}

// errGone: the student was erased (/forget) between finding and locking
// their conversation.
var errGone = errors.New("conversation erased meanwhile")

// Converse implements bot.Store: one transaction per inbound event. When
// the student was erased (a concurrent /forget) or merged away (a link
// code typed elsewhere) meanwhile, the event is handled again, as a
// message of whichever student the identity now is; so it is when
// Postgres broke a deadlock by aborting it (two students typing each
// other's link codes at once lock both conversations in opposite orders):
// it then finds the other one's work done. Each retry follows a change
// another transaction committed, so a few are enough.
func (s *Conversations) Converse(ctx context.Context, in bot.Inbound, step func(*bot.Conversation) (bot.Turn, error)) error {
	err := s.converse(ctx, in, step)
	for retry := 0; retry < 3 && (errors.Is(err, errGone) || isDeadlock(err)); retry++ {
		err = s.converse(ctx, in, step)
	}
	return err
}

// isDeadlock tells whether Postgres aborted the transaction to break a
// deadlock or a serialization conflict: running it again is safe.
func isDeadlock(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && (pqErr.Code == "40P01" || pqErr.Code == "40001")
}

func (s *Conversations) converse(ctx context.Context, in bot.Inbound, step func(*bot.Conversation) (bot.Turn, error)) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	now := s.now().UTC()
	switch {
	case in.InboxID != 0:
		if err := markProcessed(ctx, tx, in.InboxID, now); err != nil {
			return err
		}
	case in.EventID != "":
		if err := s.accept(ctx, tx, in, now); err != nil {
			return err
		}
	}
	studentID, created, err := s.findOrCreateStudent(ctx, tx, in, now)
	if err != nil {
		return err
	}
	conv, err := lockConversation(ctx, tx, s.db, studentID)
	if err != nil {
		return err
	}
	conv.New = created
	if err := s.seen(ctx, tx, in, now); err != nil {
		return err
	}
	before := snapshot{accounts: maps.Clone(conv.Accounts), node: conv.Node}
	conv.Desk = &desk{ctx: ctx, tx: tx, db: s.db, conv: conv, in: in, now: now}
	conv.Links = newLinkDesk(ctx, tx, s.db, conv, in, now, &before)
	if s.queue != nil {
		conv.Broadcasts = &broadcastDesk{ctx: ctx, tx: tx, q: s.queue, now: now}
	}
	turn, err := step(conv)
	conv.Desk, conv.Broadcasts, conv.Links = nil, nil, nil
	if err != nil {
		return fmt.Errorf("step conversation of student %d: %w", studentID, err)
	}
	if turn.Erase {
		if err := s.erase(ctx, tx, studentID); err != nil {
			return err
		}
	} else if err := s.save(ctx, tx, conv, before, in, turn, now); err != nil {
		return err
	}
	if !turn.Erase {
		if err := writeNotices(ctx, tx, s.queue, turn.Notices, now); err != nil {
			return err
		}
		if err := s.queue.schedule(ctx, tx, turn.Timers, now); err != nil {
			return err
		}
	}
	if in.InboxID != 0 {
		// An event from the inbox is answered through the outbox, in this
		// transaction: the replies exist exactly when the new state does.
		chat := bot.Chat{Platform: in.Platform, ID: in.ChatID}
		if err := writeOutbox(ctx, tx, chat, studentID, in.Ack, turn.Replies, now); err != nil {
			return err
		}
		if turn.Home != nil {
			home := bot.Delivery{Home: turn.Home, User: in.UserID}
			if err := writeDeliveries(ctx, tx, chat, studentID, []bot.Delivery{home}, now); err != nil {
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit conversation of student %d: %w", studentID, err)
	}
	return nil
}

// seen records that the student used this identity now: the bot's own
// messages go to the identity used last. Opening Slack's App Home is not
// writing.
func (s *Conversations) seen(ctx context.Context, tx *sqlx.Tx, in bot.Inbound, now time.Time) error {
	if in.Media == bot.MediaHome {
		return nil
	}
	q := `UPDATE identities SET last_seen_at = ? WHERE platform = ? AND platform_user_id = ?`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), now, in.Platform, in.UserID); err != nil {
		return fmt.Errorf("record the use of %s: %w", in.Identity(), err)
	}
	return nil
}

// accept records the event id; a second delivery of it is a duplicate.
func (s *Conversations) accept(ctx context.Context, tx *sqlx.Tx, in bot.Inbound, now time.Time) error {
	// Handled at once, in this transaction: processed as it is recorded.
	q := `INSERT INTO inbox (platform, event_id, received_at, processed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`
	res, err := tx.ExecContext(ctx, tx.Rebind(q), in.Platform, in.EventID, now, now)
	if err != nil {
		return fmt.Errorf("record event %s/%s: %w", in.Platform, in.EventID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("record event %s/%s: %w", in.Platform, in.EventID, err)
	} else if n == 0 {
		return bot.ErrDuplicate
	}
	return nil
}

// findOrCreateStudent returns the student behind an identity, creating
// both on first contact. Two first messages racing on Postgres both insert
// a student; the identity's primary key lets one win and the loser drops
// its student and uses the winner's.
func (s *Conversations) findOrCreateStudent(ctx context.Context, tx *sqlx.Tx, in bot.Inbound, now time.Time) (int64, bool, error) {
	id, err := findStudentID(ctx, tx, in.Platform, in.UserID)
	if err == nil {
		return id, false, nil
	}
	if !errors.Is(err, bot.ErrNotFound) {
		return 0, false, err
	}
	if err := tx.GetContext(ctx, &id, tx.Rebind(`INSERT INTO students (created_at) VALUES (?) RETURNING id`), now); err != nil {
		return 0, false, fmt.Errorf("create student for %s: %w", in.Identity(), err)
	}
	q := `INSERT INTO identities (platform, platform_user_id, student_id, chat_id, display_name, created_at, last_seen_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	res, err := tx.ExecContext(ctx, tx.Rebind(q), in.Platform, in.UserID, id, in.ChatID, in.Name, now, now)
	if err != nil {
		return 0, false, fmt.Errorf("create identity %s: %w", in.Identity(), err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM students WHERE id = ?`), id); err != nil {
			return 0, false, fmt.Errorf("drop raced student %d: %w", id, err)
		}
		id, err := findStudentID(ctx, tx, in.Platform, in.UserID)
		return id, false, err
	}
	q = `INSERT INTO conversations (student_id, updated_at) VALUES (?, ?)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), id, now); err != nil {
		return 0, false, fmt.Errorf("create conversation of student %d: %w", id, err)
	}
	return id, true, nil
}

func findStudentID(ctx context.Context, tx *sqlx.Tx, platform, userID string) (int64, error) {
	var id int64
	q := `SELECT student_id FROM identities WHERE platform = ? AND platform_user_id = ?`
	err := tx.GetContext(ctx, &id, tx.Rebind(q), platform, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, bot.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("find student of %s:%s: %w", platform, userID, err)
	}
	return id, nil
}

type progressRow struct {
	Account   string       `db:"account"`
	Status    string       `db:"status"`
	WaitUntil sql.NullTime `db:"wait_until"`
	Updated   time.Time    `db:"updated_at"`
}

// lockConversation reads the conversation and locks its row until the
// transaction ends, so a student's messages (and the bot's own messages
// to them) are stepped one at a time.
func lockConversation(ctx context.Context, tx *sqlx.Tx, db *DB, studentID int64) (*bot.Conversation, error) {
	c := &bot.Conversation{StudentID: studentID, Accounts: map[string]bot.Progress{}}
	var offered, draft string
	var stopped, nodeSince, langChosen sql.NullTime
	q := `SELECT node, shown, lang, lang_chosen_at, offered, report, reply_ticket, opted_out_at, node_since, nudges, updated_at, admin_draft
		FROM conversations WHERE student_id = ?` + db.dialect.lock
	err := tx.QueryRowxContext(ctx, tx.Rebind(q), studentID).Scan(&c.Node, &c.Shown, &c.Lang, &langChosen, &offered, &c.Report, &c.ReplyTo,
		&stopped, &nodeSince, &c.Nudges, &c.Active, &draft)
	c.Stopped, c.NodeSince, c.LangChosen = stopped.Time, nodeSince.Time, langChosen.Time
	if draft != "" {
		// A draft that no longer reads is dropped: the admin starts again.
		if json.Unmarshal([]byte(draft), &c.Draft) != nil {
			c.Draft = nil
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errGone
	}
	if err != nil {
		return nil, fmt.Errorf("lock conversation of student %d: %w", studentID, err)
	}
	if offered != "" {
		c.Offered = strings.Split(offered, ",")
	}
	var rows []progressRow
	q = `SELECT account, status, wait_until, updated_at FROM account_progress WHERE student_id = ?`
	if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), studentID); err != nil {
		return nil, fmt.Errorf("load progress of student %d: %w", studentID, err)
	}
	for _, r := range rows {
		c.Accounts[r.Account] = bot.Progress{Status: bot.Status(r.Status), Until: r.WaitUntil.Time, Since: r.Updated.UTC()}
	}
	c.Tickets, err = openTickets(ctx, tx, studentID)
	return c, err
}

// nullTime is t for a nullable column: NULL when zero, else in UTC.
func nullTime(t time.Time) sql.NullTime {
	return sql.NullTime{Time: t.UTC(), Valid: !t.IsZero()}
}

// snapshot is the part of a conversation a step may change that the store
// must compare afterwards: what changed is saved and recorded as an event.
type snapshot struct {
	accounts map[string]bot.Progress
	node     string
}

func (s *Conversations) save(ctx context.Context, tx *sqlx.Tx, c *bot.Conversation, before snapshot, in bot.Inbound, turn bot.Turn, now time.Time) error {
	var draft []byte
	if c.Draft != nil {
		var err error
		if draft, err = json.Marshal(c.Draft); err != nil {
			return fmt.Errorf("encode the broadcast draft of student %d: %w", c.StudentID, err)
		}
	}
	q := `UPDATE conversations SET node = ?, shown = ?, lang = ?, lang_chosen_at = ?, offered = ?, report = ?, reply_ticket = ?,
		opted_out_at = ?, admin_draft = ?, updated_at = ? WHERE student_id = ?`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), c.Node, c.Shown, c.Lang, nullTime(c.LangChosen), strings.Join(c.Offered, ","), c.Report,
		c.ReplyTo, nullTime(c.Stopped), string(draft), now, c.StudentID); err != nil {
		return fmt.Errorf("save conversation of student %d: %w", c.StudentID, err)
	}
	if c.Node != before.node {
		if err := stepReached(ctx, tx, c.StudentID, c.Node, now); err != nil {
			return err
		}
	}
	for account, p := range c.Accounts {
		old, ok := before.accounts[account]
		if ok && old.Status == p.Status && old.Until.Equal(p.Until) && old.Since.Equal(p.Since) {
			continue
		}
		if err := saveProgress(ctx, tx, c.StudentID, account, p, now); err != nil {
			return err
		}
		if !ok || old.Status != p.Status {
			if err := recordEvent(ctx, tx, c.StudentID, "account", "", account, string(p.Status), now); err != nil {
				return err
			}
		}
	}
	return appendTranscript(ctx, tx, c.StudentID, in, turn, now)
}

// stepReached remembers since when the student is at node (a nudge is for
// a step they stay at) and records the step for the funnel.
func stepReached(ctx context.Context, tx *sqlx.Tx, studentID int64, node string, now time.Time) error {
	q := `UPDATE conversations SET node_since = ? WHERE student_id = ?`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), now, studentID); err != nil {
		return fmt.Errorf("save step time of student %d: %w", studentID, err)
	}
	if node == "" {
		return nil
	}
	return recordEvent(ctx, tx, studentID, "step", node, "", "", now)
}

// recordEvent appends a step reached or an account's new status to the
// events the funnel is computed from.
func recordEvent(ctx context.Context, tx *sqlx.Tx, studentID int64, kind, node, account, status string, now time.Time) error {
	q := `INSERT INTO progress_events (student_id, kind, node, account, status, created_at) VALUES (?, ?, ?, ?, ?, ?)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), studentID, kind, node, account, status, now); err != nil {
		return fmt.Errorf("record %s event of student %d: %w", kind, studentID, err)
	}
	return nil
}

func saveProgress(ctx context.Context, tx *sqlx.Tx, studentID int64, account string, p bot.Progress, now time.Time) error {
	var until sql.NullTime
	if p.Status == bot.Waiting && !p.Until.IsZero() {
		until = sql.NullTime{Time: p.Until.UTC(), Valid: true}
	}
	q := `INSERT INTO account_progress (student_id, account, status, wait_until, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (student_id, account) DO UPDATE
		SET status = excluded.status, wait_until = excluded.wait_until, updated_at = excluded.updated_at`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), studentID, account, string(p.Status), until, now); err != nil {
		return fmt.Errorf("save progress of student %d account %s: %w", studentID, account, err)
	}
	return nil
}

// appendTranscript writes the inbound text (already redacted by the engine)
// and every reply in one statement.
func appendTranscript(ctx context.Context, tx *sqlx.Tx, studentID int64, in bot.Inbound, turn bot.Turn, now time.Time) error {
	replies := turn.Replies
	body := masked(in.Text, turn.InboundSecret)
	switch {
	case in.ButtonID != "":
		body = "[button] " + in.ButtonID
	case in.Media != "":
		body = "[" + in.Media + "]"
	}
	rows := make([]string, 0, len(replies)+1)
	args := make([]any, 0, 5*(len(replies)+1))
	add := func(dir, body, intent string) {
		rows = append(rows, "(?, ?, ?, ?, ?)")
		args = append(args, studentID, dir, body, intent, now)
	}
	add("in", body, "")
	for _, r := range replies {
		add("out", masked(r.Text, r.Secret), r.Intent)
	}
	q := `INSERT INTO transcript (student_id, direction, body, intent, created_at) VALUES ` + strings.Join(rows, ", ")
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
		return fmt.Errorf("append transcript of student %d: %w", studentID, err)
	}
	return nil
}

// masked is text without secret: a link code is a key to the student,
// and the helpdesk reads the transcript.
func masked(text, secret string) string {
	if secret == "" {
		return text
	}
	out := strings.ReplaceAll(text, secret, bot.LinkCodeMask)
	if out == text {
		// Typed in another form ("k7m2-p9qx"): the whole message was the code.
		return bot.LinkCodeMask
	}
	return out
}

// erase deletes the student; identities, conversation, progress and
// transcript go with it (ON DELETE CASCADE). So do the messages their
// conversation wrote to the outbox, in every chat; what this turn writes
// after (the confirmation of the erasure) stays, and so do the inbox's
// event ids, bare after processing, so an old event redelivered is known.
func (s *Conversations) erase(ctx context.Context, tx *sqlx.Tx, studentID int64) error {
	// The student's identity goes with them: the log names only the number.
	forget := AuditEntry{Actor: "student", Action: ActionForget, Subject: studentSubject(studentID)}
	if err := audit(ctx, tx, forget, s.now()); err != nil {
		return err
	}
	return eraseStudent(ctx, tx, studentID)
}

// eraseStudent deletes the student and the messages to them, for /forget
// and for an operator's erasure alike.
func eraseStudent(ctx context.Context, tx *sqlx.Tx, studentID int64) error {
	// The web chat's mailbox is keyed by chat, not student: it goes first,
	// while the identities still say which chats were theirs.
	webChats := `DELETE FROM web_messages WHERE chat_id IN
		(SELECT chat_id FROM identities WHERE student_id = ? AND platform = '` + webPlatform + `')`
	if _, err := tx.ExecContext(ctx, tx.Rebind(webChats), studentID); err != nil {
		return fmt.Errorf("erase the web chat of student %d: %w", studentID, err)
	}
	// So are wrong link codes, counted per identity.
	failures := `DELETE FROM link_failures WHERE EXISTS (SELECT 1 FROM identities i
		WHERE i.student_id = ? AND i.platform = link_failures.platform AND i.platform_user_id = link_failures.platform_user_id)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(failures), studentID); err != nil {
		return fmt.Errorf("erase the wrong link codes of student %d: %w", studentID, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM students WHERE id = ?`), studentID); err != nil {
		return fmt.Errorf("erase student %d: %w", studentID, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM outbox WHERE student_id = ?`), studentID); err != nil {
		return fmt.Errorf("erase the messages to student %d: %w", studentID, err)
	}
	return nil
}
