package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

func (s *site) studentID(platform, user string) int64 {
	s.t.Helper()
	id, err := s.DB.StudentByIdentity(context.Background(), platform, user)
	require.NoError(s.t, err)
	return id
}

func TestStudentsSearchAndRecord(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		tk := s.reportThroughEngine("anna", "Anna Peeters", "The login page says my account is locked")
		_, err := s.Engine.Handle(context.Background(), bot.Inbound{Platform: bot.TerminalPlatform, UserID: "bram", ChatID: "bram", Name: "Bram", Text: "/start"})
		require.NoError(t, err)
		anna := s.studentID(bot.TerminalPlatform, "anna")

		admin := s.login("ada", storage.RoleAdmin)
		status, body := admin.get("/admin/students")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "console:anna")
		require.Contains(t, body, "console:bram")
		require.Contains(t, body, "Anna Peeters")
		require.Less(t, strings.Index(body, "console:bram"), strings.Index(body, "console:anna"), "most recent first")

		for _, q := range []string{"console:anna", "anna", "PEETERS"} {
			_, body = admin.get("/admin/students?q=" + url.QueryEscape(q))
			require.Contains(t, body, "console:anna", q)
			require.NotContains(t, body, "console:bram", q)
		}
		_, body = admin.get("/admin/students?q=nobody")
		require.Contains(t, body, "No student matches")

		page := fmt.Sprintf("/admin/students/%d", anna)
		status, body = admin.get(page)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "console:anna")
		require.Contains(t, body, fmt.Sprintf(`href="/admin/tickets/%d"`, tk.ID), "the open ticket")
		require.Contains(t, body, "The login page says my account is locked", "the transcript")
		require.Contains(t, body, "allowed", "not opted out")
		require.Contains(t, body, "not started")
		status, _ = admin.get("/admin/students/999999")
		require.Equal(t, http.StatusNotFound, status)
		status, _ = admin.get("/admin/students/x")
		require.Equal(t, http.StatusNotFound, status)

		// The ticket page links an admin to the student.
		_, body = admin.get(fmt.Sprintf("/admin/tickets/%d", tk.ID))
		require.Contains(t, body, `href="`+page+`"`)

		agent := s.login("ann", storage.RoleAgent)
		for _, p := range []string{"/admin/students", page, page + "/erase"} {
			status, _ = agent.get(p)
			require.Equal(t, http.StatusForbidden, status, p)
			status, _ = s.browser().get(p)
			require.Equal(t, http.StatusSeeOther, status, p)
		}
	})
}

