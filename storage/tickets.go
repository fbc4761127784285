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

	"activation-bot/bot"
)

// Tickets implements bot.TicketStore.
type Tickets struct {
	db    *DB
	queue *Queue
	now   func() time.Time
}

var _ bot.TicketStore = (*Tickets)(nil)

// NewTickets returns the ticket store over db. With a queue, the chats its
// notices go to get a job at once; without one (a CLI with no workers) the
// notices wait in the outbox for the next `serve`'s sweep.
func NewTickets(db *DB, q *Queue) *Tickets {
	return &Tickets{db: db, queue: q, now: time.Now}
}

// SetClock makes the store stamp tickets with now (tests, `chat --now`).
func (s *Tickets) SetClock(now func() time.Time) *Tickets {
	s.now = now
	return s
}

// transcriptInTicket is how many of the last conversation lines a ticket
// keeps as context.
const transcriptInTicket = 12

type ticketRow struct {
	ID          int64        `db:"id"`
	StudentID   int64        `db:"student_id"`
	Platform    string       `db:"platform"`
	UserID      string       `db:"platform_user_id"`
	ChatID      string       `db:"chat_id"`
	Name        string       `db:"name"`
	Handle      string       `db:"handle"`
	Lang        string       `db:"lang"`
	Node        string       `db:"node"`
	Category    string       `db:"category"`
	Description string       `db:"description"`
	Status      string       `db:"status"`
	ClaimedBy   string       `db:"claimed_by"`
	ClaimedName string       `db:"claimed_name"`
	Context     string       `db:"context"`
	Created     time.Time    `db:"created_at"`
	Updated     time.Time    `db:"updated_at"`
	Resolved    sql.NullTime `db:"resolved_at"`
	Announced   time.Time    `db:"announced_at"`
}

const ticketColumns = `id, student_id, platform, platform_user_id, chat_id, name, handle, lang, node, category,
	description, status, claimed_by, claimed_name, context, created_at, updated_at, resolved_at, announced_at`

func (r ticketRow) ticket() bot.Ticket {
	t := bot.Ticket{
		ID: r.ID, StudentID: r.StudentID, Student: r.Platform + ":" + r.UserID,
		Chat: bot.Chat{Platform: r.Platform, ID: r.ChatID}, Name: r.Name, Handle: r.Handle,
		Lang: r.Lang, Node: r.Node, Category: r.Category, Description: r.Description,
		Status: r.Status, ClaimedBy: r.ClaimedBy, ClaimedName: r.ClaimedName,
		Created: r.Created.UTC(), Updated: r.Updated.UTC(), Announced: r.Announced.UTC(),
	}
	if r.Resolved.Valid {
		at := r.Resolved.Time.UTC()
		t.Resolved = &at
	}
	// A context that does not decode is shown empty rather than hiding
	// the ticket: the rest of it is what the helpdesk needs most.
	_ = json.Unmarshal([]byte(r.Context), &t.Context)
	return t
}

// loadTicket reads one ticket and its messages; lock takes its row's lock.
func loadTicket(ctx context.Context, q sqlx.QueryerContext, d *DB, id int64, lock bool) (bot.Ticket, error) {
	var r ticketRow
	query := `SELECT ` + ticketColumns + ` FROM tickets WHERE id = ?`
	if lock {
		query += d.dialect.lock
	}
	err := sqlx.GetContext(ctx, q, &r, d.Rebind(query), id)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Ticket{}, bot.ErrNotFound
	}
	if err != nil {
		return bot.Ticket{}, fmt.Errorf("load ticket %d: %w", id, err)
	}
	t := r.ticket()
	var msgs []struct {
		From   string    `db:"sender"`
		Author string    `db:"author"`
		Text   string    `db:"body"`
		At     time.Time `db:"created_at"`
	}
	query = `SELECT sender, author, body, created_at FROM ticket_messages WHERE ticket_id = ? ORDER BY id`
	if err := sqlx.SelectContext(ctx, q, &msgs, d.Rebind(query), id); err != nil {
		return bot.Ticket{}, fmt.Errorf("load messages of ticket %d: %w", id, err)
	}
	for _, m := range msgs {
		t.Messages = append(t.Messages, bot.TicketMessage{From: m.From, Author: m.Author, Text: m.Text, At: m.At.UTC()})
	}
	return t, nil
}

// Ticket implements bot.TicketStore.
func (s *Tickets) Ticket(ctx context.Context, id int64) (bot.Ticket, error) {
	return loadTicket(ctx, s.db, s.db, id, false)
}

