package storage

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"time"

	"activation-bot/bot"
)

// ProgressWindow is how soon after a proactive message a step or an account
// change counts as the message's effect.
const ProgressWindow = 48 * time.Hour

// StatsFilter selects what the funnel covers.
type StatsFilter struct {
	// Since keeps the students whose first message came at or after it, and
	// only their events, tickets and messages; zero keeps everyone.
	Since time.Time
	// Accounts are the content pack's account ids, in order: an account a
	// student has no row for is not started, so the list cannot come from
	// the rows alone.
	Accounts []string
}

// Count is a number of students (or events) under a key.
type Count struct {
	Key string `db:"key"`
	N   int    `db:"n"`
}

// AccountCounts is how many students are in each status of one account.
type AccountCounts struct {
	Account    string
	NotStarted int
	Waiting    int
	Done       int
	Problem    int
}

// TimeToDone holds, per student who got there, the time from their first
// message to the account's first "done"; Account "" is every account done.
// Durations are sorted, shortest first.
type TimeToDone struct {
	Account   string
	Durations []time.Duration
}

// ProblemCounts is the tickets of one category.
type ProblemCounts struct {
	Category string `db:"category"`
	Open     int    `db:"open"` // open or claimed
	Resolved int    `db:"resolved"`
}

// ProactiveCounts is one kind of proactive message: how many were sent, to
// how many students, and how many of those progressed within
// ProgressWindow of one.
type ProactiveCounts struct {
	Kind       string
	Sent       int
	Recipients int
	Progressed int
}

// Stats is the funnel.
type Stats struct {
	Students  int
	Completed int     // every account done
	Steps     []Count // students per current node; "" is not started
	StepsBy   []StepCount
	Accounts  []AccountCounts
	Platforms []Count
	Languages []Count
	Reached   []Count // students who ever reached each node
	Done      []TimeToDone
	Problems  []ProblemCounts
	Proactive []ProactiveCounts
}

// ProactiveKinds are the kinds of proactive_sends, in the order shown.
var ProactiveKinds = []string{"reminder", "nudge", "broadcast"}

// Stats computes the funnel from the stored rows. The queries run one
// after the other, outside a transaction: SQLite's transactions here take
// the write lock, and a report that a concurrent message shifts by one is
// fine.
func (db *DB) Stats(ctx context.Context, f StatsFilter) (Stats, error) {
	var st Stats
	since := f.Since.UTC()
	steps := []func() error{
		func() (err error) { st.Students, err = db.countStudents(ctx, since); return },
		func() (err error) { st.Completed, err = db.countCompleted(ctx, since, f.Accounts); return },
		func() (err error) { st.Steps, err = db.countPerConversation(ctx, "node", since); return },
		func() (err error) { st.Languages, err = db.countPerConversation(ctx, "lang", since); return },
		func() (err error) { st.Platforms, err = db.countPlatforms(ctx, since); return },
		func() (err error) { st.StepsBy, err = db.countStepsBy(ctx, since); return },
		func() (err error) { st.Accounts, err = db.countAccounts(ctx, since, f.Accounts, st.Students); return },
		func() (err error) { st.Reached, err = db.countReached(ctx, since); return },
		func() (err error) { st.Done, err = db.timesToDone(ctx, since, f.Accounts); return },
		func() (err error) { st.Problems, err = db.countProblems(ctx, since); return },
		func() (err error) { st.Proactive, err = db.countProactive(ctx, since); return },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return Stats{}, err
		}
	}
	return st, nil
}

func (db *DB) countStudents(ctx context.Context, since time.Time) (int, error) {
	var n int
	if err := db.GetContext(ctx, &n, db.Rebind(`SELECT COUNT(*) FROM students WHERE created_at >= ?`), since); err != nil {
		return 0, fmt.Errorf("count students: %w", err)
	}
	return n, nil
}

