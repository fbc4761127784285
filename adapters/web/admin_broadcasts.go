package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"activation-bot/bot"
	"activation-bot/storage"
)

// The console's broadcasts: the same broadcasts as `activation-bot
// broadcast`, composed in a form, previewed as the students will see them,
// then queued; the running queue sends them.

// broadcastOnce keeps a confirmed form from being queued twice (a double
// click on Send): its token is taken once, for a day.
var broadcastOnce = bot.Rate{Every: 24 * time.Hour, Burst: 1}

func (s *Server) broadcastRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/broadcasts", s.admin(s.broadcastList))
	mux.Handle("GET /admin/broadcasts/new", s.admin(s.broadcastNew))
	mux.Handle("POST /admin/broadcasts/new", s.admin(s.broadcastEdit))
	mux.Handle("POST /admin/broadcasts/preview", s.admin(s.broadcastPreview))
	mux.Handle("POST /admin/broadcasts", s.admin(s.broadcastCreate))
	mux.Handle("GET /admin/broadcasts/{id}", s.admin(s.broadcastShow))
	mux.Handle("POST /admin/broadcasts/{id}/cancel", s.admin(s.broadcastCancel))
}

func (s *Server) broadcasts() *storage.Broadcasts { return storage.NewBroadcasts(s.cfg.Queue) }

// langNames names the pack's languages on the console.
var langNames = map[string]string{"en": "English", "nl": "Dutch", "fr": "French"}

func langName(lang string) string {
	if n, ok := langNames[lang]; ok {
		return n
	}
	return lang
}

// broadcastForm is the compose form as typed, kept to show again.
type broadcastForm struct {
	Audience     string // "all" or "filter"
	Progress     []string
	Platforms    []string
	Langs        []string
	ActiveBefore string
	ActiveAfter  string
	Texts        map[string]string
	Button       bool
	SendAt       string // datetime-local, campus time
	Once         string // the confirm form's token against a double submit
}

// option is one checkbox of the form.
type option struct {
	Value, Label string
	Checked      bool
}

// textField is one language's text area.
type textField struct {
	Lang, Name, Text string
	Required         bool
}

type composeView struct {
	Form      broadcastForm
	Progress  []option
	Platforms []option
	Langs     []option
	Texts     []textField
	MaxRunes  int
	Zone      string
}

func (s *Server) composeView(f broadcastForm) composeView {
	p := s.engine.Pack()
	v := composeView{Form: f, MaxRunes: bot.MaxBroadcastRunes, Zone: s.engine.Location().String()}
	for _, value := range s.progressValues() {
		v.Progress = append(v.Progress, option{Value: value, Label: s.progressLabel(value), Checked: slices.Contains(f.Progress, value)})
	}
	for _, value := range []string{"telegram", "slack", "web"} {
		v.Platforms = append(v.Platforms, option{Value: value, Label: value, Checked: slices.Contains(f.Platforms, value)})
	}
	for _, lang := range p.Languages {
		v.Langs = append(v.Langs, option{Value: lang, Label: langName(lang), Checked: slices.Contains(f.Langs, lang)})
		v.Texts = append(v.Texts, textField{Lang: lang, Name: langName(lang), Text: f.Texts[lang], Required: lang == p.DefaultLanguage})
	}
	return v
}

// progressValues are the progress values ParseSegment takes, in the
// order a student goes through them.
func (s *Server) progressValues() []string {
	out := []string{bot.ProgressNotStarted, bot.ProgressWaiting}
	for _, a := range s.engine.Pack().Accounts {
		out = append(out, a.ID+"_done")
	}
	return append(out, bot.ProgressCompleted, bot.ProgressProblem)
}

// progressLabel says a progress value in words.
func (s *Server) progressLabel(value string) string {
	switch value {
	case bot.ProgressNotStarted:
		return "not started"
	case bot.ProgressWaiting:
		return "waiting for an activation e-mail"
	case bot.ProgressCompleted:
		return "all accounts done"
	case bot.ProgressProblem:
		return "has a problem or an open ticket"
	}
	p := s.engine.Pack()
	for _, a := range p.Accounts {
		if value == a.ID+"_done" {
			return p.Localize(a.Name, p.DefaultLanguage) + " done, not all"
		}
	}
	return value
}

