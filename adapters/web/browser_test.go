package web

// Browser tests: Debian's chromium, headless, drives the chat page and the
// console as a student and an admin would. They run on SQLite only (the
// handler tests cover both databases) and never in parallel: CI has two
// cores and each test starts a browser.
//
// Every page visited is saved as a full-page PNG in $TEST_OUTPUT_DIR, or
// else in $TMPDIR/activation-bot-screenshots. UPDATE_README_SCREENSHOTS=1
// also writes the README's docs/screenshots/*.png.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

const (
	// stepTimeout bounds each browser step, so a hang fails the test
	// instead of blocking CI.
	stepTimeout = 30 * time.Second
	// browserTimeout bounds a whole browser session.
	browserTimeout = 3 * time.Minute
)

// chromiumPath is the browser to drive: $CHROMIUM or Debian's package.
// Without it the test fails under CI=true and skips elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no chromium at %s but CI=true: the browser tests must run in CI (apt-get install chromium)", path)
		}
		t.Skipf("no chromium at %s: install Debian's package (apt-get install chromium) or set CHROMIUM to run the browser tests", path)
	}
	return path
}

// screenshotDir is where the tests save their screenshots.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TEST_OUTPUT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "activation-bot-screenshots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// updateReadme says whether to rewrite the README's screenshots.
func updateReadme() bool { return os.Getenv("UPDATE_README_SCREENSHOTS") == "1" }

// chrome is one headless chromium for one test.
type chrome struct {
	t     *testing.T
	ctx   context.Context // the browser's first tab
	base  string          // the site's URL
	shots string

	mu         sync.Mutex
	exceptions []string
}

func newChrome(t *testing.T, base string) *chrome {
	t.Helper()
	path := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	t.Cleanup(cancel)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		// Closes the browser and waits for it, before t.TempDir goes.
		_ = chromedp.Cancel(bctx)
		bcancel()
	})
	// The first run starts the browser: on the untimed context, so a
	// step's timeout does not end the browser with the step.
	require.NoError(t, chromedp.Do(bctx), "start chromium")
	c := &chrome{t: t, ctx: bctx, base: base, shots: screenshotDir(t)}
	c.watch(bctx)
	t.Logf("browser screenshots: %s", c.shots)
	return c
}

// watch records the page's errors; the test fails on any.
func (c *chrome) watch(ctx context.Context) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			// An error is a script error, a resource that failed to load
			// (not the favicon, which the pages do not have) or a blocked
			// content security policy.
			if m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError && !strings.Contains(m.URL, "/favicon.ico") {
				c.mu.Lock()
				c.exceptions = append(c.exceptions, fmt.Sprintf("%s %s (%s)", m.Type, m.Text, m.URL))
				c.mu.Unlock()
			}
		}
	}()
	c.t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.exceptions) > 0 {
			c.t.Errorf("errors on the page: %s", strings.Join(c.exceptions, "; "))
		}
	})
}

// tab is one browser tab; a tab of its own browser context has its own
// cookies, so it is another person.
type tab struct {
	c    *chrome
	ctx  context.Context
	name string
}

// tab returns the browser's first tab.
func (c *chrome) first(name string) *tab { return &tab{c: c, ctx: c.ctx, name: name} }

// person opens a tab in a fresh browser context: new cookies, new person.
func (c *chrome) person(name string) *tab {
	c.t.Helper()
	ctx, cancel := chromedp.NewContext(c.ctx, chromedp.WithNewBrowserContext())
	c.t.Cleanup(cancel)
	require.NoError(c.t, chromedp.Do(ctx), "open a tab for %s", name)
	c.watch(ctx)
	return &tab{c: c, ctx: ctx, name: name}
}

// do runs steps within stepTimeout; on failure it saves a screenshot of
// the page as it was.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.c.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.failed(what, err)
	}
}

// get runs one action that returns a value, within stepTimeout.
func get[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.c.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.failed(what, err)
	}
	return v
}