// countCompleted counts the students with a "done" row for every account.
func (db *DB) countCompleted(ctx context.Context, since time.Time, accounts []string) (int, error) {
	if len(accounts) == 0 {
		return 0, nil
	}
	q := `SELECT COUNT(*) FROM students s WHERE s.created_at >= ? AND
		(SELECT COUNT(*) FROM account_progress ap WHERE ap.student_id = s.id AND ap.status = ? AND ap.account IN (` +
		marks(len(accounts)) + `)) = ?`
	args := []any{since, string(bot.Done)}
	for _, a := range accounts {
		args = append(args, a)
	}
	var n int
	if err := db.GetContext(ctx, &n, db.Rebind(q), append(args, len(accounts))...); err != nil {
		return 0, fmt.Errorf("count completed students: %w", err)
	}
	return n, nil
}

// countPerConversation counts students per value of a conversations
// column; column is one of two constants, never user input.
func (db *DB) countPerConversation(ctx context.Context, column string, since time.Time) ([]Count, error) {
	if column != "node" && column != "lang" {
		return nil, fmt.Errorf("count students per %s: not a conversation column", column)
	}
	q := `SELECT c.` + column + ` AS key, COUNT(*) AS n FROM conversations c JOIN students s ON s.id = c.student_id
		WHERE s.created_at >= ? GROUP BY c.` + column + ` ORDER BY n DESC, key`
	out := []Count{}
	if err := db.SelectContext(ctx, &out, db.Rebind(q), since); err != nil {
		return nil, fmt.Errorf("count students per %s: %w", column, err)
	}
	return out, nil
}

// countPlatforms counts each student once, on the platform of the
// identity the bot's messages go to (isRecipient), so a student with
// linked identities is not counted twice.
func (db *DB) countPlatforms(ctx context.Context, since time.Time) ([]Count, error) {
	q := `SELECT i.platform AS key, COUNT(*) AS n FROM identities i JOIN students s ON s.id = i.student_id
		WHERE s.created_at >= ? AND ` + isRecipient + `
		GROUP BY i.platform ORDER BY n DESC, key`
	out := []Count{}
	if err := db.SelectContext(ctx, &out, db.Rebind(q), since); err != nil {
		return nil, fmt.Errorf("count students per platform: %w", err)
	}
	return out, nil
}

// StepCount is how many students are at a step on a platform in a language.
type StepCount struct {
	Node     string `db:"node"`
	Platform string `db:"platform"`
	Lang     string `db:"lang"`
	N        int    `db:"n"`
}

// countStepsBy counts students per current step, platform and language.
func (db *DB) countStepsBy(ctx context.Context, since time.Time) ([]StepCount, error) {
	q := `SELECT c.node, i.platform, c.lang, COUNT(*) AS n FROM conversations c
		JOIN students s ON s.id = c.student_id
		JOIN identities i ON i.student_id = c.student_id
		WHERE s.created_at >= ? AND ` + isRecipient + `
		GROUP BY c.node, i.platform, c.lang ORDER BY c.node, i.platform, c.lang`
	out := []StepCount{}
	if err := db.SelectContext(ctx, &out, db.Rebind(q), since); err != nil {
		return nil, fmt.Errorf("count students per step, platform and language: %w", err)
	}
	return out, nil
}

// countAccounts counts students per account and status; students without
// a row for an account have not started it.
func (db *DB) countAccounts(ctx context.Context, since time.Time, accounts []string, students int) ([]AccountCounts, error) {
	var rows []struct {
		Account string `db:"account"`
		Status  string `db:"status"`
		N       int    `db:"n"`
	}
	q := `SELECT ap.account, ap.status, COUNT(*) AS n FROM account_progress ap JOIN students s ON s.id = ap.student_id
		WHERE s.created_at >= ? GROUP BY ap.account, ap.status`
	if err := db.SelectContext(ctx, &rows, db.Rebind(q), since); err != nil {
		return nil, fmt.Errorf("count students per account status: %w", err)
	}
	out := make([]AccountCounts, len(accounts))
	for i, a := range accounts {
		out[i] = AccountCounts{Account: a, NotStarted: students}
		for _, r := range rows {
			if r.Account != a {
				continue
			}
			switch bot.Status(r.Status) {
			case bot.Waiting:
				out[i].Waiting += r.N
			case bot.Done:
				out[i].Done += r.N
			case bot.Problem:
				out[i].Problem += r.N
			default:
				continue // not_started: counted as the rest
			}
			out[i].NotStarted -= r.N
		}
	}
	return out, nil
}