// Tickets implements bot.TicketStore.
func (s *Tickets) Tickets(ctx context.Context, status string) ([]bot.Ticket, error) {
	query, args := `SELECT `+ticketColumns+` FROM tickets`, []any{}
	if status != "" {
		query += ` WHERE status = ?`
		args = append(args, status)
	}
	var rows []ticketRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(query+` ORDER BY id DESC`), args...); err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	out := make([]bot.Ticket, len(rows))
	for i, r := range rows {
		out[i] = r.ticket()
	}
	return out, nil
}

// TicketFilter selects tickets for a list: any of Statuses (none: all),
// of Category when set; Limit bounds the list (0: all).
type TicketFilter struct {
	Statuses []string
	Category string
	Limit    int
}

// List returns the tickets the filter selects, newest first, and how many
// it selects in all, with the filtering in SQL: the console's list must not
// read every ticket ever opened.
func (s *Tickets) List(ctx context.Context, f TicketFilter) ([]bot.Ticket, int, error) {
	var where []string
	var args []any
	if len(f.Statuses) > 0 {
		where = append(where, `status IN (?`+strings.Repeat(`, ?`, len(f.Statuses)-1)+`)`)
		for _, st := range f.Statuses {
			args = append(args, st)
		}
	}
	if f.Category != "" {
		where = append(where, `category = ?`)
		args = append(args, f.Category)
	}
	cond := ""
	if len(where) > 0 {
		cond = ` WHERE ` + strings.Join(where, ` AND `)
	}
	var total int
	if err := s.db.GetContext(ctx, &total, s.db.Rebind(`SELECT COUNT(*) FROM tickets`+cond), args...); err != nil {
		return nil, 0, fmt.Errorf("count tickets: %w", err)
	}
	query := `SELECT ` + ticketColumns + ` FROM tickets` + cond + ` ORDER BY id DESC`
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	var rows []ticketRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(query), args...); err != nil {
		return nil, 0, fmt.Errorf("list tickets: %w", err)
	}
	out := make([]bot.Ticket, len(rows))
	for i, r := range rows {
		out[i] = r.ticket()
	}
	return out, total, nil
}

// Unclaimed implements bot.TicketStore.
func (s *Tickets) Unclaimed(ctx context.Context, before time.Time) ([]int64, error) {
	var ids []int64
	query := `SELECT id FROM tickets WHERE status = ? AND announced_at < ? ORDER BY id LIMIT 1000`
	if err := s.db.SelectContext(ctx, &ids, s.db.Rebind(query), bot.TicketOpen, before.UTC()); err != nil {
		return nil, fmt.Errorf("find unclaimed tickets: %w", err)
	}
	return ids, nil
}

// Notify implements bot.TicketStore.
func (s *Tickets) Notify(ctx context.Context, inboxID int64, notices []bot.Notice) error {
	return s.inTx(ctx, "write notices", func(tx *sqlx.Tx) error {
		now := s.now().UTC()
		if inboxID != 0 {
			if err := markProcessed(ctx, tx, inboxID, now); err != nil {
				return err
			}
		}
		return writeNotices(ctx, tx, s.queue, notices, now)
	})
}

// UpdateTicket implements bot.TicketStore.
func (s *Tickets) UpdateTicket(ctx context.Context, inboxID int64, key bot.TicketKey, fn func(*bot.Ticket) ([]bot.Notice, error)) error {
	return s.inTx(ctx, "update ticket", func(tx *sqlx.Tx) error {
		now := s.now().UTC()
		id, err := s.find(ctx, tx, key)
		if err != nil {
			return err
		}
		t, err := loadTicket(ctx, tx, s.db, id, true)
		if err != nil {
			return err
		}
		// The student is answered where the bot's messages go now: they may
		// have linked another platform since they reported.
		if chat, ok, err := recipientChat(ctx, tx, t.StudentID); err != nil {
			return err
		} else if ok {
			t.Chat = chat
		}
		if inboxID != 0 {
			if err := markProcessed(ctx, tx, inboxID, now); err != nil {
				return err
			}
		}
		before := t
		notices, err := fn(&t)
		if err != nil {
			return fmt.Errorf("update ticket %d: %w", id, err)
		}
		if err := saveTicket(ctx, tx, before, t, now); err != nil {
			return err
		}
		return writeNotices(ctx, tx, s.queue, notices, now)
	})
}