// describe writes a segment in words, for the list and the detail page.
func (s *Server) describe(seg bot.Segment) string {
	var parts []string
	words := func(values []string, label func(string) string) string {
		out := make([]string, len(values))
		for i, v := range values {
			out[i] = label(v)
		}
		return strings.Join(out, " or ")
	}
	if len(seg.Progress) > 0 {
		parts = append(parts, "progress: "+words(seg.Progress, s.progressLabel))
	}
	if len(seg.Platforms) > 0 {
		parts = append(parts, "on "+words(seg.Platforms, func(v string) string { return v }))
	}
	if len(seg.Langs) > 0 {
		parts = append(parts, "in "+words(seg.Langs, langName))
	}
	loc := s.engine.Location()
	if !seg.ActiveAfter.IsZero() {
		parts = append(parts, "active since "+seg.ActiveAfter.In(loc).Format(time.DateOnly))
	}
	if !seg.ActiveBefore.IsZero() {
		parts = append(parts, "not active since "+seg.ActiveBefore.In(loc).Format(time.DateOnly))
	}
	if len(parts) == 0 {
		return "every student"
	}
	return strings.Join(parts, "; ")
}

// readForm reads the posted compose form (the guard parsed it).
func (s *Server) readForm(r *http.Request) broadcastForm {
	f := broadcastForm{
		Audience:     r.PostFormValue("audience"),
		Progress:     r.PostForm["progress"],
		Platforms:    r.PostForm["platform"],
		Langs:        r.PostForm["lang"],
		ActiveBefore: strings.TrimSpace(r.PostFormValue("active_before")),
		ActiveAfter:  strings.TrimSpace(r.PostFormValue("active_after")),
		Texts:        map[string]string{},
		Button:       r.PostFormValue("button") != "",
		SendAt:       strings.TrimSpace(r.PostFormValue("send_at")),
		Once:         r.PostFormValue("once"),
	}
	for _, lang := range s.engine.Pack().Languages {
		// A text area posts CRLF line breaks; the chats want LF.
		f.Texts[lang] = strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("text_"+lang), "\r\n", "\n"))
	}
	return f
}

