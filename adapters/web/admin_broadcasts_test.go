package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

func (s *site) broadcastList() []bot.Broadcast {
	s.t.Helper()
	list, err := storage.NewBroadcasts(s.Queue).List(context.Background())
	require.NoError(s.t, err)
	return list
}

// mailbox is what a web student's chat received.
func (s *site) mailbox(chat string) []storage.WebMessage {
	s.t.Helper()
	msgs, err := storage.NewWebChats(s.DB).Messages(context.Background(), chat, 0, 50)
	require.NoError(s.t, err)
	return msgs
}

var totalRe = regexp.MustCompile(`id="total">(\d+)<`)

func previewTotal(t *testing.T, body string) string {
	t.Helper()
	m := totalRe.FindStringSubmatch(body)
	require.NotNil(t, m, "no total in the preview:\n%s", body)
	return m[1]
}

func TestConsoleBroadcasts(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		s.student(Platform, "w-en", "en", "", "hi")
		s.student(Platform, "w-nl", "nl-BE", "", "hi", "!start_activation", "!emails_both", "!odisee_ready", "!odisee_done")
		s.student(Platform, "w-fr", "fr-BE", "", "hi")
		s.student(bot.TerminalPlatform, "c1", "en", "", "hi") // the terminal chat cannot be written to first
		admin := s.login("ada", storage.RoleAdmin)

		status, body := admin.get("/admin/broadcasts")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "No broadcast yet")
		status, body = admin.get("/admin/broadcasts/new")
		require.Equal(t, http.StatusOK, status)
		for _, v := range []string{"not_started", "waiting", "odisee_done", "kuleuven_done", "completed", "problem", `value="slack"`, `name="text_fr"`, `type="datetime-local"`} {
			require.Contains(t, body, v)
		}

		// The preview counts the segment's students and shows each message.
		status, body, _ = admin.submit("/admin/broadcasts/new", "/admin/broadcasts/preview", url.Values{
			"audience": {"filter"}, "progress": {"not_started"}, "text_en": {"Welcome day on Monday."}})
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, "2", previewTotal(t, body), "the two web students who did not start")
		form := url.Values{"audience": {"all"}, "text_en": {"Welcome day on Monday."}, "text_nl": {"Onthaaldag op\r\nmaandag."}, "button": {"1"}}
		status, body, _ = admin.submit("/admin/broadcasts/new", "/admin/broadcasts/preview", form)
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, "3", previewTotal(t, body), "every web student, not the terminal's")
		require.Contains(t, body, "Onthaaldag op<br>maandag.")
		require.Contains(t, body, "Verder waar ik was")
		require.Contains(t, body, "Reprendre où j&#39;en étais")
		require.Contains(t, body, "no text in this language")
		require.Contains(t, body, "Send to 3 students now")
		require.Empty(t, s.broadcastList(), "a preview creates nothing")
		once := regexp.MustCompile(`name="once" value="([^"]+)"`).FindStringSubmatch(body)
		require.NotNil(t, once)

		// Edit goes back to the form with what was typed.
		status, body, _ = admin.submit("/admin/broadcasts/new", "/admin/broadcasts/new", form)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "Onthaaldag op\nmaandag.</textarea>")
		require.Regexp(t, `name="audience" value="all" checked`, body)

		// Send.
		form.Set("once", once[1])
		status, _, resp := admin.submit("/admin/broadcasts/new", "/admin/broadcasts", form)
		require.Equal(t, http.StatusSeeOther, status)
		require.Equal(t, "/admin/broadcasts/1?done=created", resp.Header.Get("Location"))
		status, body, _ = admin.submit("/admin/broadcasts/new", "/admin/broadcasts", form)
		require.Equal(t, http.StatusConflict, status, "a double click queues it once")
		require.Contains(t, body, "already sent from this form")
		list := s.broadcastList()
		require.Len(t, list, 1)
		require.Equal(t, "all", list[0].Segment.String())
		require.Equal(t, map[string]string{"en": "Welcome day on Monday.", "nl": "Onthaaldag op\nmaandag."}, list[0].Texts)
		require.True(t, list[0].Button)
		require.Equal(t, "web:ada", list[0].CreatedBy)

		// The copies reach the web students, each in their language.
		for chat, want := range map[string]struct{ text, lang, button string }{
			"w-en": {"Welcome day on Monday.", "en", "Continue where I was"},
			"w-nl": {"Onthaaldag op\nmaandag.", "nl", "Verder waar ik was"},
			"w-fr": {"Welcome day on Monday.", "fr", "Reprendre où j'en étais"},
		} {
			waitFor(t, "broadcast reaches "+chat, func() bool { return len(s.mailbox(chat)) == 1 })
			m := s.mailbox(chat)[0].Message
			require.Equal(t, want.text, m.Text, chat)
			require.Equal(t, want.lang, m.Lang, chat)
			require.Equal(t, bot.IntentBroadcast, m.Intent)
			require.Len(t, m.Buttons, 1)
			require.Equal(t, want.button, m.Buttons[0].Label)
		}
		waitFor(t, "progress shows 3 sent", func() bool {
			_, body := admin.get("/admin/broadcasts/1")
			return strings.Contains(body, `<td class="num">3</td><td class="num">0</td><td class="num">0</td><td class="num">3</td>`)
		})
		status, body = admin.get("/admin/broadcasts/1?done=created")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "Broadcast created.")
		require.Contains(t, body, "every student")
		require.NotContains(t, body, `http-equiv="refresh"`, "a finished broadcast does not refresh")
		require.NotContains(t, body, "Cancel this broadcast")

		// A scheduled one, cancelled before it starts: nothing is sent.
		later := time.Now().In(s.Engine.Location()).Add(48 * time.Hour).Format("2006-01-02T15:04")
		scheduled := url.Values{"audience": {"filter"}, "lang": {"nl"}, "platform": {"web"}, "text_en": {"Later"}, "send_at": {later}}
		status, body, _ = admin.submit("/admin/broadcasts/new", "/admin/broadcasts/preview", scheduled)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "1", previewTotal(t, body))
		require.Contains(t, body, "Schedule for "+strings.Replace(later, "T", " ", 1))
		status, _, resp = admin.submit("/admin/broadcasts/new", "/admin/broadcasts", scheduled)
		require.Equal(t, http.StatusSeeOther, status)
		require.Equal(t, "/admin/broadcasts/2?done=created", resp.Header.Get("Location"))
		status, body = admin.get("/admin/broadcasts/2")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "scheduled")
		require.Contains(t, body, "on web; in Dutch")
		require.NotContains(t, body, `http-equiv="refresh"`)
		status, _, resp = admin.submit("/admin/broadcasts/2", "/admin/broadcasts/2/cancel", nil)
		require.Equal(t, http.StatusSeeOther, status)
		require.Equal(t, "/admin/broadcasts/2?done=cancelled", resp.Header.Get("Location"))
		_, body = admin.get("/admin/broadcasts/2?done=cancelled")
		require.Contains(t, body, "Broadcast cancelled.")
		require.Contains(t, body, `<span class="badge">cancelled</span>`)
		status, body, _ = admin.submit("/admin/broadcasts/2", "/admin/broadcasts/2/cancel", nil)
		require.Equal(t, http.StatusConflict, status)
		require.Contains(t, body, "nothing left to cancel")
		b, p, err := storage.NewBroadcasts(s.Queue).Get(context.Background(), 2)
		require.NoError(t, err)
		require.Equal(t, bot.BroadcastCancelled, b.Status)
		require.Zero(t, total(p))
		require.Len(t, s.mailbox("w-nl"), 1, "only the first broadcast")
		var audits int
		require.NoError(t, s.DB.Get(&audits, s.DB.Rebind(`SELECT COUNT(*) FROM audit_log WHERE actor = ? AND action IN ('broadcast.create', 'broadcast.cancel')`), "web:ada"))
		require.Equal(t, 3, audits)

		// The list, newest first.
		status, body = admin.get("/admin/broadcasts")
		require.Equal(t, http.StatusOK, status)
		require.Regexp(t, `(?s)#2</a>.*cancelled.*on web; in Dutch.*web:ada.*#1</a>.*sent.*every student.*3 / 3`, body)

		// Unknown and malformed ids.
		for _, path := range []string{"/admin/broadcasts/99", "/admin/broadcasts/abc", "/admin/broadcasts/-1"} {
			status, _ = admin.get(path)
			require.Equal(t, http.StatusNotFound, status, path)
		}
		status, _, _ = admin.submit("/admin/broadcasts/new", "/admin/broadcasts/99/cancel", nil)
		require.Equal(t, http.StatusNotFound, status)
	})
}

