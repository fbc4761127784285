package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// press posts a button of the chat page as a plain form does (no script):
// the answer is a redirect once the bot replied.
func (b *browser) press(button string) {
	b.t.Helper()
	status, _, resp := b.submit("/", "/say", url.Values{"button": {button}, "event": {newID()}})
	require.Equal(b.t, http.StatusSeeOther, status)
	require.NotContains(b.t, resp.Header.Get("Location"), "n=", "the reply came in time")
}

func (b *browser) say(text string) {
	b.t.Helper()
	status, _, resp := b.submit("/", "/say", url.Values{"text": {text}, "event": {newID()}})
	require.Equal(b.t, http.StatusSeeOther, status)
	require.NotContains(b.t, resp.Header.Get("Location"), "n=", "the reply came in time")
}

func TestChatPageWalksThroughBothActivationsWithoutScript(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		b := s.browser()
		status, body := b.get("/")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, `<html lang="en">`)
		require.Contains(t, body, `name="start"`, "a first visit offers Start")

		status, _, _ = b.submit("/", "/say", url.Values{"start": {"1"}})
		require.Equal(t, http.StatusSeeOther, status)
		_, body = b.get("/")
		require.Contains(t, body, "activation assistant of Odisee")
		require.Contains(t, body, `<div class="bubble">Start</div>`, "the Start button shows as its word, not /start")
		require.Contains(t, body, `name="button" value="start_activation"`)
		for _, button := range []string{"start_activation", "emails_both", "odisee_ready", "odisee_done"} {
			b.press(button)
		}
		_, body = b.get("/")
		require.Contains(t, body, `class="state-done" data-account="odisee"`)
		require.Contains(t, body, `class="state-todo" data-account="kuleuven"`)
		require.Contains(t, body, `id="all-done" class="all-done" hidden`)
		require.Contains(t, body, "Done, it worked", "the student's press shows as its label")

		b.press("kuleuven_done")
		_, body = b.get("/")
		require.Contains(t, body, `class="state-done" data-account="kuleuven"`)
		require.NotContains(t, body, `id="all-done" class="all-done" hidden`)
		require.Contains(t, body, "All your accounts are active")
	})
}

func TestChatPageLanguage(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		b := s.browser()
		req, err := http.NewRequest(http.MethodGet, s.HTTP.URL+"/", nil)
		require.NoError(t, err)
		req.Header.Set("Accept-Language", "fr-BE,fr;q=0.9,en;q=0.5")
		resp, err := b.http.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		_, body := b.getLang("/", "nl-BE,nl;q=0.9")
		require.Contains(t, body, `<html lang="nl">`)
		require.Contains(t, body, "Activeer je accounts")

		// The browser's language is the bot's first guess too.
		status, _, _ := b.submitLang("nl-BE", url.Values{"text": {"/start"}, "event": {newID()}})
		require.Equal(t, http.StatusSeeOther, status)
		_, body = b.getLang("/", "en")
		require.Contains(t, body, `<html lang="nl">`, "the conversation's language wins once chosen")
		require.Contains(t, body, "Hallo")

		// Switching on the page switches the bot as well.
		status, _, _ = b.submit("/", "/language", url.Values{"lang": {"fr"}})
		require.Equal(t, http.StatusSeeOther, status)
		_, body = b.get("/")
		require.Contains(t, body, `<html lang="fr">`)
		require.Contains(t, body, "Ta progression")
		lang, _, _, err := storage.NewWebChats(s.DB).Progress(context.Background(), Platform, b.studentID())
		require.NoError(t, err)
		require.Equal(t, "fr", lang)

		status, _, _ = b.submit("/", "/language", url.Values{"lang": {"de"}})
		require.Equal(t, http.StatusBadRequest, status)
	})
}

func (b *browser) getLang(path, accept string) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.s.HTTP.URL+path, nil)
	require.NoError(b.t, err)
	req.Header.Set("Accept-Language", accept)
	resp, err := b.http.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	var sb strings.Builder
	_, err = bufio.NewReader(resp.Body).WriteTo(&sb)
	require.NoError(b.t, err)
	return resp.StatusCode, sb.String()
}

func (b *browser) submitLang(accept string, form url.Values) (int, string, *http.Response) {
	b.t.Helper()
	form.Set("csrf", b.csrf("/"))
	req, err := http.NewRequest(http.MethodPost, b.s.HTTP.URL+"/say", strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", accept)
	resp, err := b.http.Do(req)
	require.NoError(b.t, err)
	resp.Body.Close()
	return resp.StatusCode, "", resp
}

// studentID is the web identity the browser's cookie holds.
func (b *browser) studentID() string {
	b.t.Helper()
	u, err := url.Parse(b.s.HTTP.URL)
	require.NoError(b.t, err)
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == studentCookie {
			var id string
			require.NoError(b.t, b.s.Server.codec.Decode(studentCookie, c.Value, &id))
			return id
		}
	}
	b.t.Fatal("no student cookie")
	return ""
}

