package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/console"
	"activation-bot/adapters/slack"
	"activation-bot/adapters/slack/slacktest"
	"activation-bot/adapters/telegram"
	"activation-bot/adapters/telegram/telegramtest"
	"activation-bot/adapters/web"
	"activation-bot/bot"
	"activation-bot/flows"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

const termUser = "alice" // the student's terminal user (chat --user alice)

var brussels = mustLocation("Europe/Brussels")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// linkWorld is one bot instance on Telegram, in Slack, on the web page
// and in the terminal, over one database, as serve and chat run it. The
// engine and the stores read a clock the test moves; it stands in 2025,
// so River finds every reminder due at once and the engine's clock alone
// decides whether it is time yet.
type linkWorld struct {
	*world
	clock      *storagetest.Clock
	queue      *storage.Queue
	broadcasts *storage.Broadcasts
	term       *terminal
	browser    *browser
}

func newLinkWorld(t *testing.T, dbName string) *linkWorld {
	t.Helper()
	w := &linkWorld{world: &world{t: t, db: storagetest.Open(t, dbName).DB, tg: telegramtest.New(t), sl: slacktest.New(t)},
		clock: storagetest.NewClock(time.Date(2025, 9, 22, 15, 0, 0, 0, brussels))}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	pack, err := flows.Default()
	require.NoError(t, err)
	tg, err := telegram.New(telegram.Config{Token: w.tg.Token, APIURL: w.tg.URL, PerChat: fast, Overall: fast,
		PollTimeout: time.Second, ConflictWait: 10 * time.Millisecond, Logger: log})
	require.NoError(t, err)
	require.NoError(t, tg.Setup(ctx, nil))
	// As serve does: "/activation link" runs the engine's /link.
	var commands []string
	for name := range pack.Commands {
		commands = append(commands, name)
	}
	sl, err := slack.New(slack.Config{BotToken: slacktest.BotToken, AppToken: slacktest.AppToken, APIURL: w.sl.URL + "/api/",
		Commands: commands, PerChat: fast, Overall: fast, Logger: log})
	require.NoError(t, err)
	require.NoError(t, sl.Setup(ctx))

	w.queue, err = storage.NewQueue(w.db, log)
	require.NoError(t, err)
	w.broadcasts = storage.NewBroadcasts(w.queue)
	convs := storage.NewConversations(w.db).WithQueue(w.queue).SetClock(w.clock.Now)
	w.engine, err = bot.NewEngine(bot.Config{Pack: pack, Store: convs, Queue: w.queue, Clock: w.clock, Location: brussels, Logger: log})
	require.NoError(t, err)
	site, err := web.New(web.Config{Engine: w.engine, DB: w.db, Queue: w.queue, Key: []byte(strings.Repeat("k", 32)),
		PublicURL: "http://localhost:8080", Logger: log})
	require.NoError(t, err)
	senders := map[string]bot.Sender{telegram.Platform: tg.Sender(), slack.Platform: sl.Sender(), web.Platform: site.Sender()}
	d := bot.NewDispatcher(w.engine, w.queue, senders, log)
	w.queue.ComposeWith(w.engine, bot.QuietHours{})
	require.NoError(t, w.queue.Start(context.WithoutCancel(ctx), d.Work))
	t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		require.NoError(t, w.queue.Stop(stop))
	})
	go func() { _ = tg.Poll(ctx, w.engine) }()
	go func() { _ = sl.RunSocketMode(ctx, w.engine) }()
	hs := httptest.NewServer(site.Handler())
	t.Cleanup(hs.Close)
	w.browser = newBrowser(t, hs.URL)
	w.term = startTerminal(t, w.engine, termUser)

	w.sl.SetUser(slStudent, "en-US", "anna")
	w.sl.SetRealName(slStudent, "Anna Slack")
	return w
}

// tick moves the clock on a minute: each identity's last use is then a
// moment of its own, as it is between a student's devices.
func (w *linkWorld) tick() { w.clock.Set(w.clock.Now().Add(time.Minute)) }

// student is the one student behind an identity.
func (w *linkWorld) student(platform, userID string) int64 {
	w.t.Helper()
	id, err := w.db.StudentByIdentity(context.Background(), platform, userID)
	require.NoError(w.t, err, "%s:%s", platform, userID)
	return id
}

// webUser is the web identity's user id: the browser's cookie holds it,
// signed; the database names it.
func (w *linkWorld) webUser() string {
	w.t.Helper()
	var ids []string
	require.NoError(w.t, w.db.Select(&ids, `SELECT platform_user_id FROM identities WHERE platform = 'web'`))
	require.Len(w.t, ids, 1)
	return ids[0]
}