// segmentText writes the form's audience as ParseSegment reads it.
func (f broadcastForm) segmentText() (string, error) {
	switch f.Audience {
	case "all":
		return "all", nil
	case "filter":
	default:
		return "", errors.New("Who gets it: choose every student, or students matching the filters.")
	}
	var parts []string
	for _, fl := range []struct {
		key    string
		values []string
	}{{"progress", f.Progress}, {"platform", f.Platforms}, {"lang", f.Langs},
		{"active_before", nonEmpty(f.ActiveBefore)}, {"active_after", nonEmpty(f.ActiveAfter)}} {
		if len(fl.values) == 0 {
			continue
		}
		for _, v := range fl.values {
			// Each value is one: the segment's own separators would smuggle in another filter.
			if v == "" || strings.ContainsAny(v, ",|=") {
				return "", fmt.Errorf("Segment: %q is not a value of %s.", v, fl.key)
			}
		}
		parts = append(parts, fl.key+"="+strings.Join(fl.values, "|"))
	}
	if len(parts) == 0 {
		return "", errors.New("Who gets it: tick at least one filter, or choose every student.")
	}
	return strings.Join(parts, ","), nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// broadcastFrom checks the form as the CLI checks its flags and builds the
// broadcast; the error is for the person who typed it.
func (s *Server) broadcastFrom(f broadcastForm, u storage.ConsoleUser) (bot.Broadcast, error) {
	pack, loc, now := s.engine.Pack(), s.engine.Location(), s.now()
	text, err := f.segmentText()
	if err != nil {
		return bot.Broadcast{}, err
	}
	seg, err := bot.ParseSegment(text, pack, loc)
	if err != nil {
		return bot.Broadcast{}, fmt.Errorf("Segment: %w.", err)
	}
	b := bot.Broadcast{Segment: seg, Texts: map[string]string{}, Button: f.Button, CreatedBy: u.Identity(), SendAt: now}
	for _, lang := range pack.Languages {
		t := f.Texts[lang]
		if n := len([]rune(t)); n > bot.MaxBroadcastRunes {
			return b, fmt.Errorf("The %s text has %d characters; at most %d fit in one message.", langName(lang), n, bot.MaxBroadcastRunes)
		}
		if t != "" {
			b.Texts[lang] = t
		}
	}
	if b.Texts[pack.DefaultLanguage] == "" {
		return b, fmt.Errorf("The %s text is required: students whose language has no text get it.", langName(pack.DefaultLanguage))
	}
	if f.SendAt != "" {
		if b.SendAt, err = parseSendAt(f.SendAt, loc, now); err != nil {
			return b, err
		}
	}
	return b, nil
}

// parseSendAt reads a datetime-local value in campus time, not in the past.
func parseSendAt(s string, loc *time.Location, now time.Time) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02T15:04", s, loc)
	if err != nil {
		t, err = time.ParseInLocation("2006-01-02T15:04:05", s, loc)
	}
	if err != nil {
		return t, fmt.Errorf("Send at: %q is not a date and time such as 2026-09-22T09:00 (campus time).", s)
	}
	if t.Before(now.Add(-time.Minute)) {
		return t, fmt.Errorf("Send at: %s is in the past.", t.Format("2006-01-02 15:04 MST"))
	}
	return t, nil
}

// later reports whether b is scheduled rather than sent at once (as the
// CLI's preview says "now" within a minute).
func (s *Server) later(b bot.Broadcast) bool { return b.SendAt.Sub(s.now()) > time.Minute }

func (s *Server) broadcastNew(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	s.page(w, r, http.StatusOK, &u, "broadcast_new", consoleView{Title: "New broadcast", Nav: "broadcasts",
		Data: s.composeView(broadcastForm{Texts: map[string]string{}})})
}

// broadcastEdit shows the form again with what was posted (the preview's Edit).
func (s *Server) broadcastEdit(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	f := s.readForm(r)
	f.Once = ""
	s.page(w, r, http.StatusOK, &u, "broadcast_new", consoleView{Title: "New broadcast", Nav: "broadcasts", Data: s.composeView(f)})
}

// invalid shows the form again with what was typed and the problem.
func (s *Server) invalid(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser, status int, f broadcastForm, problem string) {
	f.Once = ""
	s.page(w, r, status, &u, "broadcast_new", consoleView{Title: "New broadcast", Nav: "broadcasts", Error: problem, Data: s.composeView(f)})
}

// audienceRow is one platform's recipients per language.
type audienceRow struct {
	Platform string
	Counts   []int
	Total    int
}

// preview is one language's message as its students will see it.
type preview struct {
	Lang, Name string
	Text       string
	Buttons    []string
	Fallback   bool // no text in this language: the default one
}

type previewView struct {
	Form     broadcastForm
	Segment  string
	Describe string
	Langs    []string
	Rows     []audienceRow
	Totals   []int
	Total    int
	Later    bool
	When     string
	Messages []preview
	CanSend  bool
}