func TestChatPageRefusesForgedPosts(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		b := s.browser()
		b.get("/") // the form cookie
		status, body, _ := b.post("/say", url.Values{"text": {"hello"}})
		require.Equal(t, http.StatusForbidden, status)
		require.Contains(t, body, "open too long")
		status, _, _ = b.post("/say", url.Values{"text": {"hello"}, "csrf": {"forged"}})
		require.Equal(t, http.StatusForbidden, status)

		// Another site's page cannot post, whatever it holds.
		form := url.Values{"text": {"hello"}, "csrf": {b.csrf("/")}}
		req, err := http.NewRequest(http.MethodPost, s.HTTP.URL+"/say", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := b.http.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode)

		var n int
		require.NoError(t, s.DB.GetContext(context.Background(), &n, `SELECT COUNT(*) FROM web_messages`))
		require.Zero(t, n, "nothing was taken")

		// A forged student cookie is a stranger, not the student.
		status, _ = b.getWithCookie("/", studentCookie, "dGVzdA")
		require.Equal(t, http.StatusOK, status)
	})
}

func (b *browser) getWithCookie(path, name, value string) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.s.HTTP.URL+path, nil)
	require.NoError(b.t, err)
	req.AddCookie(&http.Cookie{Name: name, Value: value})
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	resp.Body.Close()
	return resp.StatusCode, ""
}

func TestChatPageShowsWhatTheStudentTypedAsTextAndRedacted(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		b := s.browser()
		b.say("<script>alert(1)</script> which account for Toledo?")
		_, body := b.get("/")
		require.NotContains(t, body, "<script>alert(1)")
		require.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt; which account for Toledo?")

		b.say("my password is Hunter2!x")
		_, body = b.get("/")
		require.NotContains(t, body, "Hunter2")
		var stored string
		require.NoError(t, s.DB.GetContext(context.Background(), &stored,
			`SELECT body FROM web_messages WHERE direction = 'in' ORDER BY id DESC LIMIT 1`))
		require.NotContains(t, stored, "Hunter2", "redacted before it is stored")
		require.Contains(t, body, "I removed it from your message", "the student is warned")
	})
}

func TestChatPageTakesAFormPostedTwiceOnce(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		b := s.browser()
		form := url.Values{"text": {"/start"}, "event": {"same-event"}, "csrf": {b.csrf("/")}}
		b.post("/say", form)
		b.post("/say", form)
		id := b.studentID()
		storagetest.Settle(t, s.DB)
		lines, err := storage.NewWebChats(s.DB).Messages(context.Background(), id, 0, 100)
		require.NoError(t, err)
		var in, out int
		for _, l := range lines {
			if l.In {
				in++
			} else {
				out++
			}
		}
		require.Equal(t, 1, in)
		require.Equal(t, 1, out, "one greeting")
	})
}

func TestChatPageScriptGetsLinesAndProgressLive(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		b := s.browser()
		b.say("/start")
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.HTTP.URL+"/events?after=0", nil)
		require.NoError(t, err)
		resp, err := b.http.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
		events := make(chan [2]string, 64)
		go readEvents(resp, events)

		next := func(kind string) map[string]any {
			t.Helper()
			for {
				select {
				case e := <-events:
					if e[0] != kind {
						continue
					}
					var v map[string]any
					require.NoError(t, json.Unmarshal([]byte(e[1]), &v))
					return v
				case <-ctx.Done():
					t.Fatalf("no %s event", kind)
				}
			}
		}
		require.Equal(t, "/start", next("line")["text"], "what was said before the stream opened")
		require.Contains(t, next("line")["text"], "activation assistant")

		// A press by script: JSON back at once, the answer on the stream.
		form := url.Values{"button": {"start_activation"}, "event": {newID()}, "csrf": {b.csrf("/")}}
		post, err := http.NewRequest(http.MethodPost, s.HTTP.URL+"/say", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		post.Header.Set("Accept", "application/json")
		pr, err := b.http.Do(post)
		require.NoError(t, err)
		pr.Body.Close()
		require.Equal(t, http.StatusAccepted, pr.StatusCode)
		require.Equal(t, "Start the activation", next("line")["text"])
		reply := next("line")
		require.Contains(t, reply["text"], "activation e-mails")
		require.NotEmpty(t, reply["buttons"])
		p := next("progress")
		require.Len(t, p["items"], 2)
	})
}

