package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"activation-bot/bot"
	"activation-bot/flows"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// site is the web front over a real database, with the queue's workers
// running so the bot answers as under serve.
type site struct {
	t      testing.TB
	DB     *storage.DB
	Queue  *storage.Queue
	Engine *bot.Engine
	Server *Server
	HTTP   *httptest.Server
}

// newSite starts the web front on d; the engine keeps tickets in d.
func newSite(t testing.TB, d storagetest.Database) *site {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pack, err := flows.Default()
	require.NoError(t, err)
	queue, err := storage.NewQueue(d.DB, log)
	require.NoError(t, err)
	engine, err := bot.NewEngine(bot.Config{Pack: pack, Store: storage.NewConversations(d.DB), Queue: queue, Logger: log,
		Helpdesk: bot.Helpdesk{Tickets: storage.NewTickets(d.DB, queue)}})
	require.NoError(t, err)
	srv, err := New(Config{Engine: engine, DB: d.DB, Queue: queue, Key: []byte(strings.Repeat("k", 32)),
		PublicURL: "http://localhost:8080", Logger: log})
	require.NoError(t, err)
	dispatcher := bot.NewDispatcher(engine, queue, map[string]bot.Sender{Platform: srv.Sender()}, log)
	queue.ComposeWith(engine, bot.QuietHours{})
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, queue.Start(ctx, dispatcher.Work))
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		require.NoError(t, queue.Stop(stop))
		cancel()
	})
	return &site{t: t, DB: d.DB, Queue: queue, Engine: engine, Server: srv, HTTP: hs}
}

// browser is an HTTP client with its own cookies that does not follow
// redirects, so tests see each answer.
type browser struct {
	t    testing.TB
	s    *site
	http *http.Client
}

func (s *site) browser() *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(s.t, err)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: s.t, s: s, http: c}
}

// get returns the status and body of a GET.
func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.http.Get(b.s.HTTP.URL + path)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp.StatusCode, string(body)
}

// post posts a form as a browser of the same origin would.
func (b *browser) post(path string, form url.Values) (int, string, *http.Response) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.s.HTTP.URL+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.s.HTTP.URL)
	resp, err := b.http.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp.StatusCode, string(body), resp
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the form token of the page at path.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	_, body := b.get(path)
	m := csrfRe.FindStringSubmatch(body)
	require.NotNil(b.t, m, "no csrf token on %s", path)
	return m[1]
}

// submit posts a form of the page at path, with that page's token.
func (b *browser) submit(page, action string, form url.Values) (int, string, *http.Response) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf(page))
	return b.post(action, form)
}

// consoleUser adds a console user with a password, as `admin add` and the
// setup link would.
func (s *site) consoleUser(name, role, password string) storage.ConsoleUser {
	s.t.Helper()
	c := storage.NewConsole(s.DB)
	u, err := c.AddUser(context.Background(), name, role)
	require.NoError(s.t, err)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(s.t, err)
	_, err = s.DB.ExecContext(context.Background(), s.DB.Rebind(`UPDATE console_users SET password_hash = ? WHERE id = ?`), string(hash), u.ID)
	require.NoError(s.t, err)
	u.PasswordHash = string(hash)
	return u
}

// login returns a browser logged in as a new console user of role.
func (s *site) login(name, role string) *browser {
	s.t.Helper()
	s.consoleUser(name, role, "correct horse battery")
	b := s.browser()
	status, _, resp := b.submit("/admin/login", "/admin/login", url.Values{"name": {name}, "password": {"correct horse battery"}})
	require.Equal(s.t, http.StatusSeeOther, status)
	require.Equal(s.t, "/admin", resp.Header.Get("Location"))
	return b
}

// student talks to the real engine: each step is a text, or a button when
// it starts with "!".
func (s *site) student(platform, user, locale, name string, steps ...string) {
	s.t.Helper()
	for _, step := range steps {
		in := bot.Inbound{Platform: platform, UserID: user, ChatID: user, LocaleHint: locale, Name: name, Text: step}
		if b, ok := strings.CutPrefix(step, "!"); ok {
			in.Text, in.ButtonID = "", b
		}
		_, err := s.Engine.Handle(context.Background(), in)
		require.NoError(s.t, err, "%s:%s %q", platform, user, step)
	}
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 20*time.Millisecond, what)
}