func (b *tab) failed(what string, err error) {
	b.c.t.Helper()
	name := "failed-" + b.name
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within %s: %w", stepTimeout, err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr == nil {
		_ = os.WriteFile(filepath.Join(b.c.shots, name+".png"), png, 0o644)
	}
	html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
	b.c.t.Fatalf("%s (%s): %v\npage (screenshot %s.png):\n%s", what, b.name, err, name, html)
}

// open loads a page of the site.
func (b *tab) open(path string, waitFor string) {
	b.c.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.c.base+path), chromedp.WaitVisible(chromedp.CSS(waitFor)))
}

// shot saves a full-page screenshot as name.png; readme, when set and
// UPDATE_README_SCREENSHOTS=1, is the README's copy under docs/screenshots,
// of the window only.
func (b *tab) shot(name, readme string) {
	b.c.t.Helper()
	// The mouse leaves the button it pressed, which would show as hovered.
	b.do("move the mouse away", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 0, 0))
	png := get(b, "screenshot "+name, chromedp.FullScreenshot(100))
	require.NoError(b.c.t, os.WriteFile(filepath.Join(b.c.shots, name+".png"), png, 0o644))
	if readme != "" && updateReadme() {
		// The README shows what a laptop's window shows.
		png = get(b, "screenshot "+readme, chromedp.CaptureScreenshot())
		dir := filepath.Join("..", "..", "docs", "screenshots")
		require.NoError(b.c.t, os.MkdirAll(dir, 0o755))
		require.NoError(b.c.t, os.WriteFile(filepath.Join(dir, readme), png, 0o644))
		b.c.t.Logf("wrote docs/screenshots/%s", readme)
	}
}

// answer is the selector of the answer button with id value, ready to press.
func answer(id string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`#answers button[name="button"][value=%q]:not([disabled])`, id))
}

// press clicks the answer button id, once the bot offers it, and waits
// until the bot offers next (or, when next starts with a '#' or a '.', for
// that element).
func (b *tab) press(id, next string) {
	b.c.t.Helper()
	want := answer(next)
	if strings.HasPrefix(next, "#") || strings.HasPrefix(next, ".") {
		want = chromedp.CSS(next)
	}
	b.do("press "+id+", then wait for "+next,
		chromedp.WaitVisible(answer(id)),
		chromedp.Click(answer(id)),
		chromedp.WaitVisible(want))
}

// lastBot is the text of the bot's last message on the page.
func (b *tab) lastBot() string {
	b.c.t.Helper()
	return get(b, "read the bot's last message", chromedp.Text(chromedp.CSS(`#log li.line.out:last-child .bubble`)))
}

// waitBot waits until a message of the bot matches the regular expression
// re, and returns its first group.
func (b *tab) waitBot(re string) string {
	b.c.t.Helper()
	js := fmt.Sprintf(`(() => {
		const re = new RegExp(%q);
		for (const el of document.querySelectorAll('#log li.line.out .bubble')) {
			const m = el.textContent.match(re);
			if (m) { return m[1] || m[0]; }
		}
		return "";
	})()`, re)
	return get(b, "wait for the bot to say "+re, chromedp.Poll[string](js, chromedp.WithPollingInterval(50*time.Millisecond)))
}

// waitText is an action that waits until the element sel holds text. It
// asks again until then, also across a page load (which ends a poll
// running in the page).
func (b *tab) waitText(sel, text string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && el.textContent.includes(%q); })()`, sel, text)
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if ok, err := chromedp.Evaluate[bool](js)(ctx, tg); err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%q never showed %q: %w", sel, text, ctx.Err())
			case <-tick.C:
			}
		}
	})
}

// waitDone waits until the progress checklist shows account done: the
// progress event follows the bot's lines, so it may come a moment later.
func (b *tab) waitDone(account string) {
	b.c.t.Helper()
	b.do("wait for "+account+" done in the checklist", chromedp.WaitVisible(
		chromedp.CSS(fmt.Sprintf(`#checklist li.state-done[data-account=%q]`, account))))
}