// countReached counts, per node, the students who ever reached it.
func (db *DB) countReached(ctx context.Context, since time.Time) ([]Count, error) {
	q := `SELECT pe.node AS key, COUNT(DISTINCT pe.student_id) AS n FROM progress_events pe
		JOIN students s ON s.id = pe.student_id
		WHERE pe.kind = ? AND s.created_at >= ? GROUP BY pe.node ORDER BY key`
	out := []Count{}
	if err := db.SelectContext(ctx, &out, db.Rebind(q), "step", since); err != nil {
		return nil, fmt.Errorf("count students per step reached: %w", err)
	}
	return out, nil
}

// timesToDone reads each student's first "done" event per account. The
// first event is picked by id, not MIN(created_at): SQLite returns an
// aggregate of a DATETIME column as text, not as a time.
func (db *DB) timesToDone(ctx context.Context, since time.Time, accounts []string) ([]TimeToDone, error) {
	var rows []struct {
		Student int64     `db:"student_id"`
		Account string    `db:"account"`
		Started time.Time `db:"started_at"`
		Done    time.Time `db:"done_at"`
	}
	// One grouped pass (events are appended in time order per student, so
	// the lowest id is the first), not a subquery per event: the console
	// shows this on every view.
	q := `SELECT pe.student_id, pe.account, s.created_at AS started_at, pe.created_at AS done_at
		FROM (SELECT MIN(id) AS id FROM progress_events WHERE kind = ? AND status = ? GROUP BY student_id, account) f
		JOIN progress_events pe ON pe.id = f.id
		JOIN students s ON s.id = pe.student_id
		WHERE s.created_at >= ?`
	if err := db.SelectContext(ctx, &rows, db.Rebind(q), "account", string(bot.Done), since); err != nil {
		return nil, fmt.Errorf("read times to account done: %w", err)
	}
	per := map[string][]time.Duration{}
	latest := map[int64]time.Duration{} // per student, the later of its accounts
	doneCount := map[int64]int{}
	for _, r := range rows {
		d := r.Done.Sub(r.Started)
		per[r.Account] = append(per[r.Account], d)
		if slices.Contains(accounts, r.Account) {
			latest[r.Student] = max(latest[r.Student], d)
			doneCount[r.Student]++
		}
	}
	out := make([]TimeToDone, 0, len(accounts)+1)
	for _, a := range accounts {
		out = append(out, TimeToDone{Account: a, Durations: sorted(per[a])})
	}
	var all []time.Duration
	for s, d := range latest {
		if doneCount[s] == len(accounts) {
			all = append(all, d)
		}
	}
	return append(out, TimeToDone{Account: "", Durations: sorted(all)}), nil
}

