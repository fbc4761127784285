package storage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"activation-bot/bot"
)

// Audit actions of linking.
const (
	ActionMerge  = "student.merge"  // two students became one (a link code)
	ActionUnlink = "student.unlink" // an identity was detached from its student
)

// recipientOrder orders a student's identities (alias a) by where the
// bot's own messages go: a chat it can reach, then the one the student
// chose (/link prefer), then the one they wrote from last. Every query
// that picks "the" identity of a student uses it, so a reminder, a
// broadcast's audience and the funnel's platform agree.
func recipientOrder(a string) string {
	return `CASE WHEN ` + a + `.platform = '` + bot.TerminalPlatform + `' OR EXISTS (SELECT 1 FROM chats rc
			WHERE rc.platform = ` + a + `.platform AND rc.chat_id = ` + a + `.chat_id AND rc.unreachable_at IS NOT NULL) THEN 1 ELSE 0 END,
		` + identityOrder(a)
}

// identityOrder orders a student's identities as the student sees them:
// the one they chose first, then the one they wrote from last.
func identityOrder(a string) string {
	return a + `.preferred DESC, COALESCE(` + a + `.last_seen_at, ` + a + `.created_at) DESC, ` + a + `.platform, ` + a + `.platform_user_id`
}

// isRecipient holds for the identity i that the bot's own messages to its
// student go to.
var isRecipient = `i.platform || ':' || i.platform_user_id = (SELECT r.platform || ':' || r.platform_user_id FROM identities r
		WHERE r.student_id = i.student_id ORDER BY ` + recipientOrder("r") + ` LIMIT 1)`

// linkDesk implements bot.LinkDesk inside a conversation's transaction.
type linkDesk struct {
	ctx    context.Context
	tx     *sqlx.Tx
	db     *DB
	conv   *bot.Conversation
	in     bot.Inbound
	now    time.Time
	before *snapshot
	// As loaded, before the step changed anything: what a merge compares.
	loaded bot.Conversation
}

func newLinkDesk(ctx context.Context, tx *sqlx.Tx, db *DB, conv *bot.Conversation, in bot.Inbound, now time.Time, before *snapshot) *linkDesk {
	loaded := *conv
	loaded.Accounts = cloneAccounts(conv.Accounts)
	loaded.Tickets = slices.Clone(conv.Tickets)
	return &linkDesk{ctx: ctx, tx: tx, db: db, conv: conv, in: in, now: now, before: before, loaded: loaded}
}

