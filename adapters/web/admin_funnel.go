package web

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"activation-bot/flows"
	"activation-bot/storage"
)

// The funnel page: the figures of `activation-bot stats` (storage.Stats,
// in the pack's main path order) with two charts, and new and completed
// students per day; the same figures as CSV.

// dailyDays is how many days the per-day figures cover without a since.
const dailyDays = 30

// maxDailyDays bounds the per-day figures of a since long ago.
const maxDailyDays = 731

func (s *Server) funnelRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/funnel", s.admin(s.funnelPage))
	mux.Handle("GET /admin/funnel.csv", s.admin(s.funnelCSV))
}

// funnelView is the funnel page's data.
type funnelView struct {
	Since     string // the filter as typed
	Scope     string
	AsOf      string // when the figures were read (they are reused for funnelTTL)
	CSV       string // link to the same figures as CSV
	From, To  string // the per-day figures' first and last day
	Capped    bool   // since lies further back than maxDailyDays
	Students  int
	Completed int
	// CompletedPct is Completed of Students, in percent.
	CompletedPct float64
	Funnel       []funnelRow
	FunnelChart  hbarChart
	Steps        []countRow // current step
	Accounts     []accountRow
	Platforms    []countRow
	Languages    []countRow
	StepsBy      []stepByRow
	Days         []storage.DayCount
	DayChart     columnChart
	DaysNew      int
	DaysDone     int
	TimeToDone   []timeRow
	Problems     []problemRow
	Proactive    []proactiveRow
}

type funnelRow = storage.FunnelStep

type countRow struct {
	Key   string
	Label string
	N     int
	Pct   float64 // of all students
}

type accountRow struct {
	storage.AccountCounts
	Name string
}

type stepByRow struct {
	Step, Platform, Lang string
	N                    int
}

type timeRow struct {
	Account     string
	Students    int
	Median, P90 string
	MedianSecs  int64
	P90Secs     int64
}

type problemRow struct {
	Category, Label string
	Open, Resolved  int
}

type proactiveRow struct {
	Kind                         string
	Sent, Recipients, Progressed int
	Pct                          float64
}

// funnelQuery is the figures of one request.
type funnelQuery struct {
	since    string // as typed, "" for everyone
	from     time.Time
	to       time.Time
	capped   bool
	stats    storage.Stats
	days     []storage.DayCount
	asOf     time.Time
	pack     *flows.Pack
	location *time.Location
}

// errBadSince is a since that is not a date.
type errBadSince struct{ value string }

func (e errBadSince) Error() string {
	return fmt.Sprintf("%q is not a date: use the form YYYY-MM-DD, such as 2026-09-01", e.value)
}

// funnelQuery reads the figures the request asks for: since is a day on campus,
// students from its midnight on.
func (s *Server) funnelQuery(r *http.Request) (funnelQuery, error) {
	loc := s.engine.Location()
	q := funnelQuery{since: strings.TrimSpace(r.URL.Query().Get("since")), pack: s.engine.Pack(), location: loc, to: s.now().In(loc)}
	filter := storage.StatsFilter{Accounts: accountIDs(q.pack)}
	today := dayStart(q.to)
	q.from = today.AddDate(0, 0, -(dailyDays - 1))
	if q.since != "" {
		since, err := time.ParseInLocation(time.DateOnly, q.since, loc)
		if err != nil {
			return q, errBadSince{q.since}
		}
		filter.Since, q.from = since, since
		if oldest := today.AddDate(0, 0, -(maxDailyDays - 1)); q.from.Before(oldest) {
			q.from, q.capped = oldest, true
		}
	}
	key := q.since + "|" + today.Format(time.DateOnly)
	if f, ok := s.funnel.get(key, s.now()); ok {
		q.stats, q.days, q.asOf = f.stats, f.days, f.at
		return q, nil
	}
	q.asOf = s.now()
	var err error
	if q.stats, err = s.db.Stats(r.Context(), filter); err != nil {
		return q, err
	}
	if q.days, err = s.db.Daily(r.Context(), storage.DailyFilter{From: q.from, To: q.to, Location: loc, Accounts: filter.Accounts}); err != nil {
		return q, err
	}
	s.funnel.put(key, funnelFigures{stats: q.stats, days: q.days, at: s.now()})
	return q, nil
}

