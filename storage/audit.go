package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
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