// slCommand runs "/activation text" in the student's DM with the app
// and returns the answer, which comes through the command's response_url.
func (w *linkWorld) slCommand(text string) string {
	w.t.Helper()
	before := len(w.sl.Calls("response_url"))
	w.sl.Command(w.t, slStudent, "/activation", text)
	w.eventually("the answer to /activation "+text, func() bool { return len(w.sl.Calls("response_url")) > before })
	calls := w.sl.Calls("response_url")
	return calls[len(calls)-1].Fields["text"]
}

func (w *linkWorld) slTexts() []string { return texts(w.sl.Posted("D" + slStudent)) }

func (w *linkWorld) tgTexts() []string {
	var out []string
	for _, c := range w.tgSends(tgStudent) {
		out = append(out, c.Fields["text"])
	}
	return out
}

func texts(calls []slacktest.Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.Fields["text"]
	}
	return out
}

// containing counts the texts that hold s.
func containing(texts []string, s string) int {
	n := 0
	for _, t := range texts {
		if strings.Contains(t, s) {
			n++
		}
	}
	return n
}

// sentOnOwn lists the platforms of what the bot sent on its own of kind
// (reminder, broadcast), as the database records each copy: a copy to the
// terminal would be listed though no fake could see it.
func (w *linkWorld) sentOnOwn(kind string) []string {
	w.t.Helper()
	var platforms []string
	require.NoError(w.t, w.db.Select(&platforms, w.db.Rebind(`SELECT platform FROM proactive_sends WHERE kind = ? ORDER BY id`), kind))
	return platforms
}

// pendingReminders counts the reminder jobs that will still run.
func (w *linkWorld) pendingReminders() int {
	w.t.Helper()
	var n int
	require.NoError(w.t, w.db.Get(&n, `SELECT COUNT(*) FROM river_job WHERE kind = 'reminder' AND state NOT IN ('completed', 'cancelled', 'discarded')`))
	return n
}

// everyone is the segment "all".
func (w *linkWorld) everyone() bot.Segment {
	w.t.Helper()
	all, err := bot.ParseSegment("all", w.engine.Pack(), brussels)
	require.NoError(w.t, err)
	return all
}

// broadcast sends text to every student now and waits until its copies
// are handed on and delivered.
func (w *linkWorld) broadcast(text string) int64 {
	w.t.Helper()
	ctx := context.Background()
	id, err := w.broadcasts.Create(ctx, bot.Broadcast{Segment: w.everyone(), CreatedBy: "console:admin",
		Texts: map[string]string{"en": text}, SendAt: time.Now()})
	require.NoError(w.t, err)
	w.eventually("broadcast "+text+" sent", func() bool {
		b, _, err := w.broadcasts.Get(ctx, id)
		require.NoError(w.t, err)
		return b.Status == bot.BroadcastSent
	})
	storagetest.Settle(w.t, w.db)
	return id
}

var linkCodeRe = regexp.MustCompile(`link code:\W*([2-9A-HJKMNP-Z]{8})`)

// linkCode reads the code a /link answer shows, as the student does.
func linkCode(t *testing.T, text string) string {
	t.Helper()
	m := linkCodeRe.FindStringSubmatch(text)
	require.NotNil(t, m, "no link code in %q", text)
	return m[1]
}