func (s *Server) broadcastPreview(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	f := s.readForm(r)
	b, err := s.broadcastFrom(f, u)
	if err != nil {
		s.invalid(w, r, u, http.StatusBadRequest, f, err.Error())
		return
	}
	audience, err := s.broadcasts().Audience(r.Context(), b.Segment)
	if err != nil {
		s.fail(w, r, "count broadcast audience", err)
		return
	}
	pack := s.engine.Pack()
	f.Once = newToken()
	v := previewView{Form: f, Segment: b.Segment.String(), Describe: s.describe(b.Segment), Total: audience.Total(),
		Later: s.later(b), When: "now", Totals: make([]int, len(pack.Languages))}
	if v.Later {
		v.When = b.SendAt.In(s.engine.Location()).Format("2006-01-02 15:04 MST")
	}
	v.CanSend = v.Total > 0 || v.Later
	for _, lang := range pack.Languages {
		v.Langs = append(v.Langs, langName(lang))
	}
	platforms := make([]string, 0, len(audience))
	for p := range audience {
		platforms = append(platforms, p)
	}
	slices.Sort(platforms)
	for _, p := range platforms {
		row := audienceRow{Platform: p}
		for i, lang := range pack.Languages {
			n := audience[p][lang]
			row.Counts = append(row.Counts, n)
			row.Total += n
			v.Totals[i] += n
		}
		v.Rows = append(v.Rows, row)
	}
	for _, lang := range pack.Languages {
		msg := s.engine.BroadcastMessage(b, lang)
		p := preview{Lang: lang, Name: langName(lang), Text: msg.Text, Fallback: b.Texts[lang] == ""}
		for _, btn := range msg.Buttons {
			p.Buttons = append(p.Buttons, btn.Label)
		}
		v.Messages = append(v.Messages, p)
	}
	page := consoleView{Title: "Preview the broadcast", Nav: "broadcasts", Data: v}
	if !v.CanSend {
		page.Error = "No student is in this segment now: nothing to send. Edit the segment, or schedule it for later."
	}
	s.page(w, r, http.StatusOK, &u, "broadcast_preview", page)
}