// funnelTTL is how long the funnel's figures are reused: they read every
// progress event, and several admins refreshing the page must not hold up
// the students (SQLite has one connection).
const funnelTTL = 30 * time.Second

type funnelFigures struct {
	stats storage.Stats
	days  []storage.DayCount
	at    time.Time
}

// funnelCache keeps the last figures per filter and day.
type funnelCache struct {
	mu      sync.Mutex
	entries map[string]funnelFigures
}

func (c *funnelCache) get(key string, now time.Time) (funnelFigures, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.entries[key]
	return f, ok && now.Sub(f.at) < funnelTTL
}

func (c *funnelCache) put(key string, f funnelFigures) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 100 {
		c.entries = map[string]funnelFigures{}
	}
	c.entries[key] = f
}

func dayStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

func accountIDs(p *flows.Pack) []string {
	ids := make([]string, len(p.Accounts))
	for i, a := range p.Accounts {
		ids[i] = a.ID
	}
	return ids
}

func (s *Server) funnelPage(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	q, err := s.funnelQuery(r)
	var bad errBadSince
	switch {
	case asBadSince(err, &bad):
		s.page(w, r, http.StatusBadRequest, &u, "funnel", consoleView{Title: "Funnel", Nav: "funnel",
			Error: "Since: " + bad.Error() + ".", Data: funnelView{Since: q.since}})
		return
	case err != nil:
		s.fail(w, r, "read the funnel", err)
		return
	}
	s.page(w, r, http.StatusOK, &u, "funnel", consoleView{Title: "Funnel", Nav: "funnel", Data: q.view()})
}

func asBadSince(err error, bad *errBadSince) bool { return errors.As(err, bad) }

