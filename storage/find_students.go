package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// StudentSummary is one student in a list of the console: who, where in
// the flow, and how far each account is.
type StudentSummary struct {
	ID           int64
	Created      time.Time
	Identities   []StudentIdentity
	Node         string
	Lang         string
	Accounts     []AccountState
	LastActivity time.Time // the conversation's last step
}

// FindStudents finds students for an operator, most recently active first,
// at most limit. q matches an identity ("telegram:42", "slack:T1:U1",
// "web:abc"), a bare platform user id ("42"), a student's number, or a
// display name (a case-insensitive substring); an empty q lists the most
// recent students.
func (db *DB) FindStudents(ctx context.Context, q string, limit int) ([]StudentSummary, error) {
	q = strings.TrimSpace(q)
	if limit <= 0 {
		limit = 50
	}
	query := `SELECT c.student_id FROM conversations c`
	var args []any
	if q != "" {
		var match []string
		if platform, user, ok := strings.Cut(q, ":"); ok && platform != "" && user != "" {
			match = append(match, `(platform = ? AND platform_user_id = ?)`)
			args = append(args, strings.ToLower(platform), user)
		}
		match = append(match, `platform_user_id = ?`, db.dialect.lower+`(display_name) LIKE ? ESCAPE '\'`)
		args = append(args, q, "%"+likeEscape(strings.ToLower(q))+"%")
		query += ` WHERE c.student_id IN (SELECT student_id FROM identities WHERE ` + strings.Join(match, " OR ") + `)`
		if n, err := strconv.ParseInt(strings.TrimPrefix(q, "#"), 10, 64); err == nil && n > 0 {
			query += ` OR c.student_id = ?`
			args = append(args, n)
		}
	}
	query += ` ORDER BY c.updated_at DESC, c.student_id DESC LIMIT ?`
	args = append(args, limit)
	var ids []int64
	if err := db.SelectContext(ctx, &ids, db.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("find students: %w", err)
	}
	out := make([]StudentSummary, 0, len(ids))
	for _, id := range ids {
		s, err := db.studentSummary(ctx, id)
		if err != nil {
			return nil, err
		}
		if s.ID != 0 { // erased meanwhile
			out = append(out, s)
		}
	}
	return out, nil
}

// studentSummary reads one student of a list; a zero summary if the
// student is gone.
func (db *DB) studentSummary(ctx context.Context, id int64) (StudentSummary, error) {
	var rows []struct {
		Created time.Time `db:"created_at"`
		Node    string    `db:"node"`
		Lang    string    `db:"lang"`
		Updated time.Time `db:"updated_at"`
	}
	query := `SELECT s.created_at, c.node, c.lang, c.updated_at FROM students s
		JOIN conversations c ON c.student_id = s.id WHERE s.id = ?`
	if err := db.SelectContext(ctx, &rows, db.Rebind(query), id); err != nil {
		return StudentSummary{}, fmt.Errorf("read student %d: %w", id, err)
	}
	if len(rows) == 0 {
		return StudentSummary{}, nil
	}
	s := StudentSummary{ID: id, Created: rows[0].Created.UTC(), Node: rows[0].Node, Lang: rows[0].Lang, LastActivity: rows[0].Updated.UTC()}
	var err error
	s.Identities, s.Accounts, err = identitiesAndAccounts(ctx, db, id)
	return s, err
}

// likeEscape makes s match literally in a LIKE pattern with ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
