package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"activation-bot/bot"
	"activation-bot/storage"
)

// shownLines is how much of the conversation the page shows.
const shownLines = 200

// replyWait is how long a form post (no JavaScript) waits for the bot's
// answer before showing the page; the answer shows on the next load anyway.
const replyWait = 4 * time.Second

// newStudents limits the conversations one address may start.
var newStudents = bot.Rate{Every: 2 * time.Second, Burst: 60}

// pollEvery is how often an open page looks for lines it was not woken
// for (a notification lost while reconnecting).
const pollEvery = 15 * time.Second

// handoffTTL is how long a link to continue on another device works.
const handoffTTL = 10 * time.Minute

func (s *Server) chatRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.chatPage)
	mux.HandleFunc("POST /say", s.say)
	mux.HandleFunc("POST /language", s.setLanguage)
	mux.HandleFunc("GET /events", s.events)
	mux.HandleFunc("POST /handoff", s.handoff)
	mux.HandleFunc("GET /continue", s.continuePage)
	mux.HandleFunc("POST /continue", s.continueHere)
}

// chatLine is one message as the page shows it.
type chatLine struct {
	ID      int64        `json:"id"`
	In      bool         `json:"in"`
	Text    string       `json:"text"`
	Buttons []bot.Button `json:"buttons"`
	Time    string       `json:"time"`
}

type langOption struct {
	Code, Name string
	Current    bool
}

// chatView is what the chat page template gets.
type chatView struct {
	Lang      string
	T         map[string]string
	Started   bool // the student has a conversation (its lines may have expired)
	Live      bool // the browser is a student: the page listens for new lines
	Langs     []langOption
	CSRF      string
	Event     string
	Lines     []chatLine
	Buttons   []bot.Button // the answers the bot's last messages offer
	Header    string
	Checklist []bot.ChecklistItem
	AllDone   string
	Notice    string
	After     int64
	Handoff   string // the link to continue elsewhere, on the handoff page
	Token     string // the handoff link's token, on the page that confirms it
	Replaces  bool   // this browser has a conversation the link would leave
}

// notices are the page's messages that a redirect carries by key.
var notices = []string{"expired", "empty", "slow", "handoff_bad", "too_long", "busy"}

func (s *Server) chatPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.chatView(w, r, s.signed(r, studentCookie))
	if err != nil {
		s.fail(w, r, "show chat", err)
		return
	}
	if n := r.URL.Query().Get("n"); slices.Contains(notices, n) {
		v.Notice = v.T[n]
	}
	s.render(w, r, http.StatusOK, "chat", "chat", v)
}

// chatView gathers the page of student id ("" before their first message).
func (s *Server) chatView(w http.ResponseWriter, r *http.Request, id string) (chatView, error) {
	ctx := r.Context()
	var convLang string
	var accounts map[string]bot.Progress
	var lines []storage.WebMessage
	started := false
	if id != "" {
		var err error
		if convLang, accounts, started, err = s.chats.Progress(ctx, Platform, id); err != nil {
			return chatView{}, err
		}
		if lines, err = s.chats.Messages(ctx, id, 0, shownLines); err != nil {
			return chatView{}, err
		}
	}
	lang := s.pageLang(r, convLang)
	p := s.engine.Pack()
	v := chatView{Lang: lang, T: ui[lang], CSRF: s.csrfFor(s.formSecret(w, r)), Event: newID(),
		Header: p.Message("status_header", lang), Checklist: s.engine.Checklist(lang, accounts),
		Started: started || len(lines) > 0, Live: id != ""}
	for _, l := range p.Languages {
		if _, ok := ui[l]; ok {
			v.Langs = append(v.Langs, langOption{Code: l, Name: p.LanguageNames[l], Current: l == lang})
		}
	}
	if allDone(v.Checklist) {
		v.AllDone = p.Message("status_all_done", lang)
	}
	for _, m := range lines {
		v.Lines = append(v.Lines, s.line(m))
		v.After = m.ID
	}
	v.Buttons = offered(lines)
	return v, nil
}

func (s *Server) line(m storage.WebMessage) chatLine {
	return chatLine{ID: m.ID, In: m.In, Text: m.Message.Text, Buttons: m.Message.Buttons,
		Time: m.Created.In(s.engine.Location()).Format("15:04")}
}

func allDone(items []bot.ChecklistItem) bool {
	for _, it := range items {
		if it.State != "done" {
			return false
		}
	}
	return len(items) > 0
}

// offered returns the buttons of the bot's messages since the student
// last spoke: the answers the conversation now expects.
func offered(lines []storage.WebMessage) []bot.Button {
	var bs []bot.Button
	for i := len(lines) - 1; i >= 0 && !lines[i].In; i-- {
		bs = append(slices.Clone(lines[i].Message.Buttons), bs...)
	}
	return bs
}