// view arranges the figures as the page shows them.
func (q funnelQuery) view() funnelView {
	st, p := q.stats, q.pack
	v := funnelView{Since: q.since, Scope: "all students", AsOf: q.asOf.In(q.location).Format("15:04:05"), Students: st.Students, Completed: st.Completed,
		CompletedPct: storage.Percent(st.Completed, st.Students), Capped: q.capped,
		From: q.from.Format(time.DateOnly), To: q.to.Format(time.DateOnly), Days: q.days}
	v.CSV = "/admin/funnel.csv"
	if q.since != "" {
		v.Scope = "students whose first message came on or after " + q.since + " (campus time)"
		v.CSV += "?" + url.Values{"since": {q.since}}.Encode()
	}
	v.Funnel = storage.Funnel(st.Reached, p.MainPath())
	items := make([]chartItem, len(v.Funnel))
	for i, f := range v.Funnel {
		items[i] = chartItem{Label: f.Node, Value: f.Reached}
		if !f.Last {
			switch {
			case f.DropOff > 0:
				items[i].Note = fmt.Sprintf("(−%d, %.1f%% drop-off)", f.DropOff, f.DropOffPct)
			case f.DropOff == 0:
				items[i].Note = "(no drop-off)"
			default:
				items[i].Note = fmt.Sprintf("(+%d at the next step)", -f.DropOff)
			}
		}
	}
	v.FunnelChart = newHBarChart(items)
	for _, c := range st.Steps {
		v.Steps = append(v.Steps, countRow{c.Key, orNone(c.Key, "(not started)"), c.N, storage.Percent(c.N, st.Students)})
	}
	for _, a := range st.Accounts {
		name := a.Account
		if acc, ok := p.Account(a.Account); ok {
			name = p.Localize(acc.Name, "en")
		}
		v.Accounts = append(v.Accounts, accountRow{a, name})
	}
	for _, c := range st.Platforms {
		v.Platforms = append(v.Platforms, countRow{c.Key, c.Key, c.N, storage.Percent(c.N, st.Students)})
	}
	for _, c := range st.Languages {
		label := orNone(c.Key, "(not chosen)")
		if name := p.LanguageNames[c.Key]; name != "" {
			label = name + " (" + c.Key + ")"
		}
		v.Languages = append(v.Languages, countRow{c.Key, label, c.N, storage.Percent(c.N, st.Students)})
	}
	for _, b := range st.StepsBy {
		v.StepsBy = append(v.StepsBy, stepByRow{orNone(b.Node, "(not started)"), b.Platform, orNone(b.Lang, "(not chosen)"), b.N})
	}
	labels := make([]string, len(q.days))
	newPerDay, donePerDay := make([]int, len(q.days)), make([]int, len(q.days))
	for i, d := range q.days {
		labels[i] = d.Day.Format("01-02")
		newPerDay[i], donePerDay[i] = d.New, d.Completed
		v.DaysNew += d.New
		v.DaysDone += d.Completed
	}
	v.DayChart = newColumnChart(labels, []string{"new", "completed"}, []string{colourNew, colourCompleted},
		[][]int{newPerDay, donePerDay})
	for _, t := range st.Done {
		v.TimeToDone = append(v.TimeToDone, newTimeRow(t, p))
	}
	for _, pr := range st.Problems {
		label := pr.Category
		if prob, ok := p.Problem(pr.Category); ok {
			label = p.Localize(prob.Label, "en")
		}
		v.Problems = append(v.Problems, problemRow{pr.Category, label, pr.Open, pr.Resolved})
	}
	for _, pa := range st.Proactive {
		v.Proactive = append(v.Proactive, proactiveRow{pa.Kind, pa.Sent, pa.Recipients, pa.Progressed, storage.Percent(pa.Progressed, pa.Recipients)})
	}
	return v
}

