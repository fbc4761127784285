package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"activation-bot/bot"
)

// webPlatform is the web chat's platform (adapters/web.Platform): its
// chats keep their lines here, in web_messages.
const webPlatform = "web"

// WebMessage is one line of a web chat: what the student said (In) or what
// the bot sent (Out, with its buttons).
type WebMessage struct {
	ID      int64
	In      bool
	Message bot.Outbound // for In, only Text
	Created time.Time
}

type webRow struct {
	ID        int64     `db:"id"`
	Direction string    `db:"direction"`
	Body      string    `db:"body"`
	CreatedAt time.Time `db:"created_at"`
}

// WebChats keeps the web chat's mailbox (web_messages).
type WebChats struct {
	db  *DB
	now func() time.Time
}

// NewWebChats returns the web chat's mailbox over db.
func NewWebChats(db *DB) *WebChats { return &WebChats{db: db, now: time.Now} }

// SetClock replaces the wall clock (tests).
func (w *WebChats) SetClock(now func() time.Time) { w.now = now }

// Said records what the student typed (already redacted), once per event:
// a form posted twice shows once. It reports whether the line is new.
func (w *WebChats) Said(ctx context.Context, chatID, eventID, text string) (bool, error) {
	body, err := json.Marshal(bot.Outbound{Text: text})
	if err != nil {
		return false, fmt.Errorf("encode web message: %w", err)
	}
	query := `INSERT INTO web_messages (chat_id, direction, event_id, body, created_at) VALUES (?, 'in', ?, ?, ?)
		ON CONFLICT (chat_id, event_id) DO NOTHING`
	res, err := w.db.ExecContext(ctx, w.db.Rebind(query), chatID, nullable(eventID), string(body), w.now().UTC())
	if err != nil {
		return false, fmt.Errorf("record web message of chat %s: %w", chatID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record web message of chat %s: %w", chatID, err)
	}
	if n == 1 {
		w.notify(ctx, chatID)
	}
	return n == 1, nil
}

// Unsay removes a line recorded by Said whose event could not be accepted,
// so the page does not show a message the bot never got.
func (w *WebChats) Unsay(ctx context.Context, chatID, eventID string) error {
	query := `DELETE FROM web_messages WHERE chat_id = ? AND event_id = ? AND direction = 'in'`
	if _, err := w.db.ExecContext(ctx, w.db.Rebind(query), chatID, eventID); err != nil {
		return fmt.Errorf("remove web message of chat %s: %w", chatID, err)
	}
	return nil
}

// Sent records a message of the bot's for the chat and returns its id;
// outboxID, when not 0, is the outbox row it delivers: recorded twice (a
// retry after a crash), it shows once.
func (w *WebChats) Sent(ctx context.Context, chatID string, outboxID int64, m bot.Outbound) (int64, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return 0, fmt.Errorf("encode web message: %w", err)
	}
	var outbox any
	if outboxID != 0 {
		outbox = outboxID
	}
	query := `INSERT INTO web_messages (chat_id, direction, outbox_id, body, created_at) VALUES (?, 'out', ?, ?, ?)
		ON CONFLICT (outbox_id) DO NOTHING RETURNING id`
	var id int64
	err = w.db.GetContext(ctx, &id, w.db.Rebind(query), chatID, outbox, string(body), w.now().UTC())
	if errors.Is(err, sql.ErrNoRows) {
		query = `SELECT id FROM web_messages WHERE outbox_id = ?`
		err = w.db.GetContext(ctx, &id, w.db.Rebind(query), outboxID)
	}
	if err != nil {
		return 0, fmt.Errorf("record message to web chat %s: %w", chatID, err)
	}
	w.notify(ctx, chatID)
	return id, nil
}

// Messages returns the chat's lines after the given id, oldest first; with
// after 0, the last limit lines.
func (w *WebChats) Messages(ctx context.Context, chatID string, after int64, limit int) ([]WebMessage, error) {
	var rows []webRow
	query := `SELECT id, direction, body, created_at FROM web_messages WHERE chat_id = ? AND id > ? ORDER BY id LIMIT ?`
	if after == 0 {
		query = `SELECT * FROM (SELECT id, direction, body, created_at FROM web_messages
			WHERE chat_id = ? AND id > ? ORDER BY id DESC LIMIT ?) last ORDER BY id`
	}
	if err := w.db.SelectContext(ctx, &rows, w.db.Rebind(query), chatID, after, limit); err != nil {
		return nil, fmt.Errorf("read web chat %s: %w", chatID, err)
	}
	return decodeLines(chatID, rows)
}