// find resolves a key to a ticket id: its number, or a message of it.
func (s *Tickets) find(ctx context.Context, tx *sqlx.Tx, key bot.TicketKey) (int64, error) {
	if key.ID != 0 {
		return key.ID, nil
	}
	var id int64
	query := `SELECT ticket_id FROM ticket_posts WHERE platform = ? AND chat_id = ? AND ref = ?`
	err := tx.GetContext(ctx, &id, tx.Rebind(query), key.Chat.Platform, key.Chat.ID, key.Ref)
	if errors.Is(err, sql.ErrNoRows) || key.Ref == "" {
		return 0, bot.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("find ticket of message %s in %s: %w", key.Ref, key.Chat, err)
	}
	return id, nil
}

// saveTicket writes what fn changed: the state, and messages it appended.
func saveTicket(ctx context.Context, tx *sqlx.Tx, before, t bot.Ticket, now time.Time) error {
	var resolved sql.NullTime
	if t.Resolved != nil {
		resolved = sql.NullTime{Time: t.Resolved.UTC(), Valid: true}
	}
	query := `UPDATE tickets SET status = ?, claimed_by = ?, claimed_name = ?, resolved_at = ?, announced_at = ?, updated_at = ? WHERE id = ?`
	if _, err := tx.ExecContext(ctx, tx.Rebind(query), t.Status, t.ClaimedBy, t.ClaimedName, resolved, t.Announced.UTC(), now, t.ID); err != nil {
		return fmt.Errorf("save ticket %d: %w", t.ID, err)
	}
	for _, m := range t.Messages[min(len(before.Messages), len(t.Messages)):] {
		if err := addTicketMessage(ctx, tx, t.ID, m, now); err != nil {
			return err
		}
	}
	return auditTicket(ctx, tx, t, now)
}