// wantsJSON: the page's script posts with fetch and reads JSON.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// say takes a message or a button press from the page.
func (s *Server) say(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.answer(w, r, http.StatusRequestEntityTooLarge, "too_long", 0)
		return
	}
	if !s.validCSRF(r, s.signed(r, formCookie)) {
		s.answer(w, r, http.StatusForbidden, "expired", 0)
		return
	}
	text, button := strings.TrimSpace(r.PostFormValue("text")), r.PostFormValue("button")
	shown := "" // what the page shows the student said, when not the text
	// The page's own buttons are commands, shown as the button's words:
	// Start is /start, Link another device is /link.
	switch {
	case r.PostFormValue("start") != "":
		text, shown = "/start", ui[s.pageLang(r, "")]["start"]
	case r.PostFormValue("link") != "":
		text, shown = "/link", ui[s.pageLang(r, "")]["link_device"]
	}
	if text == "" && button == "" {
		s.answer(w, r, http.StatusBadRequest, "empty", 0)
		return
	}
	id := s.signed(r, studentCookie)
	if id == "" {
		// Each new browser is a new student: a flood of them from one
		// address is refused (a campus network shares one, hence the burst).
		_, ok, err := s.cfg.Queue.Reserve(r.Context(), "web:new:"+s.clientAddr(r), newStudents, 0)
		if err != nil {
			s.fail(w, r, "rate limit new web students", err)
			return
		}
		if !ok {
			w.Header().Set("Retry-After", "60")
			s.answer(w, r, http.StatusTooManyRequests, "busy", 0)
			return
		}
		id = newID()
		if err := s.setSigned(w, studentCookie, id, "/", studentCookieAge, http.SameSiteLaxMode); err != nil {
			s.fail(w, r, "set student cookie", err)
			return
		}
	}
	event := r.PostFormValue("event")
	if event == "" || len(event) > 64 {
		event = newID()
	}
	// The page's nonce is unique per browser only: the event id is scoped.
	in := bot.Inbound{Platform: Platform, EventID: id + ":" + event, UserID: id, ChatID: id,
		Text: text, ButtonID: button, LocaleHint: s.pageLang(r, "")}
	ctx, cancel := background(r, 10*time.Second)
	defer cancel()
	woken, unsubscribe := s.hub.subscribe(id)
	defer unsubscribe()
	lineID, err := s.accept(ctx, in, shown)
	if err != nil {
		s.fail(w, r, "take a web message", err)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusAccepted, map[string]int64{"id": lineID})
		return
	}
	notice := ""
	if !s.awaitAnswer(r.Context(), id, in.EventID, woken) {
		notice = "slow"
	}
	s.answer(w, r, http.StatusSeeOther, notice, lineID)
}

// accept records the student's line, redacted as the engine stores it,
// then hands the event to the engine; a form posted twice is taken once.
func (s *Server) accept(ctx context.Context, in bot.Inbound, shown string) (int64, error) {
	g := s.engine.Guard(in)
	switch {
	case shown != "":
	case g.ButtonID == "":
		// The page's copy of a typed link code is no key to anyone.
		shown = bot.MaskLinkCode(g.Text)
	default:
		shown = s.buttonLabel(ctx, in.ChatID, in.ButtonID, in.LocaleHint)
	}
	fresh, err := s.chats.Said(ctx, in.ChatID, in.EventID, shown)
	if err != nil {
		return 0, err
	}
	if fresh {
		if err := s.engine.Accept(ctx, g); err != nil && !errors.Is(err, bot.ErrDuplicate) {
			if uerr := s.chats.Unsay(ctx, in.ChatID, in.EventID); uerr != nil {
				s.log.ErrorContext(ctx, "remove a web message not taken", "error", uerr)
			}
			return 0, err
		}
		s.hub.notify(in.ChatID)
	}
	last, err := s.chats.Messages(ctx, in.ChatID, 0, 1)
	if err != nil || len(last) == 0 {
		return 0, err
	}
	return last[0].ID, nil
}

// buttonLabel is what the chat shows for a pressed button: its label as
// the bot last offered it.
func (s *Server) buttonLabel(ctx context.Context, chat, id, lang string) string {
	if lines, err := s.chats.Messages(ctx, chat, 0, 20); err == nil {
		for i := len(lines) - 1; i >= 0; i-- {
			for _, b := range lines[i].Message.Buttons {
				if b.ID == id {
					return b.Label
				}
			}
		}
	}
	if b, _, ok := s.engine.Pack().Button(id); ok {
		return s.engine.Pack().Localize(b.Label, lang)
	}
	return id
}