func TestEraseStudent(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		ctx := context.Background()
		s.reportThroughEngine("anna", "Anna Peeters", "The login page says my account is locked")
		id := s.studentID(bot.TerminalPlatform, "anna")
		page := fmt.Sprintf("/admin/students/%d/erase", id)
		exists := func() bool {
			_, err := s.DB.Student(ctx, id)
			if errors.Is(err, bot.ErrNotFound) {
				return false
			}
			require.NoError(t, err)
			return true
		}

		admin := s.login("ada", storage.RoleAdmin)
		counts, err := s.DB.ErasureCounts(ctx, id)
		require.NoError(t, err)
		status, body := admin.get(page)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "console:anna")
		require.Contains(t, body, fmt.Sprintf("%d transcript lines", counts.Transcript))
		require.Contains(t, body, "1 ticket,")
		require.Contains(t, body, `name="confirm" value="yes"`)

		// Refused: without the confirmation, by an agent, anonymously, without the token.
		status, body, _ = admin.submit(page, page, nil)
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "nothing was erased")
		require.True(t, exists())
		agent := s.login("ann", storage.RoleAgent)
		status, _, _ = agent.submit("/admin/tickets", page, url.Values{"confirm": {"yes"}})
		require.Equal(t, http.StatusForbidden, status)
		require.True(t, exists())
		status, _, _ = s.browser().post(page, url.Values{"confirm": {"yes"}})
		require.Equal(t, http.StatusUnauthorized, status)
		require.True(t, exists())
		status, _, _ = admin.post(page, url.Values{"confirm": {"yes"}})
		require.Equal(t, http.StatusForbidden, status, "no CSRF token")
		require.True(t, exists())

		status, _, resp := admin.submit(page, page, url.Values{"confirm": {"yes"}})
		require.Equal(t, http.StatusSeeOther, status)
		require.Equal(t, "/admin/students?done=erased", resp.Header.Get("Location"))
		require.False(t, exists())
		_, err = s.DB.StudentByIdentity(ctx, bot.TerminalPlatform, "anna")
		require.ErrorIs(t, err, bot.ErrNotFound)
		list, err := s.Engine.HelpdeskTickets().Tickets(ctx, "")
		require.NoError(t, err)
		require.Empty(t, list, "the tickets went with the student")
		_, body = admin.get("/admin/students?done=erased")
		require.Contains(t, body, "The student&#39;s data was erased.")
		require.NotContains(t, body, "console:anna")

		entries, err := s.DB.AuditLog(ctx, time.Time{}, 100)
		require.NoError(t, err)
		found := false
		for _, e := range entries {
			if e.Action == storage.ActionErase && e.Actor == "web:ada" && strings.Contains(e.Subject, fmt.Sprint(id)) {
				found = true
			}
		}
		require.True(t, found, "the erasure is audited under the admin")

		status, _, _ = admin.submit("/admin/students", page, url.Values{"confirm": {"yes"}})
		require.Equal(t, http.StatusNotFound, status, "erased already")
	})
}

func TestConsoleShowsStudentNamesAsText(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		tk := s.reportThroughEngine("mallory", "<script>alert(1)</script>", "<b>bold</b> description")
		id := s.studentID(bot.TerminalPlatform, "mallory")
		admin := s.login("ada", storage.RoleAdmin)
		for _, p := range []string{"/admin/tickets", fmt.Sprintf("/admin/tickets/%d", tk.ID), "/admin/students",
			fmt.Sprintf("/admin/students/%d", id), fmt.Sprintf("/admin/students/%d/erase", id), "/admin/tickets?q=%3Cscript"} {
			status, body := admin.get(p)
			require.Equal(t, http.StatusOK, status, p)
			require.NotContains(t, body, "<script>alert(1)", p)
			require.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;", p)
			require.NotContains(t, body, "<b>bold</b>", p)
		}
	})
}

// linkThroughEngine makes user and other one student, as /link on one
// terminal chat and its code typed on the other do.
func (s *site) linkThroughEngine(user, other string) {
	s.t.Helper()
	ctx := context.Background()
	in := bot.Inbound{Platform: bot.TerminalPlatform, UserID: user, ChatID: user, Text: "/link"}
	out, err := s.Engine.Handle(ctx, in)
	require.NoError(s.t, err)
	code := ""
	for _, o := range out {
		if o.Intent == bot.IntentLinkCode {
			code = o.Secret
		}
	}
	require.NotEmpty(s.t, code, "a link code")
	s.student(bot.TerminalPlatform, other, "en", "", code)
	require.Equal(s.t, s.studentID(bot.TerminalPlatform, user), s.studentID(bot.TerminalPlatform, other))
}