func TestConsoleBroadcastsNeedAnAdmin(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		s.student(Platform, "w-en", "en", "", "hi")
		id, err := storage.NewBroadcasts(s.Queue).Create(context.Background(), bot.Broadcast{
			Segment: bot.Segment{DefaultLang: "en"}, Texts: map[string]string{"en": "Later"}, SendAt: time.Now().Add(48 * time.Hour), CreatedBy: "test"})
		require.NoError(t, err)
		form := url.Values{"audience": {"all"}, "text_en": {"Hello"}}

		agent := s.login("ann", storage.RoleAgent)
		for _, path := range []string{"/admin/broadcasts", "/admin/broadcasts/new", "/admin/broadcasts/1"} {
			status, _ := agent.get(path)
			require.Equal(t, http.StatusForbidden, status, path)
		}
		for _, path := range []string{"/admin/broadcasts", "/admin/broadcasts/preview", "/admin/broadcasts/1/cancel"} {
			status, _, _ := agent.submit("/admin/tickets", path, form)
			require.Equal(t, http.StatusForbidden, status, path)
			status, _, _ = s.browser().post(path, form)
			require.Equal(t, http.StatusUnauthorized, status, path)
		}
		admin := s.login("ada", storage.RoleAdmin)
		status, _, _ := admin.post("/admin/broadcasts", form)
		require.Equal(t, http.StatusForbidden, status, "no CSRF token")
		status, _, _ = admin.post("/admin/broadcasts/1/cancel", url.Values{})
		require.Equal(t, http.StatusForbidden, status, "no CSRF token")

		list := s.broadcastList()
		require.Len(t, list, 1, "nothing created")
		require.Equal(t, id, list[0].ID)
		require.Equal(t, bot.BroadcastScheduled, list[0].Status, "nothing cancelled")
	})
}