// awaitAnswer waits until the bot handled the event and every reply to
// the chat is on the page, or replyWait.
func (s *Server) awaitAnswer(ctx context.Context, chat, eventID string, woken <-chan struct{}) bool {
	timeout := time.NewTimer(replyWait)
	defer timeout.Stop()
	poll := time.NewTicker(100 * time.Millisecond) // another instance may answer
	defer poll.Stop()
	for {
		if done, err := s.chats.Answered(ctx, Platform, chat, eventID); err == nil && done {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-timeout.C:
			return false
		case <-woken:
		case <-poll.C:
		}
	}
}

// answer ends a post: JSON for the script, a redirect to the page (with a
// notice) for a plain form.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, status int, notice string, lineID int64) {
	if wantsJSON(r) {
		body := map[string]any{"id": lineID}
		if notice != "" {
			lang := s.pageLang(r, "")
			body["error"] = ui[lang][notice]
		}
		writeJSON(w, status, body)
		return
	}
	target := "/"
	if notice != "" {
		target += "?n=" + notice
	}
	if status == http.StatusSeeOther || status < 400 {
		http.Redirect(w, r, target+"#latest", http.StatusSeeOther)
		return
	}
	v, err := s.chatView(w, r, s.signed(r, studentCookie))
	if err != nil {
		s.fail(w, r, "show chat", err)
		return
	}
	v.Notice = v.T[notice]
	s.render(w, r, status, "chat", "chat", v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// setLanguage switches the page's language, and the bot's when the student
// has a conversation, as /language would.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil || !s.validCSRF(r, s.signed(r, formCookie)) {
		s.answer(w, r, http.StatusForbidden, "expired", 0)
		return
	}
	lang := r.PostFormValue("lang")
	if _, ok := ui[lang]; !ok || !slices.Contains(s.engine.Pack().Languages, lang) {
		http.Error(w, "unknown language", http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: int(studentCookieAge.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	if id := s.signed(r, studentCookie); id != "" {
		ctx, cancel := background(r, 10*time.Second)
		defer cancel()
		_, _, started, err := s.chats.Progress(ctx, Platform, id)
		if err != nil {
			s.fail(w, r, "read progress", err)
			return
		}
		if started {
			in := bot.Inbound{Platform: Platform, EventID: id + ":lang-" + newID(), UserID: id, ChatID: id, Text: "/language " + lang}
			woken, unsubscribe := s.hub.subscribe(id)
			defer unsubscribe()
			if err := s.engine.Accept(ctx, in); err != nil {
				s.fail(w, r, "switch language", err)
				return
			}
			s.awaitAnswer(r.Context(), id, in.EventID, woken)
		}
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// handoff gives a one-time link that opens this conversation elsewhere.
func (s *Server) handoff(w http.ResponseWriter, r *http.Request) {
	id := s.signed(r, studentCookie)
	if err := parseForm(w, r); err != nil || !s.validCSRF(r, s.signed(r, formCookie)) || id == "" {
		s.answer(w, r, http.StatusForbidden, "expired", 0)
		return
	}
	token := newToken()
	if err := s.console.IssueToken(r.Context(), token, storage.TokenHandoff, id, handoffTTL); err != nil {
		s.fail(w, r, "issue handoff link", err)
		return
	}
	v, err := s.chatView(w, r, id)
	if err != nil {
		s.fail(w, r, "show chat", err)
		return
	}
	v.Handoff = s.link("/continue", map[string][]string{"token": {token}})
	s.render(w, r, http.StatusOK, "chat", "handoff", v)
}

// continuePage asks before a handoff link takes effect: a GET changes
// nothing, so a link preview (a chat app fetching it) does not use it up,
// and nobody is switched into someone else's conversation by one click.
func (s *Server) continuePage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	current := s.signed(r, studentCookie)
	v, err := s.chatView(w, r, current)
	if err != nil {
		s.fail(w, r, "show chat", err)
		return
	}
	if _, err := s.console.PeekToken(r.Context(), token, storage.TokenHandoff); err != nil {
		if !errors.Is(err, storage.ErrTokenInvalid) {
			s.fail(w, r, "read handoff link", err)
			return
		}
		v.Notice = v.T["handoff_bad"]
		s.render(w, r, http.StatusGone, "chat", "chat", v)
		return
	}
	v.Token, v.Replaces = token, len(v.Lines) > 0
	s.render(w, r, http.StatusOK, "chat", "continue", v)
}

// continueHere makes this browser the student of a handoff link.
func (s *Server) continueHere(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil || !s.validCSRF(r, s.signed(r, formCookie)) {
		s.answer(w, r, http.StatusForbidden, "expired", 0)
		return
	}
	id, err := s.console.UseToken(r.Context(), r.PostFormValue("token"), storage.TokenHandoff)
	if errors.Is(err, storage.ErrTokenInvalid) {
		http.Redirect(w, r, "/?n=handoff_bad", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, "use handoff link", err)
		return
	}
	if err := s.setSigned(w, studentCookie, id, "/", studentCookieAge, http.SameSiteLaxMode); err != nil {
		s.fail(w, r, "set student cookie", err)
		return
	}
	http.Redirect(w, r, "/#latest", http.StatusSeeOther)
}

// events streams the chat's new lines and progress to the page
// (Server-Sent Events); the browser reconnects with Last-Event-ID.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	id := s.signed(r, studentCookie)
	if id == "" {
		w.WriteHeader(http.StatusNoContent) // tells EventSource to stop
		return
	}
	after, _ := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	if q, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64); err == nil && q > after {
		after = q
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	woken, unsubscribe := s.hub.subscribe(id)
	defer unsubscribe()
	ctx := r.Context()
	c := &cursor{after: after, sent: map[int64]time.Time{}}
	// The headers go at once, so the browser knows the stream is open
	// before there is anything to say; reconnects wait 3 s.
	if s.write(rc, w, "retry: 3000\n\n") != nil {
		return
	}
	end := time.NewTimer(5 * time.Minute) // a fresh stream now and then frees a stuck proxy
	defer end.Stop()
	// A page is woken when its chat has a new line (in process, or by a
	// notification from another instance); the poll is the safety net.
	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	idle := 0
	for {
		n, err := s.stream(ctx, w, rc, id, c)
		if err != nil {
			return // the browser went away, or the write failed: it reconnects
		}
		if n == 0 {
			idle++
		} else {
			idle = 0
		}
		if idle >= 2 { // a comment every 30 s keeps proxies from closing it
			idle = 0
			if s.write(rc, w, ": keep-alive\n\n") != nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-end.C:
			return
		case <-woken:
		case <-poll.C:
		}
	}
}

// stream writes the lines the page has not seen, and the checklist when
// the bot said something; it returns how many lines it wrote.
func (s *Server) stream(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, id string, c *cursor) (int, error) {
	lines, err := s.chats.Newer(ctx, id, c.after, c.since(), 100)
	if err != nil {
		return 0, err
	}
	bot, n := false, 0
	for _, m := range lines {
		if !c.fresh(m) {
			continue
		}
		data, _ := json.Marshal(s.line(m))
		if err := s.write(rc, w, fmt.Sprintf("id: %d\nevent: line\ndata: %s\n\n", c.after, data)); err != nil {
			return 0, err
		}
		bot, n = bot || !m.In, n+1
	}
	if bot {
		if err := s.streamProgress(ctx, w, rc, id); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// lateWindow is how long after a line's time a line with a lower id may
// still commit (concurrent transactions on Postgres).
const lateWindow = 10 * time.Second

// cursor is what a page's stream has sent: the highest id, and the ids of
// the last lateWindow, so a line committed late is sent once, not lost.
type cursor struct {
	after  int64
	latest time.Time
	sent   map[int64]time.Time
}

func (c *cursor) since() time.Time {
	if c.latest.IsZero() {
		return time.Now().Add(time.Hour) // first read: by id only
	}
	return c.latest.Add(-lateWindow)
}

// fresh records m as sent, and says whether it was not sent before.
func (c *cursor) fresh(m storage.WebMessage) bool {
	if _, ok := c.sent[m.ID]; ok {
		return false
	}
	c.sent[m.ID] = m.Created
	c.after = max(c.after, m.ID)
	if m.Created.After(c.latest) {
		c.latest = m.Created
	}
	for id, at := range c.sent {
		if at.Before(c.latest.Add(-2 * lateWindow)) {
			delete(c.sent, id)
		}
	}
	return true
}

func (s *Server) streamProgress(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, id string) error {
	lang, accounts, _, err := s.chats.Progress(ctx, Platform, id)
	if err != nil {
		return err
	}
	if lang == "" {
		lang = s.engine.Pack().DefaultLanguage
	}
	items := s.engine.Checklist(lang, accounts)
	p := progressEvent{Header: s.engine.Pack().Message("status_header", lang), Items: items}
	if allDone(items) {
		p.AllDone = s.engine.Pack().Message("status_all_done", lang)
	}
	data, _ := json.Marshal(p)
	return s.write(rc, w, fmt.Sprintf("event: progress\ndata: %s\n\n", data))
}

type progressEvent struct {
	Header  string              `json:"header"`
	Items   []bot.ChecklistItem `json:"items"`
	AllDone string              `json:"all_done,omitempty"`
}

// write sends one event now; the server's write timeout is extended per
// write so a long-lived stream is not cut.
func (s *Server) write(rc *http.ResponseController, w http.ResponseWriter, chunk string) error {
	_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := w.Write([]byte(chunk)); err != nil {
		return err
	}
	return rc.Flush()
}