// checklist returns the progress list as account → state class.
func (b *tab) checklist() map[string]string {
	b.c.t.Helper()
	return get(b, "read the checklist", chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll('#checklist li')].map(li => [li.dataset.account, li.className]))`))
}

// noPhantomScroll checks that the page scrolls no further than its body:
// nothing hidden sticks out below it.
func (b *tab) noPhantomScroll() {
	b.c.t.Helper()
	h := get(b, "measure the page", chromedp.Evaluate[[]float64](
		`[document.documentElement.scrollHeight, Math.max(document.body.scrollHeight, innerHeight)]`))
	require.LessOrEqual(b.c.t, h[0], h[1]+1, "the page scrolls %v px beyond its body", h[0]-h[1])
}

// desktop is the size of a laptop's browser window.
func (b *tab) desktop() {
	b.c.t.Helper()
	b.do("size the window", chromedp.EmulateViewport(1280, 900))
}

// TestBrowserStudentAndConsole: a student activates both accounts on the
// chat page with JavaScript, a phone shows the page, and an admin logs in
// to the console and visits its pages, on one site.
func TestBrowserStudentAndConsole(t *testing.T) {
	s := newSite(t, storagetest.Open(t, "sqlite"))
	c := newChrome(t, s.HTTP.URL)

	// The student, on a desktop window.
	st := c.first("student")
	st.desktop()
	st.open("/", `#answers button.primary`)
	st.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__marker = 1`))
	st.shot("chat-start", "")
	st.do("press Start",
		chromedp.Click(chromedp.CSS(`#answers button.primary`)),
		chromedp.WaitVisible(answer("start_activation")))
	require.Contains(t, st.lastBot(), "activation assistant of Odisee")
	st.press("start_activation", "emails_both")
	require.Contains(t, st.lastBot(), "Have you received both activation e-mails?")
	st.press("emails_both", "odisee_ready")
	st.press("odisee_ready", "odisee_done")
	require.Contains(t, st.lastBot(), "activate your Odisee account")
	st.press("odisee_done", "kuleuven_done")
	require.Contains(t, st.lastBot(), "activate your account of the KU Leuven association")
	st.waitDone("odisee")
	require.Equal(t, map[string]string{"odisee": "state-done", "kuleuven": "state-todo"}, st.checklist())
	st.shot("chat-step", "chat.png")
	st.press("kuleuven_done", "#all-done")
	require.Contains(t, st.lastBot(), "Your accounts have been activated!")
	require.Equal(t, map[string]string{"odisee": "state-done", "kuleuven": "state-done"}, st.checklist())
	marker := get(st, "read the marker", chromedp.Evaluate[int](`window.__marker || 0`))
	require.Equal(t, 1, marker, "the page answered without reloading")
	st.do("scroll to the end", chromedp.Evaluate[chromedp.Void](`document.getElementById('log').scrollTop = 1e9`))
	st.noPhantomScroll()
	st.shot("chat-done", "")

	// Another student, on a phone.
	phone := c.person("phone")
	phone.do("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	phone.open("/", `#answers button.primary`)
	phone.shot("chat-phone-start", "")
	phone.do("press Start on the phone",
		chromedp.Click(chromedp.CSS(`#answers button.primary`)),
		chromedp.WaitVisible(answer("start_activation")))
	phone.press("start_activation", "emails_both")
	phone.noPhantomScroll()

	// The phone's student reports a problem: the helpdesk gets a ticket.
	phone.press("report", "problem:other")
	phone.press("problem:other", "report_cancel")
	phone.do("describe the problem",
		chromedp.SendKeys(chromedp.ID("text"), "My activation e-mails went to an old address"),
		chromedp.Click(chromedp.CSS(`#say button[type="submit"]`)))
	ticket := phone.waitBot(`Your report is ticket #(\d+)`)
	phone.shot("chat-phone-ticket", "")
	t.Logf("the student's ticket: #%s", ticket)
	phone.shot("chat-phone", "")

	// The admin.
	s.consoleUser("ada", storage.RoleAdmin, "correct horse battery")
	admin := c.person("admin")
	admin.desktop()
	admin.open("/admin/login", `input[name="name"]`)
	admin.shot("console-login", "")
	admin.do("log in",
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "ada"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label="Console"]`)))
	where := get(admin, "read the location", chromedp.Location())
	require.Equal(t, s.HTTP.URL+"/admin/funnel", where, "an admin lands on the funnel")
	// The funnel counts both students; the first completed.
	require.Equal(t, "2", get(admin, "read the students", chromedp.Text(chromedp.ID("students-total"))))
	require.Equal(t, "1", get(admin, "read the completed", chromedp.Text(chromedp.ID("students-completed"))))
	admin.shot("console-funnel", "funnel.png")
	for _, page := range []string{"tickets", "broadcasts", "students", "content", "users"} {
		admin.open("/admin/"+page, fmt.Sprintf(`nav a[href="/admin/%s"][aria-current="page"]`, page))
		admin.shot("console-"+page, "")
	}

	// The admin claims the phone student's ticket, answers and resolves
	// it; the student reads each step in the chat as it happens.
	href := "/admin/tickets/" + ticket
	admin.open("/admin/tickets", fmt.Sprintf(`a[href=%q]`, href))
	admin.do("open the ticket",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href=%q]`, href))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`form[action="%s/claim"]`, href))))
	require.Contains(t, get(admin, "read the description", chromedp.Text(chromedp.CSS(`main pre`))), "My activation e-mails went to an old address")
	admin.shot("console-ticket", "")
	admin.do("claim",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="%s/claim"] button`, href))),
		admin.waitText(`main dd .badge`, "claimed"))
	phone.waitBot(`(A helpdesk colleague is looking at ticket #` + ticket + `)`)
	admin.do("answer",
		chromedp.SendKeys(chromedp.CSS(`textarea[name="text"]`), "We sent the e-mails again, to your new address."),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="%s/reply"] button[type="submit"]`, href))),
		admin.waitText(`section[aria-labelledby="messages-h"]`, "We sent the e-mails again, to your new address."))
	phone.waitBot(`(We sent the e-mails again, to your new address\.)`)
	admin.do("resolve",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="%s/resolve"] button`, href))),
		admin.waitText(`main dd .badge`, "resolved"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`form[action="%s/reopen"]`, href))))
	phone.waitBot(`(The helpdesk closed ticket #` + ticket + ` as solved)`)
	admin.shot("console-ticket-resolved", "")
	phone.shot("chat-phone-helpdesk", "")

	// The admin composes a broadcast to every student and reaches its
	// preview: both students of this site get it.
	admin.open("/admin/broadcasts/new", `form[action="/admin/broadcasts/preview"]`)
	admin.do("compose a broadcast",
		chromedp.Click(chromedp.CSS(`input[name="audience"][value="all"]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="text_en"]`), "The welcome day starts at 9:00 in the main hall."))
	admin.shot("console-broadcast-new", "")
	admin.do("preview the broadcast",
		chromedp.Click(chromedp.CSS(`form[action="/admin/broadcasts/preview"] button[type="submit"].primary`)),
		chromedp.WaitVisible(chromedp.ID("total")))
	require.Equal(t, "2", get(admin, "read the recipients", chromedp.Text(chromedp.ID("total"))), "both students get it")
	require.Contains(t, get(admin, "read the heading", chromedp.Text(chromedp.CSS(`main h2`))), "Recipients: 2")
	admin.shot("console-broadcast-preview", "")
}