func cloneAccounts(m map[string]bot.Progress) map[string]bot.Progress {
	out := make(map[string]bot.Progress, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// linkCodeKept is how long a code is kept after its end.
const linkCodeKept = 24 * time.Hour

// Issue implements bot.LinkDesk.
func (d *linkDesk) Issue(ttl time.Duration) (string, time.Time, error) {
	// One live code per identity, and spent codes do not pile up: a code
	// is kept a day past its end, so that typed late it still answers
	// "expired" rather than "wrong".
	q := `DELETE FROM link_codes WHERE (platform = ? AND platform_user_id = ? AND used_at IS NULL) OR expires_at < ?`
	if _, err := d.tx.ExecContext(d.ctx, d.tx.Rebind(q), d.in.Platform, d.in.UserID, d.now.Add(-linkCodeKept)); err != nil {
		return "", time.Time{}, fmt.Errorf("drop old link codes of %s: %w", d.in.Identity(), err)
	}
	expires := d.now.Add(ttl)
	for attempt := 0; ; attempt++ {
		code := bot.NewLinkCode()
		q = `INSERT INTO link_codes (code_hash, platform, platform_user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`
		res, err := d.tx.ExecContext(d.ctx, d.tx.Rebind(q), bot.HashLinkCode(code), d.in.Platform, d.in.UserID, d.now, expires)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("issue a link code to %s: %w", d.in.Identity(), err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return "", time.Time{}, fmt.Errorf("issue a link code to %s: %w", d.in.Identity(), err)
		} else if n == 1 {
			return code, expires, nil
		}
		if attempt == 3 {
			return "", time.Time{}, fmt.Errorf("issue a link code to %s: no free code after %d tries", d.in.Identity(), attempt+1)
		}
	}
}

// codeRow is a link code with the identity that asked for it.
type codeRow struct {
	Platform  string       `db:"platform"`
	UserID    string       `db:"platform_user_id"`
	Expires   time.Time    `db:"expires_at"`
	Used      sql.NullTime `db:"used_at"`
	StudentID int64        `db:"student_id"`
	ChatID    string       `db:"chat_id"`
	Name      string       `db:"display_name"`
}

func (r codeRow) identity() bot.Identity {
	return bot.Identity{Platform: r.Platform, UserID: r.UserID, Name: r.Name, Chat: bot.Chat{Platform: r.Platform, ID: r.ChatID}}
}

// Redeem implements bot.LinkDesk.
func (d *linkDesk) Redeem(code string, merge bool) (bot.LinkResult, error) {
	return d.redeem(bot.HashLinkCode(code), merge)
}

// Merge implements bot.LinkDesk.
func (d *linkDesk) Merge(key string) (bot.LinkResult, error) {
	var hash string
	q := `SELECT code_hash FROM link_codes WHERE substr(code_hash, 1, ?) = ?`
	err := d.tx.GetContext(d.ctx, &hash, d.tx.Rebind(q), len(key), key)
	if errors.Is(err, sql.ErrNoRows) {
		// Replaced by a newer code, or long gone: not a guess to count.
		return bot.LinkResult{Outcome: bot.LinkUsed}, nil
	}
	if err != nil {
		return bot.LinkResult{}, fmt.Errorf("look up the link code %s confirmed: %w", d.in.Identity(), err)
	}
	return d.redeem(hash, true)
}

// redeem links the student with the one whose code hashes to hash.
func (d *linkDesk) redeem(hash string, merge bool) (bot.LinkResult, error) {
	if retry, limited, err := d.limited(); err != nil || limited {
		return bot.LinkResult{Outcome: bot.LinkLimited, RetryAt: retry}, err
	}
	var row codeRow
	q := `SELECT lc.platform, lc.platform_user_id, lc.expires_at, lc.used_at, i.student_id, i.chat_id, i.display_name
		FROM link_codes lc JOIN identities i ON i.platform = lc.platform AND i.platform_user_id = lc.platform_user_id
		WHERE lc.code_hash = ?`
	err := d.tx.GetContext(d.ctx, &row, d.tx.Rebind(q), hash)
	if errors.Is(err, sql.ErrNoRows) {
		return d.failed(bot.LinkWrong, bot.Identity{})
	}
	if err != nil {
		return bot.LinkResult{}, fmt.Errorf("look up a link code for %s: %w", d.in.Identity(), err)
	}
	other := row.identity()
	switch {
	case row.Platform == d.in.Platform && row.UserID == d.in.UserID:
		return bot.LinkResult{Outcome: bot.LinkOwn, Other: other}, nil
	case row.Used.Valid:
		return d.failed(bot.LinkUsed, other)
	case !row.Expires.After(d.now):
		return d.failed(bot.LinkExpired, other)
	case row.StudentID == d.conv.StudentID:
		return bot.LinkResult{Outcome: bot.LinkAlready, Other: other}, nil
	}
	theirs, err := lockConversation(d.ctx, d.tx, d.db, row.StudentID)
	if errors.Is(err, errGone) {
		// Another identity took the code a moment ago and merged that
		// student away: the code is used.
		return d.failed(bot.LinkUsed, other)
	}
	if err != nil {
		return bot.LinkResult{}, err
	}
	theirs.Active, err = conversationActive(d.ctx, d.tx, row.StudentID)
	if err != nil {
		return bot.LinkResult{}, err
	}
	merged := mergedConversation(&d.loaded, theirs)
	lines, err := countTranscript(d.ctx, d.tx, row.StudentID)
	if err != nil {
		return bot.LinkResult{}, err
	}
	res := bot.LinkResult{Outcome: bot.LinkConfirm, Other: other, Merged: merged, Lines: lines, Key: hash[:bot.LinkKeyLength]}
	if !merge && bot.HasProgress(&d.loaded) {
		return res, nil
	}
	// Taking the code is the race between identities typing it at once:
	// exactly one update finds it unused.
	q = `UPDATE link_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?`
	taken, err := d.tx.ExecContext(d.ctx, d.tx.Rebind(q), d.now, hash, d.now)
	if err != nil {
		return bot.LinkResult{}, fmt.Errorf("use a link code for %s: %w", d.in.Identity(), err)
	}
	if n, err := taken.RowsAffected(); err != nil {
		return bot.LinkResult{}, fmt.Errorf("use a link code for %s: %w", d.in.Identity(), err)
	} else if n == 0 {
		return d.failed(bot.LinkUsed, other)
	}
	if err := mergeStudents(d.ctx, d.tx, row.StudentID, d.conv.StudentID, merged, "student", d.now); err != nil {
		return bot.LinkResult{}, err
	}
	// What the merge wrote is the state the step starts from: saving the
	// step records only what it changes after.
	d.before.accounts = cloneAccounts(merged.Accounts)
	d.before.node = merged.Node
	res.Outcome = bot.LinkLinked
	return res, nil
}

// failed counts a wrong code against the identity typing it.
func (d *linkDesk) failed(outcome bot.LinkOutcome, other bot.Identity) (bot.LinkResult, error) {
	q := `INSERT INTO link_failures (platform, platform_user_id, created_at) VALUES (?, ?, ?)`
	if _, err := d.tx.ExecContext(d.ctx, d.tx.Rebind(q), d.in.Platform, d.in.UserID, d.now); err != nil {
		return bot.LinkResult{}, fmt.Errorf("count a wrong link code of %s: %w", d.in.Identity(), err)
	}
	// Wrong codes out of the window count no more, whoever typed them:
	// pruned here, on the clock the codes were counted with.
	q = `DELETE FROM link_failures WHERE created_at <= ?`
	if _, err := d.tx.ExecContext(d.ctx, d.tx.Rebind(q), d.now.Add(-bot.LinkFailureWindow)); err != nil {
		return bot.LinkResult{}, fmt.Errorf("forget old wrong link codes: %w", err)
	}
	return bot.LinkResult{Outcome: outcome, Other: other}, nil
}

// limited tells whether the identity typed too many wrong codes lately,
// and from when it may try again.
func (d *linkDesk) limited() (time.Time, bool, error) {
	// At most LinkMaxFailures rows are in the window: no failure is
	// counted while the limit holds.
	var times []time.Time
	q := `SELECT created_at FROM link_failures WHERE platform = ? AND platform_user_id = ? AND created_at > ? ORDER BY created_at`
	if err := d.tx.SelectContext(d.ctx, &times, d.tx.Rebind(q), d.in.Platform, d.in.UserID, d.now.Add(-bot.LinkFailureWindow)); err != nil {
		return time.Time{}, false, fmt.Errorf("count wrong link codes of %s: %w", d.in.Identity(), err)
	}
	if len(times) < bot.LinkMaxFailures {
		return time.Time{}, false, nil
	}
	// Codes are taken again once fewer than the limit are in the window.
	return times[len(times)-bot.LinkMaxFailures].Add(bot.LinkFailureWindow), true, nil
}

// Identities implements bot.LinkDesk.
func (d *linkDesk) Identities() ([]bot.Identity, error) {
	return studentIdentities(d.ctx, d.tx, d.conv.StudentID)
}

type identityRow struct {
	Platform  string       `db:"platform"`
	UserID    string       `db:"platform_user_id"`
	ChatID    string       `db:"chat_id"`
	Name      string       `db:"display_name"`
	LastSeen  sql.NullTime `db:"last_seen_at"`
	Created   time.Time    `db:"created_at"`
	Preferred bool         `db:"preferred"`
}

func studentIdentities(ctx context.Context, q queryer, student int64) ([]bot.Identity, error) {
	var rows []identityRow
	query := `SELECT platform, platform_user_id, chat_id, display_name, last_seen_at, created_at, preferred
		FROM identities i WHERE student_id = ? ORDER BY ` + identityOrder("i")
	if err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(query), student); err != nil {
		return nil, fmt.Errorf("read identities of student %d: %w", student, err)
	}
	out := make([]bot.Identity, len(rows))
	for i, r := range rows {
		seen := r.Created
		if r.LastSeen.Valid {
			seen = r.LastSeen.Time
		}
		out[i] = bot.Identity{Platform: r.Platform, UserID: r.UserID, Name: r.Name, Chat: bot.Chat{Platform: r.Platform, ID: r.ChatID},
			LastSeen: seen.UTC(), Preferred: r.Preferred}
	}
	return out, nil
}

// Detach implements bot.LinkDesk.
func (d *linkDesk) Detach(identity string) (bool, error) {
	err := detachIdentity(d.ctx, d.tx, d.conv.StudentID, identity, "student", d.now)
	if errors.Is(err, ErrLastIdentity) || errors.Is(err, bot.ErrNotFound) {
		return false, nil // the list the student chose from is out of date
	}
	return err == nil, err
}

// Prefer implements bot.LinkDesk.
func (d *linkDesk) Prefer() error {
	q := `UPDATE identities SET preferred = (platform = ? AND platform_user_id = ?) WHERE student_id = ?`
	if _, err := d.tx.ExecContext(d.ctx, d.tx.Rebind(q), d.in.Platform, d.in.UserID, d.conv.StudentID); err != nil {
		return fmt.Errorf("prefer %s for student %d: %w", d.in.Identity(), d.conv.StudentID, err)
	}
	return nil
}

// detachIdentity gives identity a new student of its own, empty: the
// progress, tickets and history stay with the student it leaves; a web
// page starts over with no lines. ErrLastIdentity for a student's only
// identity, bot.ErrNotFound for one that is not (or no longer) theirs.
func detachIdentity(ctx context.Context, tx *sqlx.Tx, student int64, identity, actor string, now time.Time) error {
	platform, userID, _ := strings.Cut(identity, ":")
	var row struct {
		ChatID string `db:"chat_id"`
		Others int    `db:"others"`
	}
	q := `SELECT i.chat_id, (SELECT COUNT(*) FROM identities o WHERE o.student_id = i.student_id) - 1 AS others
		FROM identities i WHERE i.student_id = ? AND i.platform = ? AND i.platform_user_id = ?`
	err := tx.GetContext(ctx, &row, tx.Rebind(q), student, platform, userID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("detach %s from student %d: not theirs: %w", identity, student, bot.ErrNotFound)
	case err != nil:
		return fmt.Errorf("detach %s from student %d: %w", identity, student, err)
	case row.Others == 0:
		return fmt.Errorf("detach %s from student %d: %w", identity, student, ErrLastIdentity)
	}
	var fresh int64
	if err := tx.GetContext(ctx, &fresh, tx.Rebind(`INSERT INTO students (created_at) VALUES (?) RETURNING id`), now); err != nil {
		return fmt.Errorf("create a student for %s: %w", identity, err)
	}
	q = `UPDATE identities SET student_id = ?, preferred = FALSE WHERE student_id = ? AND platform = ? AND platform_user_id = ?`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), fresh, student, platform, userID); err != nil {
		return fmt.Errorf("detach %s from student %d: %w", identity, student, err)
	}
	q = `INSERT INTO conversations (student_id, updated_at) VALUES (?, ?)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), fresh, now); err != nil {
		return fmt.Errorf("create conversation of student %d: %w", fresh, err)
	}
	if platform == webPlatform {
		// A lost or shared browser must not keep showing the conversation.
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM web_messages WHERE chat_id = ?`), row.ChatID); err != nil {
			return fmt.Errorf("empty the web page of %s: %w", identity, err)
		}
	}
	// The log names the numbers only, as for an erasure.
	entry := AuditEntry{Actor: actor, Action: ActionUnlink, Subject: studentSubject(student),
		Detail: fmt.Sprintf("an identity (%s) now is %s", platform, studentSubject(fresh))}
	return audit(ctx, tx, entry, now)
}