// TestOneStudentOnEveryDevice links the terminal, Telegram, Slack and the
// web page into one student through the real adapters: the progress made
// on one shows on the others, and what the bot sends on its own (a
// reminder, broadcasts) reaches that student once, on the identity used
// last that can be reached, or the one chosen with /link prefer.
func TestOneStudentOnEveryDevice(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		w := newLinkWorld(t, d.Name)
		ctx := context.Background()

		// The terminal: the Odisee e-mail came 10 minutes ago, so the wait
		// ends at 17:50; then a link code.
		w.term.say("hello")
		w.term.press("start_activation")
		w.term.press("emails_both")
		require.Contains(t, w.term.say("it came 10 minutes ago")[0].Text, "from 17:50")
		code := linkCode(t, w.term.sayIntent("/link", bot.IntentLinkCode).Text)

		// Telegram takes the terminal's code: one student, and the
		// terminal's progress is Telegram's.
		w.tick()
		w.tgSay("/start", 1)
		w.tgSay(code, 1)
		linked := w.tgLast(tgStudent)
		require.Contains(t, linked, "Linked with the terminal chat (alice)")
		require.Contains(t, linked, "⏳ Odisee account: wait until 17:50")
		require.Equal(t, w.student(console.Platform, termUser), w.student(telegram.Platform, strconv.FormatInt(tgStudent, 10)))

		// Slack takes Telegram's code; Telegram is told.
		w.tick()
		w.tgSay("/link", 1)
		code = linkCode(t, w.tgLast(tgStudent))
		w.slSay(code, 1)
		linked = lastSlack(w.sl.Posted("D" + slStudent))
		require.Contains(t, linked, "Linked with Telegram (Tom Telegram)")
		require.Contains(t, linked, "⏳ Odisee account: wait until 17:50")
		slUser := slacktest.TeamID + ":" + slStudent
		require.Equal(t, w.student(telegram.Platform, strconv.FormatInt(tgStudent, 10)), w.student(slack.Platform, slUser))
		w.eventually("Telegram told of the link", func() bool {
			return strings.Contains(w.tgLast(tgStudent), "Slack (Anna Slack) is now linked with this chat")
		})

		// The web page takes Slack's code (/activation link answers only
		// the student, through the command's response_url).
		w.tick()
		code = linkCode(t, w.slCommand("link"))
		w.browser.say(code, 1)
		page := w.browser.page()
		require.Contains(t, page, "Linked with Slack (Anna Slack)")
		require.Contains(t, page, `class="state-waiting" data-account="odisee"`, "the page's checklist has the terminal's wait")
		student := w.student(slack.Platform, slUser)
		require.Equal(t, student, w.student(web.Platform, w.webUser()))
		w.eventually("Slack told of the link", func() bool {
			return strings.Contains(lastSlack(w.sl.Posted("D"+slStudent)), "the web page is now linked with this chat")
		})
		rec, err := w.db.Student(ctx, student)
		require.NoError(t, err)
		require.Len(t, rec.Identities, 4, "the terminal, Telegram, Slack and the web page")

		// Progress on the web page shows in Slack and in the terminal. The
		// KU Leuven steps are opened by name (a deep link's payload), so
		// where the merged conversation stands does not matter.
		w.tick()
		w.browser.say("/start kuleuven", 1)
		w.browser.press("kuleuven_done", 2)
		require.Contains(t, w.browser.page(), `class="state-done" data-account="kuleuven"`)
		w.tick()
		status := w.slCommand("status")
		require.Contains(t, status, "✅ account of the KU Leuven association: activated")
		require.Contains(t, status, "⏳ Odisee account: wait until 17:50")
		// The terminal is used last: it cannot be written to first, so the
		// bot's own messages go to Slack, used before it.
		w.tick()
		status = w.term.sayIntent("/status", bot.IntentStatus).Text
		require.Contains(t, status, "✅ account of the KU Leuven association: activated")
		require.Contains(t, status, "⏳ Odisee account: wait until 17:50")

		// The wait ends: one reminder, in Slack. The reminders scheduled
		// for the students merged away are dropped, not sent elsewhere.
		storagetest.Settle(t, w.db)
		tgBefore, webBefore := len(w.tgSends(tgStudent)), w.browser.botLines()
		const over = "The wait is over: you can activate your Odisee account now."
		w.clock.Set(time.Date(2025, 9, 22, 17, 51, 0, 0, brussels))
		w.eventually("the reminder in Slack", func() bool { return containing(w.slTexts(), over) > 0 })
		w.eventually("no reminder left to run", func() bool { return w.pendingReminders() == 0 })
		storagetest.Settle(t, w.db)
		require.Equal(t, 1, containing(w.slTexts(), over), "one reminder")
		require.Equal(t, []string{slack.Platform}, w.sentOnOwn("reminder"), "one reminder, on no other identity")
		require.Len(t, w.tgSends(tgStudent), tgBefore, "nothing on Telegram")
		require.Equal(t, webBefore, w.browser.botLines(), "nothing on the web page")

		// A broadcast counts the student once and goes to Slack.
		audience, err := w.broadcasts.Audience(ctx, w.everyone())
		require.NoError(t, err)
		require.Equal(t, bot.Audience{slack.Platform: {"en": 1}}, audience)
		const first, second = "Welcome day is on Monday.", "The campus is closed on Friday."
		w.broadcast(first)
		require.Equal(t, 1, containing(w.slTexts(), first))
		require.Equal(t, []string{slack.Platform}, w.sentOnOwn("broadcast"))
		require.Len(t, w.tgSends(tgStudent), tgBefore, "nothing on Telegram")
		require.Equal(t, webBefore, w.browser.botLines(), "nothing on the web page")

		// Telegram is chosen: the next broadcast goes there, though Slack
		// is used after.
		w.tick()
		w.tgSay("/link prefer", 1)
		require.Contains(t, w.tgLast(tgStudent), "come to Telegram (Tom Telegram) from now on")
		w.tick()
		w.slCommand("status")
		storagetest.Settle(t, w.db)
		slBefore, tgBefore := len(w.sl.Posted("D"+slStudent)), len(w.tgSends(tgStudent))
		w.broadcast(second)
		require.Equal(t, []string{second}, w.tgTexts()[tgBefore:])
		require.Len(t, w.sl.Posted("D"+slStudent), slBefore, "nothing more in Slack")
		require.Equal(t, webBefore, w.browser.botLines(), "nothing on the web page")
		require.Equal(t, []string{slack.Platform, telegram.Platform}, w.sentOnOwn("broadcast"))
	})
}