func sorted(ds []time.Duration) []time.Duration {
	if ds == nil {
		return []time.Duration{}
	}
	slices.Sort(ds)
	return ds
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted
// durations; 0 when there are none.
func Percentile(sortedDs []time.Duration, p float64) time.Duration {
	if len(sortedDs) == 0 {
		return 0
	}
	// p*n before /100: the product of whole numbers is exact, so a rank
	// that is a whole number is not pushed past it by rounding.
	rank := int(math.Ceil(p * float64(len(sortedDs)) / 100))
	return sortedDs[min(max(rank, 1), len(sortedDs))-1]
}

func (db *DB) countProblems(ctx context.Context, since time.Time) ([]ProblemCounts, error) {
	q := `SELECT t.category,
			SUM(CASE WHEN t.status IN (?, ?) THEN 1 ELSE 0 END) AS open,
			SUM(CASE WHEN t.status = ? THEN 1 ELSE 0 END) AS resolved
		FROM tickets t JOIN students s ON s.id = t.student_id
		WHERE s.created_at >= ? GROUP BY t.category ORDER BY t.category`
	out := []ProblemCounts{}
	err := db.SelectContext(ctx, &out, db.Rebind(q), bot.TicketOpen, bot.TicketClaimed, bot.TicketResolved, since)
	if err != nil {
		return nil, fmt.Errorf("count problems per category: %w", err)
	}
	return out, nil
}

// countProactive reads every sent proactive message with the student's
// first progress event after it. Whether that event falls within the
// window is decided here: date arithmetic differs between the dialects,
// and the first event after the send is within the window exactly when
// any is.
func (db *DB) countProactive(ctx context.Context, since time.Time) ([]ProactiveCounts, error) {
	var rows []struct {
		Kind    string       `db:"kind"`
		Student int64        `db:"student_id"`
		Sent    time.Time    `db:"sent_at"`
		Next    sql.NullTime `db:"next_at"`
	}
	q := `SELECT ps.kind, ps.student_id, ps.updated_at AS sent_at, pe.created_at AS next_at
		FROM proactive_sends ps JOIN students s ON s.id = ps.student_id
		LEFT JOIN progress_events pe ON pe.id = (SELECT e.id FROM progress_events e
			WHERE e.student_id = ps.student_id AND e.created_at > ps.updated_at
			AND (e.kind = 'step' OR e.status IN ('waiting', 'done'))
			ORDER BY e.created_at, e.id LIMIT 1)
		WHERE ps.status = ? AND s.created_at >= ?`
	if err := db.SelectContext(ctx, &rows, db.Rebind(q), "sent", since); err != nil {
		return nil, fmt.Errorf("read sent proactive messages: %w", err)
	}
	type key struct {
		kind    string
		student int64
	}
	progressed := map[key]bool{} // per recipient: after any of their messages
	sent := map[string]int{}
	for _, r := range rows {
		k := key{r.Kind, r.Student}
		sent[r.Kind]++
		progressed[k] = progressed[k] || (r.Next.Valid && r.Next.Time.Sub(r.Sent) <= ProgressWindow)
	}
	out := make([]ProactiveCounts, len(ProactiveKinds))
	for i, kind := range ProactiveKinds {
		out[i] = ProactiveCounts{Kind: kind, Sent: sent[kind]}
		for k, ok := range progressed {
			if k.kind == kind {
				out[i].Recipients++
				out[i].Progressed += b2i(ok)
			}
		}
	}
	return out, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Percent is part of whole in percent, to one decimal; 0 of nothing.
func Percent(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return math.Round(float64(part)*1000/float64(whole)) / 10
}

// HumanDuration is short and coarse, as an admin reads it: "45s", "12m",
// "2h05m", "3d4h"; "-" when no student got there (n is 0).
func HumanDuration(d time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// FunnelStep is one step of the main path: how many students reached it,
// and how many of them did not reach the next (negative when students
// skip a step: a deep link skips the greeting).
type FunnelStep struct {
	Node       string  `json:"node"`
	Reached    int     `json:"reached"`
	DropOff    int     `json:"drop_off"`
	DropOffPct float64 `json:"drop_off_pct"`
	Last       bool    `json:"-"` // no next step: no drop-off
}

// Funnel lays the steps reached along order (the pack's main path).
func Funnel(reached []Count, order []string) []FunnelStep {
	n := map[string]int{}
	for _, c := range reached {
		n[c.Key] = c.N
	}
	out := make([]FunnelStep, len(order))
	for i, node := range order {
		out[i] = FunnelStep{Node: node, Reached: n[node], Last: i+1 == len(order)}
		if !out[i].Last {
			out[i].DropOff = n[node] - n[order[i+1]]
			out[i].DropOffPct = Percent(out[i].DropOff, n[node])
		}
	}
	return out
}