// conversationActive is when the student last wrote (or was written to).
func conversationActive(ctx context.Context, tx *sqlx.Tx, student int64) (time.Time, error) {
	var at time.Time
	q := `SELECT updated_at FROM conversations WHERE student_id = ?`
	if err := tx.GetContext(ctx, &at, tx.Rebind(q), student); err != nil {
		return time.Time{}, fmt.Errorf("read activity of student %d: %w", student, err)
	}
	return at.UTC(), nil
}

func countTranscript(ctx context.Context, tx *sqlx.Tx, student int64) (int, error) {
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM transcript WHERE student_id = ?`), student); err != nil {
		return 0, fmt.Errorf("count transcript of student %d: %w", student, err)
	}
	return n, nil
}

// statusRank orders an account's states for a merge: the furthest wins.
// A problem is kept over nothing, but a wait or a done account is further.
var statusRank = map[bot.Status]int{bot.NotStarted: 0, bot.Problem: 1, bot.Waiting: 2, bot.Done: 3}

// mergedConversation is the state of two students as one: per account the
// furthest state (the later one on a tie), the open tickets of both, the
// language of the one active last and its position (unless only the other
// has progress), an opt-out of either, the nudges of both. Ours (the
// conversation being stepped) keeps its report, reply and draft.
func mergedConversation(ours, theirs *bot.Conversation) *bot.Conversation {
	m := &bot.Conversation{StudentID: ours.StudentID, Accounts: map[string]bot.Progress{}}
	for _, c := range []*bot.Conversation{ours, theirs} {
		for acc, p := range c.Accounts {
			cur, ok := m.Accounts[acc]
			if !ok || statusRank[p.Status] > statusRank[cur.Status] ||
				(statusRank[p.Status] == statusRank[cur.Status] && p.Since.After(cur.Since)) {
				m.Accounts[acc] = p
			}
		}
	}
	m.Tickets = append(slices.Clone(ours.Tickets), theirs.Tickets...)
	slices.SortFunc(m.Tickets, func(a, b bot.Ticket) int { return cmp.Compare(a.ID, b.ID) })
	first, second := ours, theirs
	if theirs.Active.After(ours.Active) {
		first, second = theirs, ours
	}
	// The language the student chose last, else the one of the chat
	// active last.
	m.Lang, m.LangChosen = cmp.Or(first.Lang, second.Lang), first.LangChosen
	if second.LangChosen.After(first.LangChosen) && second.Lang != "" {
		m.Lang, m.LangChosen = second.Lang, second.LangChosen
	} else if first.Lang == "" {
		m.LangChosen = second.LangChosen
	}
	// The step is where the student was getting somewhere: a new chat
	// that only saw the greeting (Telegram's /start) must not send them
	// back to the start.
	at := first
	if first.Node == "" || (!bot.HasProgress(first) && bot.HasProgress(second)) {
		at = second
	}
	m.Node, m.NodeSince = at.Node, at.NodeSince
	m.Stopped = earliest(ours.Stopped, theirs.Stopped)
	m.Nudges = ours.Nudges + theirs.Nudges
	m.Active = first.Active
	return m
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// mergeStudents moves everything of student from into student into, in
// the caller's transaction, and deletes from: identities, tickets,
// transcript, the funnel's events, messages in the outbox, proactive
// sends (one per broadcast), and the merged progress and conversation.
// Both conversations are locked by the caller.
func mergeStudents(ctx context.Context, tx *sqlx.Tx, from, into int64, m *bot.Conversation, actor string, now time.Time) error {
	// A student chose one identity for the bot's messages at most.
	q := `UPDATE identities SET preferred = FALSE WHERE student_id = ? AND EXISTS
		(SELECT 1 FROM identities p WHERE p.student_id = ? AND p.preferred)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), from, into); err != nil {
		return fmt.Errorf("merge student %d into %d: preferred identity: %w", from, into, err)
	}
	for _, table := range []string{"identities", "tickets", "transcript", "progress_events", "outbox"} {
		q := `UPDATE ` + table + ` SET student_id = ? WHERE student_id = ?`
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), into, from); err != nil {
			return fmt.Errorf("merge student %d into %d: move %s: %w", from, into, table, err)
		}
	}
	// A broadcast reaches a student once: where both students have a copy
	// of one, the one of the student that stays is kept.
	q = `UPDATE proactive_sends SET student_id = ? WHERE student_id = ? AND (broadcast_id IS NULL OR NOT EXISTS
		(SELECT 1 FROM proactive_sends k WHERE k.student_id = ? AND k.broadcast_id = proactive_sends.broadcast_id))`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), into, from, into); err != nil {
		return fmt.Errorf("merge student %d into %d: move proactive messages: %w", from, into, err)
	}
	for acc, p := range m.Accounts {
		if err := saveProgress(ctx, tx, into, acc, p, now); err != nil {
			return err
		}
	}
	q = `UPDATE conversations SET lang = ?, lang_chosen_at = ?, node = ?, node_since = ?, opted_out_at = ?, nudges = ? WHERE student_id = ?`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), m.Lang, nullTime(m.LangChosen), m.Node, nullTime(m.NodeSince), nullTime(m.Stopped),
		m.Nudges, into); err != nil {
		return fmt.Errorf("merge student %d into %d: conversation: %w", from, into, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM students WHERE id = ?`), from); err != nil {
		return fmt.Errorf("merge student %d into %d: drop the merged student: %w", from, into, err)
	}
	entry := AuditEntry{Actor: actor, Action: ActionMerge, Subject: studentSubject(into), Detail: studentSubject(from) + " merged into it"}
	return audit(ctx, tx, entry, now)
}