func addTicketMessage(ctx context.Context, tx *sqlx.Tx, id int64, m bot.TicketMessage, now time.Time) error {
	query := `INSERT INTO ticket_messages (ticket_id, sender, author, body, created_at) VALUES (?, ?, ?, ?, ?)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(query), id, m.From, m.Author, m.Text, now); err != nil {
		return fmt.Errorf("add message to ticket %d: %w", id, err)
	}
	return nil
}

func (s *Tickets) inTx(ctx context.Context, what string, fn func(*sqlx.Tx) error) error {
	return inTx(ctx, s.db, what, fn)
}

// writeNotices appends each notice to its chat's outbox and gives each
// chat a job (without a queue, the chat row is marked for the sweep).
func writeNotices(ctx context.Context, tx *sqlx.Tx, q *Queue, notices []bot.Notice, now time.Time) error {
	var chats []bot.Chat
	for _, n := range notices {
		if err := writeDeliveries(ctx, tx, n.Chat, n.Student, []bot.Delivery{n.Delivery}, now); err != nil {
			return err
		}
		if !containsChat(chats, n.Chat) {
			chats = append(chats, n.Chat)
		}
	}
	for _, c := range chats {
		if q != nil {
			if err := q.enqueue(ctx, tx, c, false); err != nil {
				return err
			}
			continue
		}
		query := `INSERT INTO chats (platform, chat_id, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (platform, chat_id) DO UPDATE SET updated_at = excluded.updated_at`
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), c.Platform, c.ID, now); err != nil {
			return fmt.Errorf("mark chat %s: %w", c, err)
		}
	}
	return nil
}

func containsChat(chats []bot.Chat, c bot.Chat) bool {
	for _, x := range chats {
		if x == c {
			return true
		}
	}
	return false
}

// desk implements bot.TicketDesk inside a conversation's transaction.
type desk struct {
	ctx  context.Context
	tx   *sqlx.Tx
	db   *DB
	conv *bot.Conversation
	in   bot.Inbound
	now  time.Time
}

// Open implements bot.TicketDesk: the ticket is written with the student's
// situation as it is now, and the last (redacted) lines of the transcript.
func (d *desk) Open(dr bot.TicketDraft) (bot.Ticket, error) {
	lines, err := lastLines(d.ctx, d.tx, d.conv.StudentID, transcriptInTicket)
	if err != nil {
		return bot.Ticket{}, err
	}
	tc := bot.TicketContext{Accounts: maps.Clone(d.conv.Accounts), Transcript: lines}
	ctxJSON, err := json.Marshal(tc)
	if err != nil {
		return bot.Ticket{}, fmt.Errorf("encode ticket context: %w", err)
	}
	query := `INSERT INTO tickets (student_id, platform, platform_user_id, chat_id, name, handle, lang, node,
		category, description, status, context, created_at, updated_at, announced_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	var id int64
	err = d.tx.GetContext(d.ctx, &id, d.tx.Rebind(query), d.conv.StudentID, d.in.Platform, d.in.UserID, d.in.ChatID,
		dr.Name, dr.Handle, dr.Lang, dr.Node, dr.Category, dr.Description, bot.TicketOpen, string(ctxJSON), d.now, d.now, d.now)
	if err != nil {
		return bot.Ticket{}, fmt.Errorf("open ticket for student %d: %w", d.conv.StudentID, err)
	}
	return loadTicket(d.ctx, d.tx, d.db, id, false)
}

// AddMessage implements bot.TicketDesk: only to one of the student's own
// tickets, and only while it is open.
func (d *desk) AddMessage(id int64, m bot.TicketMessage) (bot.Ticket, error) {
	t, err := loadTicket(d.ctx, d.tx, d.db, id, true)
	if err != nil {
		return bot.Ticket{}, err
	}
	if t.StudentID != d.conv.StudentID {
		return bot.Ticket{}, bot.ErrNotFound
	}
	if !t.Open() {
		return t, nil
	}
	if err := addTicketMessage(d.ctx, d.tx, id, m, d.now); err != nil {
		return bot.Ticket{}, err
	}
	if _, err := d.tx.ExecContext(d.ctx, d.tx.Rebind(`UPDATE tickets SET updated_at = ? WHERE id = ?`), d.now, id); err != nil {
		return bot.Ticket{}, fmt.Errorf("touch ticket %d: %w", id, err)
	}
	t.Messages = append(t.Messages, m)
	return t, nil
}

// lastLines returns the student's last n transcript lines, oldest first.
func lastLines(ctx context.Context, tx *sqlx.Tx, studentID int64, n int) ([]bot.Line, error) {
	var rows []struct {
		Direction string    `db:"direction"`
		Body      string    `db:"body"`
		At        time.Time `db:"created_at"`
	}
	query := `SELECT direction, body, created_at FROM transcript WHERE student_id = ? ORDER BY id DESC LIMIT ?`
	if err := tx.SelectContext(ctx, &rows, tx.Rebind(query), studentID, n); err != nil {
		return nil, fmt.Errorf("load transcript of student %d: %w", studentID, err)
	}
	lines := make([]bot.Line, len(rows))
	for i, r := range rows {
		lines[len(rows)-1-i] = bot.Line{In: r.Direction == "in", Text: r.Body, At: r.At.UTC()}
	}
	return lines, nil
}

// openTickets loads the student's open tickets for the conversation.
func openTickets(ctx context.Context, tx *sqlx.Tx, studentID int64) ([]bot.Ticket, error) {
	var rows []struct {
		ID       int64  `db:"id"`
		Category string `db:"category"`
		Status   string `db:"status"`
	}
	query := `SELECT id, category, status FROM tickets WHERE student_id = ? AND status IN (?, ?) ORDER BY id`
	if err := tx.SelectContext(ctx, &rows, tx.Rebind(query), studentID, bot.TicketOpen, bot.TicketClaimed); err != nil {
		return nil, fmt.Errorf("load open tickets of student %d: %w", studentID, err)
	}
	out := make([]bot.Ticket, len(rows))
	for i, r := range rows {
		out[i] = bot.Ticket{ID: r.ID, StudentID: studentID, Category: r.Category, Status: r.Status}
	}
	return out, nil
}

// recordPost remembers the platform's id of a message posted for a
// ticket, so edits find the post and replies find the ticket. A ticket
// erased meanwhile (/forget) is not recorded.
func recordPost(ctx context.Context, tx *sqlx.Tx, d bot.Delivery, ref string, now time.Time) error {
	if d.Ticket == nil || strings.TrimSpace(ref) == "" {
		return nil
	}
	query := `INSERT INTO ticket_posts (platform, chat_id, ref, ticket_id, kind, created_at)
		SELECT ?, ?, ?, id, ?, ? FROM tickets WHERE id = ?
		ON CONFLICT (platform, chat_id, ref) DO NOTHING`
	if _, err := tx.ExecContext(ctx, tx.Rebind(query), d.Chat.Platform, d.Chat.ID, ref, d.Ticket.Kind, now, d.Ticket.ID); err != nil {
		return fmt.Errorf("record message %s of ticket %d: %w", ref, d.Ticket.ID, err)
	}
	return nil
}

// postRef is the id of the ticket's own message in a chat, "" if never posted.
func postRef(ctx context.Context, db *DB, chat bot.Chat, ticket int64) (string, error) {
	var ref string
	query := `SELECT ref FROM ticket_posts WHERE ticket_id = ? AND platform = ? AND chat_id = ? AND kind = ?
		ORDER BY created_at DESC LIMIT 1`
	err := db.GetContext(ctx, &ref, db.Rebind(query), ticket, chat.Platform, chat.ID, bot.PostNew)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find the message of ticket %d in %s: %w", ticket, chat, err)
	}
	return ref, nil
}