func readEvents(resp *http.Response, out chan<- [2]string) {
	sc := bufio.NewScanner(resp.Body)
	var kind, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			kind = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && kind != "":
			out <- [2]string{kind, data}
			kind, data = "", ""
		}
	}
}

func TestHelpdeskAnswerReachesTheWebChat(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		b := s.browser()
		b.say("/start")
		b.press("report")
		_, body := b.get("/")
		m := strings.Index(body, `name="button" value="`)
		require.Positive(t, m, "problem categories offered")
		category := body[m+len(`name="button" value="`):]
		category = category[:strings.Index(category, `"`)]
		b.press(category)
		b.say("The activation link says it expired")
		tickets, err := s.Engine.HelpdeskTickets().Tickets(context.Background(), "")
		require.NoError(t, err)
		require.Len(t, tickets, 1)

		agent := bot.Agent{Identity: "web:ann", Name: "Ann"}
		require.NoError(t, s.Engine.Act(context.Background(), tickets[0].ID, bot.ActReply, agent, "We reset it, try again now."))
		waitFor(t, "the answer on the page", func() bool {
			_, body := b.get("/")
			return strings.Contains(body, "We reset it, try again now.")
		})
	})
}

func TestContinueOnAnotherDevice(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		clock := storagetest.NewClock(time.Now())
		s := newSite(t, d)
		s.Server.now = clock.Now
		s.Server.console.SetClock(clock.Now)
		phone := s.browser()
		phone.say("/start")
		status, body, _ := phone.submit("/", "/handoff", nil)
		require.Equal(t, http.StatusOK, status)
		i := strings.Index(body, "http://localhost:8080/continue?token=")
		require.Positive(t, i)
		link := body[i:]
		link = link[:strings.Index(link, `"`)]
		path := strings.TrimPrefix(strings.ReplaceAll(link, "&amp;", "&"), "http://localhost:8080")

		laptop := s.browser()
		laptop.say("/start") // a conversation of its own, which the link replaces
		status, body = laptop.get(path)
		require.Equal(t, http.StatusOK, status, "opening the link changes nothing yet (a link preview may fetch it)")
		require.Contains(t, body, "it will be replaced")
		token, err := url.Parse(path)
		require.NoError(t, err)
		status, _, _ = laptop.submit(path, "/continue", url.Values{"token": {token.Query().Get("token")}})
		require.Equal(t, http.StatusSeeOther, status)
		require.Equal(t, phone.studentID(), laptop.studentID())
		_, body = laptop.get("/")
		require.Contains(t, body, "activation assistant of Odisee", "the same conversation")

		status, _ = s.browser().get(path)
		require.Equal(t, http.StatusGone, status, "the link works once")
		status, _, resp := s.browser().submit("/", "/continue", url.Values{"token": {token.Query().Get("token")}})
		require.Equal(t, http.StatusSeeOther, status)
		require.Contains(t, resp.Header.Get("Location"), "handoff_bad")

		// An expired link does nothing.
		_, body, _ = phone.submit("/", "/handoff", nil)
		i = strings.Index(body, "/continue?token=")
		late := body[i:]
		late = strings.ReplaceAll(late[:strings.Index(late, `"`)], "&amp;", "&")
		clock.Set(clock.Now().Add(handoffTTL + time.Second))
		status, _ = s.browser().get(late)
		require.Equal(t, http.StatusGone, status)

		// Without a conversation there is nothing to hand off.
		status, _, _ = s.browser().submit("/", "/handoff", nil)
		require.Equal(t, http.StatusForbidden, status)
	})
}

func TestForgetErasesTheWebChat(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		b := s.browser()
		b.say("/start")
		b.say("my question about Toledo please")
		b.say("/forget")
		_, body := b.get("/")
		start := strings.Index(body, `name="button" value="`)
		require.Positive(t, start)
		confirm := body[start+len(`name="button" value="`):]
		confirm = confirm[:strings.Index(confirm, `"`)]
		b.press(confirm)
		storagetest.Settle(t, s.DB)
		_, body = b.get("/")
		require.NotContains(t, body, "my question about Toledo", "what the student said is gone")
	})
}

// On Postgres a line may commit after one with a higher id: the stream
// still sends it, once.
func TestStreamSendsALineCommittedLateOnce(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		w := storage.NewWebChats(d.DB)
		now := time.Now()
		w.SetClock(func() time.Time { return now })
		_, err := w.Sent(ctx, "c", 0, bot.Outbound{Text: "first"})
		require.NoError(t, err)
		c := &cursor{sent: map[int64]time.Time{}}
		read := func() []string {
			lines, err := w.Newer(ctx, "c", c.after, c.since(), 100)
			require.NoError(t, err)
			var got []string
			for _, m := range lines {
				if c.fresh(m) {
					got = append(got, m.Message.Text)
				}
			}
			return got
		}
		require.Equal(t, []string{"first"}, read())
		// A line with a lower id than the cursor, as a late commit leaves it.
		late, err := w.Sent(ctx, "c", 0, bot.Outbound{Text: "late"})
		require.NoError(t, err)
		c.after = late + 5
		require.Equal(t, []string{"late"}, read())
		require.Empty(t, read(), "sent once")
	})
}