func (s *Server) broadcastCreate(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	ctx := r.Context()
	f := s.readForm(r)
	b, err := s.broadcastFrom(f, u)
	if err != nil {
		s.invalid(w, r, u, http.StatusBadRequest, f, err.Error())
		return
	}
	store := s.broadcasts()
	if !s.later(b) {
		audience, err := store.Audience(ctx, b.Segment)
		if err != nil {
			s.fail(w, r, "count broadcast audience", err)
			return
		}
		if audience.Total() == 0 {
			s.invalid(w, r, u, http.StatusBadRequest, f, "No student is in this segment now: nothing to send.")
			return
		}
	}
	if f.Once != "" {
		_, first, err := s.cfg.Queue.Reserve(ctx, "broadcast:form:"+f.Once, broadcastOnce, 0)
		if err != nil {
			s.fail(w, r, "check broadcast form", err)
			return
		}
		if !first {
			s.page(w, r, http.StatusConflict, &u, "broadcasts", consoleView{Title: "Broadcasts", Nav: "broadcasts",
				Error: "This broadcast was already sent from this form: see it in the list below.", Data: s.listView(r, u)})
			return
		}
	}
	ctx, cancel := background(r, 30*time.Second)
	defer cancel()
	id, err := store.Create(ctx, b)
	if err != nil {
		if f.Once != "" {
			if rerr := s.cfg.Queue.Release(ctx, "broadcast:form:"+f.Once); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		s.fail(w, r, "create broadcast", err)
		return
	}
	s.log.InfoContext(ctx, "broadcast created", slog.Int64("broadcast", id), slog.String("by", u.Identity()),
		slog.String("segment", b.Segment.String()))
	http.Redirect(w, r, fmt.Sprintf("/admin/broadcasts/%d?done=created", id), http.StatusSeeOther)
}

// listed is one row of the list.
type listed struct {
	ID        int64
	Status    string
	Segment   string
	CreatedBy string
	SendAt    string
	Sent      int
	Total     int
	Started   bool
}

type listView struct {
	Rows []listed
	Err  error
}

func (s *Server) listView(r *http.Request, _ storage.ConsoleUser) listView {
	store := s.broadcasts()
	list, err := store.List(r.Context())
	if err != nil {
		return listView{Err: err}
	}
	progress, err := store.Progress(r.Context())
	if err != nil {
		return listView{Err: err}
	}
	var v listView
	for _, b := range list {
		row := listed{ID: b.ID, Status: b.Status, Segment: s.describe(b.Segment), CreatedBy: b.CreatedBy,
			SendAt: b.SendAt.In(s.engine.Location()).Format("2006-01-02 15:04")}
		// A scheduled broadcast has no copies yet.
		if b.Status != bot.BroadcastScheduled {
			p := progress[b.ID]
			row.Started, row.Sent, row.Total = true, p.Sent, total(p)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

func total(p storage.BroadcastProgress) int {
	return p.Pending + p.Queued + p.Sent + p.Failed + p.Skipped
}

func (s *Server) broadcastList(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	v := s.listView(r, u)
	if v.Err != nil {
		s.fail(w, r, "list broadcasts", v.Err)
		return
	}
	s.page(w, r, http.StatusOK, &u, "broadcasts", consoleView{Title: "Broadcasts", Nav: "broadcasts", Data: v})
}

type detailView struct {
	B         bot.Broadcast
	Describe  string
	Segment   string
	SendAt    string
	CreatedAt string
	Progress  storage.BroadcastProgress
	Total     int
	Texts     []preview
	Refresh   bool
	CanCancel bool
}

// broadcastID reads the {id} of the path; false for a malformed one.
func broadcastID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (s *Server) broadcastShow(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	s.showBroadcast(w, r, u, http.StatusOK, "")
}

func (s *Server) showBroadcast(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser, status int, problem string) {
	id, ok := broadcastID(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, p, err := s.broadcasts().Get(r.Context(), id)
	if errors.Is(err, bot.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, "load broadcast", err)
		return
	}
	loc := s.engine.Location()
	v := detailView{B: b, Describe: s.describe(b.Segment), Segment: b.Segment.String(), Progress: p, Total: total(p),
		SendAt: b.SendAt.In(loc).Format("2006-01-02 15:04 MST"), CreatedAt: b.CreatedAt.In(loc).Format("2006-01-02 15:04 MST")}
	for _, lang := range s.engine.Pack().Languages {
		msg := s.engine.BroadcastMessage(b, lang)
		t := preview{Lang: lang, Name: langName(lang), Text: msg.Text, Fallback: strings.TrimSpace(b.Texts[lang]) == ""}
		for _, btn := range msg.Buttons {
			t.Buttons = append(t.Buttons, btn.Label)
		}
		v.Texts = append(v.Texts, t)
	}
	due := b.Status == bot.BroadcastScheduled && !b.SendAt.After(s.now())
	v.Refresh = b.Status == bot.BroadcastSending || due || b.Status == bot.BroadcastSent && p.Pending+p.Queued > 0
	v.CanCancel = b.Status == bot.BroadcastScheduled || b.Status == bot.BroadcastSending || b.Status == bot.BroadcastSent && p.Queued > 0
	s.page(w, r, status, &u, "broadcast", consoleView{Title: fmt.Sprintf("Broadcast #%d", b.ID), Nav: "broadcasts", Error: problem, Data: v})
}

func (s *Server) broadcastCancel(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	id, ok := broadcastID(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	ctx, cancel := background(r, 30*time.Second)
	defer cancel()
	err := s.broadcasts().Cancel(ctx, id, u.Identity())
	switch {
	case errors.Is(err, bot.ErrNotFound):
		http.NotFound(w, r)
		return
	case errors.Is(err, storage.ErrBroadcastOver):
		s.showBroadcast(w, r, u, http.StatusConflict, fmt.Sprintf("Broadcast #%d is over (sent or already cancelled): there is nothing left to cancel.", id))
		return
	case err != nil:
		s.fail(w, r, "cancel broadcast", err)
		return
	}
	s.log.InfoContext(ctx, "broadcast cancelled", slog.Int64("broadcast", id), slog.String("by", u.Identity()))
	http.Redirect(w, r, fmt.Sprintf("/admin/broadcasts/%d?done=cancelled", id), http.StatusSeeOther)
}