func TestConsoleBroadcastValidation(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		admin := s.login("ada", storage.RoleAdmin)
		for _, tc := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"audience": {"all"}, "text_nl": {"Alleen Nederlands"}}, "The English text is required"},
			{url.Values{"text_en": {"Kept text"}}, "Who gets it"},
			{url.Values{"audience": {"filter"}, "text_en": {"Kept text"}}, "tick at least one filter"},
			{url.Values{"audience": {"filter"}, "progress": {"stuck"}, "text_en": {"Kept text"}}, `&#34;stuck&#34; is not one of`},
			{url.Values{"audience": {"filter"}, "progress": {"waiting,lang=nl"}, "text_en": {"Kept text"}}, "is not a value of progress"},
			{url.Values{"audience": {"filter"}, "platform": {"fax"}, "text_en": {"Kept text"}}, `&#34;fax&#34; is not one of`},
			{url.Values{"audience": {"filter"}, "active_before": {"20-09-2026"}, "text_en": {"Kept text"}}, "want a date like 2026-09-20"},
			{url.Values{"audience": {"all"}, "text_en": {"Kept text"}, "send_at": {"tomorrow"}}, "is not a date and time"},
			{url.Values{"audience": {"all"}, "text_en": {"Kept text"}, "send_at": {"2020-01-01T10:00"}}, "is in the past"},
			{url.Values{"audience": {"all"}, "text_en": {"Kept text"}, "text_fr": {strings.Repeat("é", 4001)}}, "The French text has 4001 characters; at most 4000"},
			{url.Values{"audience": {"all"}, "text_en": {"Kept text"}}, "No student is in this segment now"},
		} {
			for _, action := range []string{"/admin/broadcasts/preview", "/admin/broadcasts"} {
				if action == "/admin/broadcasts/preview" && strings.Contains(tc.want, "No student") {
					continue // the preview shows an empty audience without a Send button
				}
				status, body, _ := admin.submit("/admin/broadcasts/new", action, tc.form)
				require.Equal(t, http.StatusBadRequest, status, "%s %v", action, tc.form)
				require.Contains(t, body, tc.want, "%s %v", action, tc.form)
				if tc.form.Get("text_en") != "" {
					require.Contains(t, body, ">"+tc.form.Get("text_en")+"</textarea>", "what was typed is kept")
				}
			}
		}
		status, body, _ := admin.submit("/admin/broadcasts/new", "/admin/broadcasts/preview", url.Values{"audience": {"all"}, "text_en": {"x"}})
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "No student is in this segment now")
		require.NotContains(t, body, "Send to")
		require.Empty(t, s.broadcastList(), "nothing created")
	})
}

func TestConsoleBroadcastTextsAreEscaped(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		s.student(Platform, "w-en", "en", "", "hi")
		admin := s.login("ada", storage.RoleAdmin)
		attack := "<script>alert(1)</script>"
		later := time.Now().In(s.Engine.Location()).Add(24 * time.Hour).Format("2006-01-02T15:04")
		form := url.Values{"audience": {"all"}, "text_en": {attack}, "text_nl": {`"><img src=x onerror=alert(2)>`}, "send_at": {later}}
		status, body, _ := admin.submit("/admin/broadcasts/new", "/admin/broadcasts/preview", form)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;")
		require.NotContains(t, body, "<script>alert(1)")
		require.NotContains(t, body, "<img src=x")
		status, _, _ = admin.submit("/admin/broadcasts/new", "/admin/broadcasts", form)
		require.Equal(t, http.StatusSeeOther, status)
		status, body = admin.get("/admin/broadcasts/1")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;")
		require.NotContains(t, body, "<script>alert(1)")
		require.NotContains(t, body, "<img src=x")
		// And in the form kept after an error.
		form.Set("send_at", "bad")
		status, body, _ = admin.submit("/admin/broadcasts/new", "/admin/broadcasts", form)
		require.Equal(t, http.StatusBadRequest, status)
		require.NotContains(t, body, "<script>alert(1)")
	})
}

// A broadcast being sent refreshes its page, without a script.
func TestBroadcastPageRefreshesWhileSending(t *testing.T) {
	s := newSite(t, storagetest.Open(t, "sqlite"))
	for _, refresh := range []bool{true, false} {
		var buf strings.Builder
		v := consoleView{Title: "Broadcast #1", Data: detailView{B: bot.Broadcast{ID: 1, Status: bot.BroadcastSending}, Refresh: refresh}}
		require.NoError(t, s.Server.pages["broadcast"].ExecuteTemplate(&buf, "console", v))
		head, _, _ := strings.Cut(buf.String(), "</head>")
		require.Equal(t, refresh, strings.Contains(head, `<meta http-equiv="refresh" content="5">`))
	}
}