// Newer returns the chat's lines after the given id, and those recorded
// since the given time whatever their id, oldest first: on Postgres a line
// may commit after one with a higher id, and a page that moved past it by
// id still gets it.
func (w *WebChats) Newer(ctx context.Context, chatID string, after int64, since time.Time, limit int) ([]WebMessage, error) {
	var rows []webRow
	query := `SELECT id, direction, body, created_at FROM web_messages
		WHERE chat_id = ? AND (id > ? OR created_at > ?) ORDER BY id LIMIT ?`
	if err := w.db.SelectContext(ctx, &rows, w.db.Rebind(query), chatID, after, since.UTC(), limit); err != nil {
		return nil, fmt.Errorf("read web chat %s: %w", chatID, err)
	}
	return decodeLines(chatID, rows)
}

func decodeLines(chatID string, rows []webRow) ([]WebMessage, error) {
	out := make([]WebMessage, 0, len(rows))
	for _, r := range rows {
		m := WebMessage{ID: r.ID, In: r.Direction == "in", Created: r.CreatedAt}
		if err := json.Unmarshal([]byte(r.Body), &m.Message); err != nil {
			return nil, fmt.Errorf("read web chat %s: message %d: %w", chatID, r.ID, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// Answered reports whether the chat's event was handled and every reply to
// the chat recorded: what a page posted without script waits for.
func (w *WebChats) Answered(ctx context.Context, platform, chatID, eventID string) (bool, error) {
	var pending int
	query := `SELECT
		(SELECT COUNT(*) FROM inbox WHERE platform = ? AND event_id = ? AND processed_at IS NULL) +
		(SELECT COUNT(*) FROM outbox WHERE platform = ? AND chat_id = ? AND sent_at IS NULL AND failed_at IS NULL)`
	if err := w.db.GetContext(ctx, &pending, w.db.Rebind(query), platform, eventID, platform, chatID); err != nil {
		return false, fmt.Errorf("check the answer to web chat %s: %w", chatID, err)
	}
	return pending == 0, nil
}

// Progress returns the conversation of a web chat's student as the page's
// checklist needs it: language and accounts. ok is false before the
// student's first message.
func (w *WebChats) Progress(ctx context.Context, platform, userID string) (lang string, accounts map[string]bot.Progress, ok bool, err error) {
	var row struct {
		Student int64  `db:"student_id"`
		Lang    string `db:"lang"`
	}
	query := `SELECT c.student_id, c.lang FROM identities i JOIN conversations c ON c.student_id = i.student_id
		WHERE i.platform = ? AND i.platform_user_id = ?`
	err = w.db.GetContext(ctx, &row, w.db.Rebind(query), platform, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("read progress of %s:%s: %w", platform, userID, err)
	}
	var states []AccountState
	query = `SELECT account, status, wait_until, updated_at FROM account_progress WHERE student_id = ?`
	if err := w.db.SelectContext(ctx, &states, w.db.Rebind(query), row.Student); err != nil {
		return "", nil, false, fmt.Errorf("read progress of %s:%s: %w", platform, userID, err)
	}
	accounts = make(map[string]bot.Progress, len(states))
	for _, s := range states {
		p := bot.Progress{Status: bot.Status(s.Status), Since: s.Updated}
		if s.WaitUntil.Valid {
			p.Until = s.WaitUntil.Time
		}
		accounts[s.Account] = p
	}
	return row.Lang, accounts, true, nil
}

// webChannel is the Postgres notification channel of new web chat lines.
const webChannel = "web_chat"

// notify tells the other instances that chat has a new line, so their open
// pages show it at once. SQLite has one process: its pages are woken in
// process. A lost notification only delays: the pages also poll.
func (w *WebChats) notify(ctx context.Context, chatID string) {
	if w.db.Kind() != postgresName {
		return
	}
	_, _ = w.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, webChannel, chatID)
}

// Listen calls wake with the chat of every line recorded by any instance,
// and with "" after a lost connection (some may have been missed), until
// ctx ends. On SQLite it returns at once.
func (w *WebChats) Listen(ctx context.Context, wake func(chatID string)) error {
	if w.db.Kind() != postgresName {
		return nil
	}
	l := pq.NewListener(w.db.url, time.Second, time.Minute, func(ev pq.ListenerEventType, _ error) {
		if ev == pq.ListenerEventReconnected {
			wake("")
		}
	})
	defer l.Close()
	if err := l.Listen(webChannel); err != nil {
		return fmt.Errorf("listen for web chat lines: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-l.Notify:
			if n == nil { // reconnected: the callback woke everyone
				continue
			}
			wake(n.Extra)
		case <-time.After(time.Minute):
			go func() { _ = l.Ping() }() // notices a dead connection
		}
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
