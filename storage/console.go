package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"activation-bot/bot"
)

// Roles of the admin console: an agent sees and answers tickets, an admin
// everything.
const (
	RoleAgent = "agent"
	RoleAdmin = "admin"
)

// Purposes of one-time tokens.
const (
	TokenPassword   = "password"    // set the password of an existing console user
	TokenFirstAdmin = "first_admin" // create the first admin, while there is none
	TokenHandoff    = "handoff"     // continue a web chat on another device
)

// ErrTokenInvalid: a one-time token is unknown, expired or used.
var ErrTokenInvalid = errors.New("the link is invalid, expired or already used")

// ErrUserExists: a console user of that name exists.
var ErrUserExists = errors.New("a console user of that name exists")

// ConsoleUser is a person of the admin console.
type ConsoleUser struct {
	ID           int64     `db:"id"`
	Name         string    `db:"name"`
	Role         string    `db:"role"`
	PasswordHash string    `db:"password_hash"`
	Created      time.Time `db:"created_at"`
}

// Identity is how the console user is written in the audit log and on
// tickets, e.g. "web:alice".
func (u ConsoleUser) Identity() string { return "web:" + u.Name }

// Admin reports whether the user may do everything.
func (u ConsoleUser) Admin() bool { return u.Role == RoleAdmin }

// Console keeps the admin console's users, sessions and one-time tokens.
type Console struct {
	db  *DB
	now func() time.Time
}

// NewConsole returns the console's store over db.
func NewConsole(db *DB) *Console { return &Console{db: db, now: time.Now} }

// SetClock replaces the wall clock (tests).
func (c *Console) SetClock(now func() time.Time) { c.now = now }

// hashToken is how tokens and session ids are stored: a leaked table
// opens no session.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// AddUser creates a console user without a password; SetPassword (through
// a one-time link) gives them one.
func (c *Console) AddUser(ctx context.Context, name, role string) (ConsoleUser, error) {
	u := ConsoleUser{Name: name, Role: role, Created: c.now().UTC()}
	err := inTx(ctx, c.db, "add console user", func(tx *sqlx.Tx) error {
		var err error
		u.ID, err = insertUser(ctx, tx, u)
		return err
	})
	return u, err
}

func insertUser(ctx context.Context, tx *sqlx.Tx, u ConsoleUser) (int64, error) {
	query := `INSERT INTO console_users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO NOTHING RETURNING id`
	var id int64
	err := tx.GetContext(ctx, &id, tx.Rebind(query), u.Name, u.Role, u.PasswordHash, u.Created)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("add console user %s: %w", u.Name, ErrUserExists)
	}
	if err != nil {
		return 0, fmt.Errorf("add console user %s: %w", u.Name, err)
	}
	return id, nil
}

// User returns the console user of that name, bot.ErrNotFound if none.
func (c *Console) User(ctx context.Context, name string) (ConsoleUser, error) {
	var u ConsoleUser
	err := c.db.GetContext(ctx, &u, c.db.Rebind(`SELECT * FROM console_users WHERE name = ?`), name)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("console user %s: %w", name, bot.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("read console user %s: %w", name, err)
	}
	return u, nil
}

// Users lists the console users by name.
func (c *Console) Users(ctx context.Context) ([]ConsoleUser, error) {
	var us []ConsoleUser
	if err := c.db.SelectContext(ctx, &us, `SELECT * FROM console_users ORDER BY name`); err != nil {
		return nil, fmt.Errorf("list console users: %w", err)
	}
	return us, nil
}

// HasAdmin reports whether an admin exists (with a password or not yet).
func (c *Console) HasAdmin(ctx context.Context) (bool, error) {
	var n int
	if err := c.db.GetContext(ctx, &n, c.db.Rebind(`SELECT COUNT(*) FROM console_users WHERE role = ?`), RoleAdmin); err != nil {
		return false, fmt.Errorf("count console admins: %w", err)
	}
	return n > 0, nil
}