func TestUnlinkIdentityFromTheConsole(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		ctx := context.Background()
		s.reportThroughEngine("anna", "Anna Peeters", "The login page says my account is locked")
		s.linkThroughEngine("anna", "anna-phone")
		s.student(bot.TerminalPlatform, "anna-phone", "en", "", "/link prefer")
		id := s.studentID(bot.TerminalPlatform, "anna")
		page := fmt.Sprintf("/admin/students/%d", id)
		confirm := page + "/unlink?identity=" + url.QueryEscape("console:anna-phone")
		action := page + "/unlink"
		form := func() url.Values { return url.Values{"identity": {"console:anna-phone"}, "confirm": {"yes"}} }
		owner := func() int64 { return s.studentID(bot.TerminalPlatform, "anna-phone") }

		admin := s.login("ada", storage.RoleAdmin)
		status, body := admin.get(page)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "<code>console:anna</code>")
		require.Contains(t, body, "<code>console:anna-phone</code>")
		require.Contains(t, body, `<span class="badge">preferred</span>`, "the phone was chosen with /link prefer")
		require.Equal(t, 1, strings.Count(body, "preferred</span>"), "only the phone")
		require.NotContains(t, body, "<td>never</td>", "both were used")
		require.Contains(t, body, `href="`+page+`/unlink?identity=console%3aanna-phone"`)
		require.Contains(t, body, `aria-label="Unlink console:anna…"`)

		status, body = admin.get(confirm)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, `name="identity" value="console:anna-phone"`)
		require.Contains(t, body, `name="confirm" value="yes"`)

		// Refused: without the confirmation, by an agent, anonymously,
		// without the token, for an identity of someone else.
		status, body, _ = admin.submit(confirm, action, url.Values{"identity": {"console:anna-phone"}})
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "nothing was unlinked")
		agent := s.login("ann", storage.RoleAgent)
		status, _ = agent.get(confirm)
		require.Equal(t, http.StatusForbidden, status)
		status, _, _ = agent.submit("/admin/tickets", action, form())
		require.Equal(t, http.StatusForbidden, status)
		status, _, _ = s.browser().post(action, form())
		require.Equal(t, http.StatusUnauthorized, status)
		status, _, _ = admin.post(action, form())
		require.Equal(t, http.StatusForbidden, status, "no CSRF token")
		s.student(bot.TerminalPlatform, "bram", "en", "", "/start")
		status, _, _ = admin.submit(confirm, action, url.Values{"identity": {"console:bram"}, "confirm": {"yes"}})
		require.Equal(t, http.StatusNotFound, status, "bram is not this student")
		status, _, _ = admin.submit(confirm, action, url.Values{"identity": {"telegram:404"}, "confirm": {"yes"}})
		require.Equal(t, http.StatusNotFound, status)
		status, _ = admin.get(page + "/unlink?identity=telegram:404")
		require.Equal(t, http.StatusNotFound, status)
		require.Equal(t, id, owner(), "nothing changed")

		status, _, resp := admin.submit(confirm, action, form())
		require.Equal(t, http.StatusSeeOther, status)
		to := owner()
		require.NotEqual(t, id, to, "the phone is a student of its own")
		require.Equal(t, fmt.Sprintf("%s?done=unlinked&to=%d", page, to), resp.Header.Get("Location"))
		require.Equal(t, id, s.studentID(bot.TerminalPlatform, "anna"), "anna stays")
		_, body = admin.get(resp.Header.Get("Location"))
		require.Contains(t, body, fmt.Sprintf("Identity unlinked: it is now student %d", to))
		require.NotContains(t, body, "console:anna-phone")
		require.NotContains(t, body, "Unlink…", "one identity left")
		record, err := s.DB.Student(ctx, id)
		require.NoError(t, err)
		require.NotEmpty(t, record.Tickets, "the ticket stays")

		entries, err := s.DB.AuditLog(ctx, time.Time{}, 100)
		require.NoError(t, err)
		found := false
		for _, e := range entries {
			if e.Action == storage.ActionUnlink && e.Actor == "web:ada" && e.Subject == fmt.Sprintf("student #%d", id) {
				found = true
				require.NotContains(t, e.Detail, "anna", "the log names the platform, not the user")
			}
		}
		require.True(t, found, "the unlink is audited under the admin")

		// The last identity stays.
		last := page + "/unlink?identity=console:anna"
		status, body = admin.get(last)
		require.Equal(t, http.StatusConflict, status)
		require.Contains(t, body, "only identity")
		require.NotContains(t, body, `name="confirm"`)
		status, body, _ = admin.submit(last, action, url.Values{"identity": {"console:anna"}, "confirm": {"yes"}})
		require.Equal(t, http.StatusConflict, status)
		require.Contains(t, body, "only identity")
		require.Equal(t, id, s.studentID(bot.TerminalPlatform, "anna"))
	})
}