// TestBrowserWithoutJavaScript: with scripts off, the forms post and the
// page reloads with the bot's reply.
func TestBrowserWithoutJavaScript(t *testing.T) {
	s := newSite(t, storagetest.Open(t, "sqlite"))
	c := newChrome(t, s.HTTP.URL)
	st := c.first("no-js")
	st.desktop()
	st.do("disable scripts", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	st.open("/", `#answers button.primary`)
	st.do("press Start",
		chromedp.Click(chromedp.CSS(`#answers button.primary`)),
		chromedp.WaitVisible(answer("start_activation")))
	require.Contains(t, st.lastBot(), "activation assistant of Odisee")
	require.Equal(t, s.HTTP.URL+"/#latest", get(st, "read the location", chromedp.Location()), "the form posted and the page reloaded")
	st.press("start_activation", "emails_both")
	require.Contains(t, st.lastBot(), "Have you received both activation e-mails?")
	st.shot("chat-no-js", "")
}

// TestBrowserLinksAnotherDevice: a student presses Link another device
// (the script asks, the page does not reload), reads the code, and types
// it in another browser: both are one student.
func TestBrowserLinksAnotherDevice(t *testing.T) {
	s := newSite(t, storagetest.Open(t, "sqlite"))
	c := newChrome(t, s.HTTP.URL)
	laptop := c.first("laptop")
	laptop.desktop()
	laptop.open("/", `#answers button.primary`)
	laptop.do("press Start",
		chromedp.Click(chromedp.CSS(`#answers button.primary`)),
		chromedp.WaitVisible(answer("start_activation")),
		chromedp.WaitVisible(chromedp.CSS(`#link button`)),
		chromedp.Evaluate[chromedp.Void](`window.__marker = 1`),
		chromedp.Click(chromedp.CSS(`#link button`)))
	code := laptop.waitBot(`Your link code: ([0-9A-Z]{8})`)
	require.Equal(t, 1, get(laptop, "read the marker", chromedp.Evaluate[int](`window.__marker || 0`)), "no reload")
	laptop.shot("chat-link-code", "")

	phone := c.person("phone")
	phone.open("/", `#say`)
	phone.do("type the code",
		chromedp.SendKeys(chromedp.ID("text"), code),
		chromedp.Click(chromedp.CSS(`#say button[type="submit"]`)))
	phone.waitBot(`(Linked with)`)
	phone.shot("chat-linked", "")
	var n int
	require.NoError(t, s.DB.Get(&n, `SELECT COUNT(DISTINCT student_id) FROM identities WHERE platform = 'web'`))
	require.Equal(t, 1, n, "one student")

	// An admin unlinks the phone again, from the student's page.
	var student int64
	require.NoError(t, s.DB.Get(&student, `SELECT student_id FROM identities WHERE platform = 'web' LIMIT 1`))
	s.consoleUser("ada", storage.RoleAdmin, "correct horse battery")
	admin := c.person("admin")
	admin.desktop()
	admin.open("/admin/login", `input[name="name"]`)
	admin.do("log in",
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "ada"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label="Console"]`)))
	admin.open(fmt.Sprintf("/admin/students/%d", student), `a.button.danger`)
	admin.shot("console-student-linked", "")
	admin.do("open the unlink page",
		chromedp.Click(chromedp.CSS(`tbody tr:last-child a.button.danger`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="confirm"]`)))
	admin.shot("console-unlink", "")
	admin.do("unlink",
		chromedp.Click(chromedp.CSS(`input[name="confirm"]`)),
		chromedp.Click(chromedp.CSS(`form button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	require.Contains(t, get(admin, "read the flash", chromedp.Text(chromedp.CSS(`.flash`))), "Identity unlinked")
	admin.shot("console-student-unlinked", "")
	require.NoError(t, s.DB.Get(&n, `SELECT COUNT(DISTINCT student_id) FROM identities WHERE platform = 'web'`))
	require.Equal(t, 2, n, "two students again")
}
