package storage

import (
	"strings"

	"activation-bot/bot"
)

// audienceQuery selects the students of a segment, one row each with
// where their copy goes: student_id, platform, chat_id, lang. Opted-out
// students, unreachable chats and the terminal chat's students are never
// in it.
func audienceQuery(seg bot.Segment) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	args = append(args, seg.DefaultLang)
	add(`c.opted_out_at IS NULL AND ch.unreachable_at IS NULL AND i.platform <> ?`, bot.TerminalPlatform)
	// One identity per student: the one the bot's messages go to.
	add(isRecipient)
	if len(seg.Progress) > 0 {
		var alts []string
		for _, p := range seg.Progress {
			cond, a := progressCond(p, seg.Accounts)
			alts = append(alts, cond)
			args = append(args, a...)
		}
		where = append(where, "("+strings.Join(alts, " OR ")+")")
	}
	if len(seg.Platforms) > 0 {
		add(`i.platform IN (`+marks(len(seg.Platforms))+`)`, asArgs(seg.Platforms)...)
	}
	if len(seg.Langs) > 0 {
		add(`(CASE WHEN c.lang = '' THEN ? ELSE c.lang END) IN (`+marks(len(seg.Langs))+`)`, append([]any{seg.DefaultLang}, asArgs(seg.Langs)...)...)
	}
	if !seg.ActiveBefore.IsZero() {
		add(`c.updated_at < ?`, seg.ActiveBefore.UTC())
	}
	if !seg.ActiveAfter.IsZero() {
		add(`c.updated_at >= ?`, seg.ActiveAfter.UTC())
	}
	q := `SELECT s.id AS student_id, i.platform, i.chat_id, CASE WHEN c.lang = '' THEN ? ELSE c.lang END AS lang
		FROM students s
		JOIN conversations c ON c.student_id = s.id
		JOIN identities i ON i.student_id = s.id
		LEFT JOIN chats ch ON ch.platform = i.platform AND ch.chat_id = i.chat_id
		WHERE ` + strings.Join(where, " AND ")
	return q, args
}

// progressCond is the condition for one progress value of a segment.
func progressCond(p string, accounts []string) (string, []any) {
	done := `(SELECT COUNT(*) FROM account_progress ap WHERE ap.student_id = s.id AND ap.status = 'done' AND ap.account IN (` + marks(len(accounts)) + `))`
	switch p {
	case bot.ProgressNotStarted:
		return `NOT EXISTS (SELECT 1 FROM account_progress ap WHERE ap.student_id = s.id AND ap.status <> 'not_started')`, nil
	case bot.ProgressWaiting:
		return `EXISTS (SELECT 1 FROM account_progress ap WHERE ap.student_id = s.id AND ap.status = 'waiting')`, nil
	case bot.ProgressCompleted:
		return done + ` = ?`, append(asArgs(accounts), len(accounts))
	case bot.ProgressProblem:
		return `(EXISTS (SELECT 1 FROM account_progress ap WHERE ap.student_id = s.id AND ap.status = 'problem')
			OR EXISTS (SELECT 1 FROM tickets t WHERE t.student_id = s.id AND t.status IN ('open', 'claimed')))`, nil
	}
	account := strings.TrimSuffix(p, "_done") // ParseSegment admitted only the pack's accounts
	return `(EXISTS (SELECT 1 FROM account_progress ap WHERE ap.student_id = s.id AND ap.account = ? AND ap.status = 'done') AND ` + done + ` < ?)`,
		append(append([]any{account}, asArgs(accounts)...), len(accounts))
}

// marks is n comma-separated ? placeholders, for an IN list.
func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// asArgs turns values into query arguments.
func asArgs[T any](values []T) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}