func TestNewConversationsPerAddressAreLimited(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		saved := newStudents
		newStudents = bot.Rate{Every: time.Hour, Burst: 2}
		defer func() { newStudents = saved }()
		s := newSite(t, d)
		s.Server.cfg.TrustProxy = true
		start := func(addr string) int {
			b := s.browser()
			form := url.Values{"text": {"/start"}, "csrf": {b.csrf("/")}}
			req, err := http.NewRequest(http.MethodPost, s.HTTP.URL+"/say", strings.NewReader(form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", "application/json")
			req.Header.Set("X-Forwarded-For", "198.51.100.7, "+addr) // the proxy appended addr
			resp, err := b.http.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		require.Equal(t, http.StatusAccepted, start("203.0.113.1"))
		require.Equal(t, http.StatusAccepted, start("203.0.113.1"))
		require.Equal(t, http.StatusTooManyRequests, start("203.0.113.1"))
		require.Equal(t, http.StatusAccepted, start("203.0.113.2"), "another address is another count")
	})
}

// The stream answers at once, before there is a line to send: a browser
// (and a proxy) sees it open.
func TestStreamOpensBeforeAnyLine(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		cookie, err := s.Server.codec.Encode(studentCookie, newID())
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.HTTP.URL+"/events", nil)
		require.NoError(t, err)
		req.AddCookie(&http.Cookie{Name: studentCookie, Value: cookie})
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err, "headers before the first line")
		defer resp.Body.Close()
		first, err := bufio.NewReader(resp.Body).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "retry: 3000\n", first)
	})
}

// pressForm posts the form with the given id of the page at path as a
// browser without script does: its fields and its submit button. It fails
// the test when the page has no such form.
func (b *browser) pressForm(page, id string) (int, string, *http.Response) {
	b.t.Helper()
	_, body := b.get(page)
	doc, err := html.Parse(strings.NewReader(body))
	require.NoError(b.t, err)
	form := findByID(doc, id)
	require.NotNil(b.t, form, "no form %q on %s", id, page)
	fields := url.Values{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "input" || n.Data == "button") {
			if name, ok := attr(n, "name"); ok {
				value, _ := attr(n, "value")
				fields.Set(name, value)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(form)
	action, _ := attr(form, "action")
	return b.post(action, fields)
}

func findByID(n *html.Node, id string) *html.Node {
	if v, ok := attr(n, "id"); ok && v == id && n.Type == html.ElementNode {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if found := findByID(c, id); found != nil {
			return found
		}
	}
	return nil
}

var linkCodeRe = regexp.MustCompile(`Your link code: ([` + "23456789ABCDEFGHJKMNPQRSTUVWXYZ" + `]{8})`)

// The page's Link another device button gets a code without script; the
// code typed in another browser makes both one student.
func TestLinkAnotherDeviceFromThePage(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		laptop := s.browser()
		_, body := laptop.get("/")
		require.Contains(t, body, `id="link" aria-describedby="link-hint" hidden`, "nothing to link before a conversation")
		laptop.say("/start")
		status, _, resp := laptop.pressForm("/", "link")
		require.Equal(t, http.StatusSeeOther, status)
		require.NotContains(t, resp.Header.Get("Location"), "n=", "the reply came in time")
		_, body = laptop.get("/")
		require.Contains(t, body, `<div class="bubble">Link another device</div>`, "the press shows as the button's words")
		m := linkCodeRe.FindStringSubmatch(body)
		require.NotNil(t, m, "the code is on the page")

		phone := s.browser()
		phone.say(strings.ToLower(m[1]))
		_, body = phone.get("/")
		require.Contains(t, body, "Linked with")
		require.NotContains(t, strings.ToUpper(body), m[1], "the typed code is not kept on the page")
		require.Contains(t, body, "[link code]")
		laptopStudent := s.studentID(Platform, laptop.studentID())
		require.Equal(t, laptopStudent, s.studentID(Platform, phone.studentID()), "one student")
		require.NotEqual(t, laptop.studentID(), phone.studentID(), "each browser keeps its own chat")

		// The label is the page's language.
		_, body = s.browser().getLang("/", "nl")
		require.Contains(t, body, "Koppel een ander toestel")
	})
}
