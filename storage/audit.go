package storage

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"activation-bot/bot"
)

// AuditEntry says who did what to which subject: that a broadcast was
// sent or a student erased, never what was erased.
type AuditEntry struct {
	Actor   string    `db:"actor" json:"actor"`
	Action  string    `db:"action" json:"action"`
	Subject string    `db:"subject" json:"subject"`
	Detail  string    `db:"detail" json:"detail,omitempty"`
	At      time.Time `db:"created_at" json:"at"`
}

// audit appends e to the audit log inside the transaction of the action
// it records, so the row exists exactly when the action happened.
func audit(ctx context.Context, tx *sqlx.Tx, e AuditEntry, now time.Time) error {
	q := `INSERT INTO audit_log (actor, action, subject, detail, created_at) VALUES (?, ?, ?, ?, ?)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), e.Actor, e.Action, e.Subject, e.Detail, now.UTC()); err != nil {
		return fmt.Errorf("audit %s of %s by %s: %w", e.Action, e.Subject, e.Actor, err)
	}
	return nil
}

// Actions in the audit log.
const (
	ActionErase  = "student.erase"  // an operator erased a student
	ActionForget = "student.forget" // a student erased themselves (/forget)
	ActionLogin  = "console.login"  // a console user logged in
	ActionUser   = "console.user"   // a console user was added or removed
)

func studentSubject(id int64) string { return "student #" + strconv.FormatInt(id, 10) }

func ticketSubject(id int64) string { return "ticket #" + strconv.FormatInt(id, 10) }

// auditTicket logs what agents did to t in this update (bot.Ticket.Actions).
func auditTicket(ctx context.Context, tx *sqlx.Tx, t bot.Ticket, now time.Time) error {
	for _, a := range t.Actions {
		e := AuditEntry{Actor: a.Actor, Action: "ticket." + a.Action, Subject: ticketSubject(t.ID), Detail: a.Detail}
		if err := audit(ctx, tx, e, now); err != nil {
			return err
		}
	}
	return nil
}

// AuditLog lists the audit log, newest first: entries at or after since
// (zero: all), at most limit of them (0: no limit).
func (db *DB) AuditLog(ctx context.Context, since time.Time, limit int) ([]AuditEntry, error) {
	query, args := `SELECT actor, action, subject, detail, created_at FROM audit_log`, []any{}
	if !since.IsZero() {
		query += ` WHERE created_at >= ?`
		args = append(args, since.UTC())
	}
	query += ` ORDER BY created_at DESC, id DESC`
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	var out []AuditEntry
	if err := db.SelectContext(ctx, &out, db.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	for i := range out {
		out[i].At = out[i].At.UTC()
	}
	return out, nil
}