func newTimeRow(t storage.TimeToDone, p *flows.Pack) timeRow {
	med, p90 := storage.Percentile(t.Durations, 50), storage.Percentile(t.Durations, 90)
	name := "all accounts"
	if t.Account != "" {
		name = t.Account
		if acc, ok := p.Account(t.Account); ok {
			name = p.Localize(acc.Name, "en")
		}
	}
	return timeRow{Account: name, Students: len(t.Durations),
		Median: storage.HumanDuration(med, len(t.Durations)), P90: storage.HumanDuration(p90, len(t.Durations)),
		MedianSecs: int64(med / time.Second), P90Secs: int64(p90 / time.Second)}
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

// funnelCSVHeader is the CSV's one header row. Every other row is one
// figure: its section, what it is about (the columns that apply; the
// others empty), the measure and the value. Sections and measures:
//
//	summary                 students, completed (key: all)
//	funnel                  reached, drop_off, drop_off_pct (key: step, main path order)
//	current_step            students (key: step; "" is not started)
//	account                 not_started, waiting, done, problem (key: account id)
//	platform                students (key: platform)
//	language                students (key: language; "" is not chosen)
//	step_platform_language  students (key: step, with platform and language)
//	day                     new, completed (day: YYYY-MM-DD, campus time)
//	time_to_done            students, median_seconds, p90_seconds (key: account id, or all)
//	problem                 open, resolved (key: category)
//	proactive               sent, recipients, progressed_48h, progressed_pct (key: kind)
var funnelCSVHeader = []string{"section", "key", "platform", "language", "day", "measure", "value"}

func (s *Server) funnelCSV(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	q, err := s.funnelQuery(r)
	var bad errBadSince
	switch {
	case asBadSince(err, &bad):
		http.Error(w, "since: "+bad.Error()+".", http.StatusBadRequest)
		return
	case err != nil:
		s.fail(w, r, "read the funnel", err)
		return
	}
	var buf bytes.Buffer
	if err := writeFunnelCSV(&buf, q); err != nil {
		s.fail(w, r, "write the funnel as CSV", err)
		return
	}
	name := "funnel-" + q.to.Format(time.DateOnly) + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = buf.WriteTo(w)
}

func writeFunnelCSV(buf *bytes.Buffer, q funnelQuery) error {
	cw := csv.NewWriter(buf)
	st := q.stats
	row := func(section, key, platform, lang, day, measure string, value any) {
		var v string
		switch x := value.(type) {
		case float64:
			v = strconv.FormatFloat(x, 'f', 1, 64)
		default:
			v = fmt.Sprint(x)
		}
		_ = cw.Write(safeCells(section, key, platform, lang, day, measure, v))
	}
	_ = cw.Write(funnelCSVHeader)
	row("summary", "all", "", "", "", "students", st.Students)
	row("summary", "all", "", "", "", "completed", st.Completed)
	for _, f := range storage.Funnel(st.Reached, q.pack.MainPath()) {
		row("funnel", f.Node, "", "", "", "reached", f.Reached)
		if !f.Last {
			row("funnel", f.Node, "", "", "", "drop_off", f.DropOff)
			row("funnel", f.Node, "", "", "", "drop_off_pct", f.DropOffPct)
		}
	}
	for _, c := range st.Steps {
		row("current_step", c.Key, "", "", "", "students", c.N)
	}
	for _, a := range st.Accounts {
		row("account", a.Account, "", "", "", "not_started", a.NotStarted)
		row("account", a.Account, "", "", "", "waiting", a.Waiting)
		row("account", a.Account, "", "", "", "done", a.Done)
		row("account", a.Account, "", "", "", "problem", a.Problem)
	}
	for _, c := range st.Platforms {
		row("platform", c.Key, c.Key, "", "", "students", c.N)
	}
	for _, c := range st.Languages {
		row("language", c.Key, "", c.Key, "", "students", c.N)
	}
	for _, b := range st.StepsBy {
		row("step_platform_language", b.Node, b.Platform, b.Lang, "", "students", b.N)
	}
	for _, d := range q.days {
		row("day", "", "", "", d.Date(), "new", d.New)
		row("day", "", "", "", d.Date(), "completed", d.Completed)
	}
	for _, t := range st.Done {
		key := orNone(t.Account, "all")
		med, p90 := storage.Percentile(t.Durations, 50), storage.Percentile(t.Durations, 90)
		row("time_to_done", key, "", "", "", "students", len(t.Durations))
		row("time_to_done", key, "", "", "", "median_seconds", int64(med/time.Second))
		row("time_to_done", key, "", "", "", "p90_seconds", int64(p90/time.Second))
	}
	for _, p := range st.Problems {
		row("problem", p.Category, "", "", "", "open", p.Open)
		row("problem", p.Category, "", "", "", "resolved", p.Resolved)
	}
	for _, p := range st.Proactive {
		row("proactive", p.Kind, "", "", "", "sent", p.Sent)
		row("proactive", p.Kind, "", "", "", "recipients", p.Recipients)
		row("proactive", p.Kind, "", "", "", "progressed_48h", p.Progressed)
		row("proactive", p.Kind, "", "", "", "progressed_pct", storage.Percent(p.Progressed, p.Recipients))
	}
	cw.Flush()
	return cw.Error()
}

// safeCells guards cells against formula injection: a spreadsheet runs a
// cell that starts with = + - @ (or a tab or carriage return) as a
// formula, so such a cell gets a leading '. Numbers, negative ones too,
// are kept as they are.
func safeCells(cells ...string) []string {
	for i, c := range cells {
		cells[i] = safeCell(c)
	}
	return cells
}

func safeCell(c string) string {
	if c == "" || !strings.ContainsRune("=+-@\t\r", rune(c[0])) {
		return c
	}
	if _, err := strconv.ParseFloat(c, 64); err == nil && c[0] == '-' {
		return c
	}
	return "'" + c
}