// RemoveUser deletes a console user, their sessions and their unused
// password links (a link must not outlive them for someone re-added under
// the same name).
func (c *Console) RemoveUser(ctx context.Context, name string) error {
	return inTx(ctx, c.db, "remove console user", func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM console_users WHERE name = ?`), name)
		if err != nil {
			return fmt.Errorf("remove console user %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("console user %s: %w", name, bot.ErrNotFound)
		}
		query := `DELETE FROM one_time_tokens WHERE purpose = ? AND subject = ?`
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), TokenPassword, name); err != nil {
			return fmt.Errorf("remove the links of console user %s: %w", name, err)
		}
		return nil
	})
}

// IssueToken stores a one-time token for purpose and subject (a user's
// name, or a web chat's id), valid for ttl.
func (c *Console) IssueToken(ctx context.Context, token, purpose, subject string, ttl time.Duration) error {
	query := `INSERT INTO one_time_tokens (hash, purpose, subject, expires_at) VALUES (?, ?, ?, ?)`
	if _, err := c.db.ExecContext(ctx, c.db.Rebind(query), hashToken(token), purpose, subject, c.now().Add(ttl).UTC()); err != nil {
		return fmt.Errorf("issue %s token: %w", purpose, err)
	}
	return nil
}

// PeekToken returns the subject of a valid token without using it (to show
// the form it opens).
func (c *Console) PeekToken(ctx context.Context, token, purpose string) (string, error) {
	var subject string
	query := `SELECT subject FROM one_time_tokens WHERE hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`
	err := c.db.GetContext(ctx, &subject, c.db.Rebind(query), hashToken(token), purpose, c.now().UTC())
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrTokenInvalid
	}
	if err != nil {
		return "", fmt.Errorf("read %s token: %w", purpose, err)
	}
	return subject, nil
}

// useToken marks a valid token used in tx and returns its subject; of two
// uses at once, one wins.
func (c *Console) useToken(ctx context.Context, tx *sqlx.Tx, token, purpose string) (string, error) {
	var subject string
	query := `UPDATE one_time_tokens SET used_at = ? WHERE hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
		RETURNING subject`
	now := c.now().UTC()
	err := tx.GetContext(ctx, &subject, tx.Rebind(query), now, hashToken(token), purpose, now)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrTokenInvalid
	}
	if err != nil {
		return "", fmt.Errorf("use %s token: %w", purpose, err)
	}
	return subject, nil
}

// UseToken uses a one-time token and returns its subject.
func (c *Console) UseToken(ctx context.Context, token, purpose string) (string, error) {
	var subject string
	err := inTx(ctx, c.db, "use token", func(tx *sqlx.Tx) error {
		var err error
		subject, err = c.useToken(ctx, tx, token, purpose)
		return err
	})
	return subject, err
}

// SetPassword uses a password token: it sets the hash for the token's
// user, or, for a first-admin token, creates the admin named name. It
// returns the user.
func (c *Console) SetPassword(ctx context.Context, token, name, hash string) (ConsoleUser, error) {
	var u ConsoleUser
	err := inTx(ctx, c.db, "set console password", func(tx *sqlx.Tx) error {
		if subject, err := c.useToken(ctx, tx, token, TokenPassword); err == nil {
			query := `UPDATE console_users SET password_hash = ? WHERE name = ? RETURNING *`
			if err := tx.GetContext(ctx, &u, tx.Rebind(query), hash, subject); err != nil {
				return fmt.Errorf("set password of %s: %w", subject, err)
			}
			_, err = tx.ExecContext(ctx, tx.Rebind(`DELETE FROM console_sessions WHERE user_id = ?`), u.ID)
			return err
		} else if !errors.Is(err, ErrTokenInvalid) {
			return err
		}
		if _, err := c.useToken(ctx, tx, token, TokenFirstAdmin); err != nil {
			return err
		}
		// A first-admin link is for a console without admins: once one
		// exists, the links printed at other starts are void.
		var admins int
		if err := tx.GetContext(ctx, &admins, tx.Rebind(`SELECT COUNT(*) FROM console_users WHERE role = ?`), RoleAdmin); err != nil {
			return fmt.Errorf("count console admins: %w", err)
		}
		if admins > 0 {
			return ErrTokenInvalid
		}
		u = ConsoleUser{Name: name, Role: RoleAdmin, PasswordHash: hash, Created: c.now().UTC()}
		var err error
		if u.ID, err = insertUser(ctx, tx, u); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`DELETE FROM one_time_tokens WHERE purpose = ?`), TokenFirstAdmin)
		return err
	})
	return u, err
}

// StartSession stores a session for the user, valid for ttl.
func (c *Console) StartSession(ctx context.Context, id string, userID int64, ttl time.Duration) error {
	now := c.now().UTC()
	query := `INSERT INTO console_sessions (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`
	if _, err := c.db.ExecContext(ctx, c.db.Rebind(query), hashToken(id), userID, now, now.Add(ttl)); err != nil {
		return fmt.Errorf("start console session: %w", err)
	}
	return nil
}

// Session returns the user of a live session, bot.ErrNotFound when the
// session is unknown or expired.
func (c *Console) Session(ctx context.Context, id string) (ConsoleUser, error) {
	var u ConsoleUser
	query := `SELECT u.* FROM console_sessions s JOIN console_users u ON u.id = s.user_id
		WHERE s.hash = ? AND s.expires_at > ?`
	err := c.db.GetContext(ctx, &u, c.db.Rebind(query), hashToken(id), c.now().UTC())
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("console session: %w", bot.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("read console session: %w", err)
	}
	return u, nil
}

// EndSession deletes a session (logout), and expired ones on the way.
func (c *Console) EndSession(ctx context.Context, id string) error {
	query := `DELETE FROM console_sessions WHERE hash = ? OR expires_at <= ?`
	if _, err := c.db.ExecContext(ctx, c.db.Rebind(query), hashToken(id), c.now().UTC()); err != nil {
		return fmt.Errorf("end console session: %w", err)
	}
	return nil
}

// ValidRole reports whether role is a console role.
func ValidRole(role string) bool { return role == RoleAgent || role == RoleAdmin }

// ValidUserName reports whether name can be a console user's name: what
// the audit log and tickets show as web:<name>.
func ValidUserName(name string) bool {
	if name == "" || len(name) > 64 || strings.Trim(name, ".") == "" {
		return false // "." and ".." would be paths in the console's links
	}
	return strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@", r))
	}) < 0
}

// Record appends an entry to the audit log (a login, a user added).
func (c *Console) Record(ctx context.Context, e AuditEntry) error {
	return inTx(ctx, c.db, "audit "+e.Action, func(tx *sqlx.Tx) error { return audit(ctx, tx, e, c.now()) })
}