// ---- the terminal ----

// terminal runs the console adapter's chat as `activation-bot chat --json
// --user alice` does. Run reads a line only after it answered the one
// before, so a read after a line says the line is answered.
type terminal struct {
	t        *testing.T
	lines    chan string
	answered chan struct{}
	exited   chan error
	quit     chan struct{}
	pending  []byte
	started  bool // a line was given: the next read means it is answered

	mu  sync.Mutex
	out bytes.Buffer
}

func startTerminal(t *testing.T, engine console.Handler, user string) *terminal {
	c := &terminal{t: t, lines: make(chan string), answered: make(chan struct{}), exited: make(chan error, 1), quit: make(chan struct{})}
	chat := &console.Chat{Engine: engine, UserID: user, JSON: true, In: c, Out: c}
	go func() { c.exited <- chat.Run(context.Background()) }()
	t.Cleanup(func() { close(c.quit) })
	return c
}

// Read is the chat's standard input.
func (c *terminal) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		if c.started {
			select {
			case c.answered <- struct{}{}:
			case <-c.quit:
				return 0, io.EOF
			}
		}
		select {
		case line := <-c.lines:
			c.pending, c.started = []byte(line+"\n"), true
		case <-c.quit:
			return 0, io.EOF
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// Write is the chat's standard output.
func (c *terminal) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

// say types a line and returns the bot's answers to it.
func (c *terminal) say(line string) []bot.Outbound {
	c.t.Helper()
	c.mu.Lock()
	from := c.out.Len()
	c.mu.Unlock()
	timeout := time.After(20 * time.Second)
	for _, step := range []func() bool{
		func() bool {
			select {
			case c.lines <- line:
				return true
			case <-timeout:
				return false
			}
		},
		func() bool {
			select {
			case <-c.answered:
				return true
			case <-timeout:
				return false
			}
		},
	} {
		if !step() {
			select {
			case err := <-c.exited:
				c.t.Fatalf("the terminal chat ended at %q: %v", line, err)
			default:
				c.t.Fatalf("the terminal chat did not answer %q", line)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []bot.Outbound
	dec := json.NewDecoder(bytes.NewReader(c.out.Bytes()[from:]))
	for dec.More() {
		var m bot.Outbound
		require.NoError(c.t, dec.Decode(&m))
		out = append(out, m)
	}
	require.NotEmpty(c.t, out, "no answer to %q", line)
	return out
}

// press presses a button of the last answers.
func (c *terminal) press(id string) []bot.Outbound {
	c.t.Helper()
	return c.say(fmt.Sprintf(`{"button":%q}`, id))
}

// sayIntent types a line and returns its answer of intent.
func (c *terminal) sayIntent(line, intent string) bot.Outbound {
	c.t.Helper()
	replies := c.say(line)
	for _, r := range replies {
		if r.Intent == intent {
			return r
		}
	}
	c.t.Fatalf("no %s answer to %q: %+v", intent, line, replies)
	return bot.Outbound{}
}

// ---- the web page ----

// browser is the student's browser on the chat page, without script: it
// posts the page's forms and reads the page, with its cookies.
type browser struct {
	t      *testing.T
	base   string
	http   *http.Client
	events int
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: t, base: base, http: c}
}

// page returns the chat page, unescaped to read as the student does.
func (b *browser) page() string {
	b.t.Helper()
	resp, err := b.http.Get(b.base + "/")
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	require.Equal(b.t, http.StatusOK, resp.StatusCode)
	return html.UnescapeString(string(body))
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// botLines counts the bot's lines on the page (the intro before the
// first message is not one).
func (b *browser) botLines() int { return strings.Count(b.page(), `<li class="line out" id=`) }

func (b *browser) say(text string, n int) { b.post(url.Values{"text": {text}}, n) }

func (b *browser) press(button string, n int) { b.post(url.Values{"button": {button}}, n) }

// post sends a form of the page and waits for n more lines of the bot.
func (b *browser) post(form url.Values, n int) {
	b.t.Helper()
	page := b.page()
	before := strings.Count(page, `<li class="line out" id=`)
	m := csrfRe.FindStringSubmatch(page)
	require.NotNil(b.t, m, "no form token on the page")
	b.events++
	form.Set("csrf", m[1])
	form.Set("event", "e"+strconv.Itoa(b.events))
	req, err := http.NewRequest(http.MethodPost, b.base+"/say", strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	resp, err := b.http.Do(req)
	require.NoError(b.t, err)
	resp.Body.Close()
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode)
	require.Eventually(b.t, func() bool { return b.botLines() >= before+n }, 20*time.Second, 20*time.Millisecond,
		"the answer on the web page to %v", form)
}
