package web

import (
	"context"
	"fmt"
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

// reportThroughEngine opens a ticket for a console identity as its
// conversation would: the report button, a problem, a description.
func (s *site) reportThroughEngine(user, name, description string) bot.Ticket {
	s.t.Helper()
	ctx := context.Background()
	for _, in := range []bot.Inbound{{Text: "/start"}, {ButtonID: bot.ButtonReport}, {ButtonID: "problem:other"}, {Text: description}} {
		in.Platform, in.UserID, in.ChatID, in.Name = bot.TerminalPlatform, user, user, name
		_, err := s.Engine.Handle(ctx, in)
		require.NoError(s.t, err)
	}
	return s.lastTicket()
}

func (s *site) lastTicket() bot.Ticket {
	s.t.Helper()
	list, err := s.Engine.HelpdeskTickets().Tickets(context.Background(), "")
	require.NoError(s.t, err)
	require.NotEmpty(s.t, list)
	t, err := s.Engine.HelpdeskTickets().Ticket(context.Background(), list[0].ID)
	require.NoError(s.t, err)
	return t
}

func (s *site) ticket(id int64) bot.Ticket {
	s.t.Helper()
	t, err := s.Engine.HelpdeskTickets().Ticket(context.Background(), id)
	require.NoError(s.t, err)
	return t
}

func TestTicketListFilters(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		anna := s.reportThroughEngine("anna", "Anna Peeters", "The login page says my account is locked")
		bram := s.reportThroughEngine("bram", "Bram", "Nothing works")
		require.NoError(t, s.Engine.Act(context.Background(), bram.ID, bot.ActResolve, bot.Agent{Identity: "web:x", Name: "x"}, ""))

		agent := s.login("ann", storage.RoleAgent)
		status, body := agent.get("/admin/tickets")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, fmt.Sprintf(`href="/admin/tickets/%d"`, anna.ID))
		require.NotContains(t, body, fmt.Sprintf(`href="/admin/tickets/%d"`, bram.ID), "resolved tickets are not waiting")
		require.Contains(t, body, "Anna Peeters")
		require.Contains(t, body, "console:anna")
		require.Contains(t, body, "Something else", "the category's label")

		_, body = agent.get("/admin/tickets?status=resolved")
		require.Contains(t, body, fmt.Sprintf(`href="/admin/tickets/%d"`, bram.ID))
		require.NotContains(t, body, fmt.Sprintf(`href="/admin/tickets/%d"`, anna.ID))
		_, body = agent.get("/admin/tickets?status=all")
		require.Contains(t, body, fmt.Sprintf(`href="/admin/tickets/%d"`, bram.ID))
		require.Contains(t, body, fmt.Sprintf(`href="/admin/tickets/%d"`, anna.ID))
		require.Less(t, strings.Index(body, fmt.Sprintf(`/admin/tickets/%d"`, bram.ID)), strings.Index(body, fmt.Sprintf(`/admin/tickets/%d"`, anna.ID)), "newest first")

		_, body = agent.get("/admin/tickets?status=all&q=PEETERS")
		require.Contains(t, body, "Anna Peeters")
		require.NotContains(t, body, "console:bram")
		_, body = agent.get("/admin/tickets?status=all&q=console:bram")
		require.Contains(t, body, "console:bram")
		require.NotContains(t, body, "console:anna")
		_, body = agent.get("/admin/tickets?status=all&category=wrong_name")
		require.Contains(t, body, "No tickets match")
		_, body = agent.get("/admin/tickets?status=all&category=other")
		require.Contains(t, body, "console:anna")

		status, body = agent.get("/admin/tickets?status=closed")
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "Unknown status")
		status, body = agent.get("/admin/tickets?category=nope")
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "Unknown category")

		status, _ = s.browser().get("/admin/tickets")
		require.Equal(t, http.StatusSeeOther, status, "anonymous: to the login")
	})
}

func TestTicketDetailAndActions(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		ctx := context.Background()

		// A student on the web page reports a problem, as they would.
		student := s.browser()
		student.say("/start")
		student.say("my password is Hunter2!xyz")
		student.press(bot.ButtonReport)
		student.press("problem:other")
		student.say("the page says my account is locked")
		var tk bot.Ticket
		waitFor(t, "the ticket opened", func() bool {
			list, err := s.Engine.HelpdeskTickets().Tickets(ctx, "")
			require.NoError(t, err)
			return len(list) == 1
		})
		tk = s.lastTicket()
		require.Equal(t, Platform, tk.Chat.Platform)
		page := fmt.Sprintf("/admin/tickets/%d", tk.ID)

		agent := s.login("ann", storage.RoleAgent)
		status, body := agent.get(page)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "Ticket #"+fmt.Sprint(tk.ID))
		require.Contains(t, body, "web:"+tk.Chat.ID)
		require.Contains(t, body, "the page says my account is locked")
		require.Contains(t, body, "/start", "the conversation before the report")
		require.NotContains(t, body, "Hunter2", "redacted")
		require.Contains(t, body, "not started", "the progress per account")
		require.NotContains(t, body, "/admin/students/", "agents get no link to the student record")

		for _, p := range []string{"/admin/tickets/999999", "/admin/tickets/abc", "/admin/tickets/-1", "/admin/tickets/0"} {
			status, _ = agent.get(p)
			require.Equal(t, http.StatusNotFound, status, p)
		}
		status, _, _ = agent.submit(page, "/admin/tickets/999999/claim", nil)
		require.Equal(t, http.StatusNotFound, status)

		// Claim.
		status, _, resp := agent.submit(page, page+"/claim", nil)
		require.Equal(t, http.StatusSeeOther, status)
		require.Equal(t, page+"?done=claimed", resp.Header.Get("Location"))
		_, body = agent.get(page + "?done=claimed")
		require.Contains(t, body, "Ticket claimed.")
		got := s.ticket(tk.ID)
		require.Equal(t, bot.TicketClaimed, got.Status)
		require.Equal(t, "web:ann", got.ClaimedBy)
		status, body, _ = agent.submit(page, page+"/claim", nil)
		require.Equal(t, http.StatusConflict, status)
		require.Contains(t, body, "You already claimed")

		// Reply: required, bounded, then on the student's page.
		status, body, _ = agent.submit(page, page+"/reply", url.Values{"text": {"   "}})
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "Write an answer first")
		status, body, _ = agent.submit(page, page+"/reply", url.Values{"text": {strings.Repeat("x", maxReply+1)}})
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "too long")
		require.Len(t, s.ticket(tk.ID).Messages, 0)
		status, _, resp = agent.submit(page, page+"/reply", url.Values{"text": {"Try again after 17:00, it should work then."}})
		require.Equal(t, http.StatusSeeOther, status)
		require.Equal(t, page+"?done=replied", resp.Header.Get("Location"))
		waitFor(t, "the answer in the student's web chat", func() bool {
			lines, err := storage.NewWebChats(s.DB).Messages(ctx, tk.Chat.ID, 0, 100)
			require.NoError(t, err)
			for _, l := range lines {
				if !l.In && l.Message.Intent == bot.IntentHelpdeskAnswer && strings.Contains(l.Message.Text, "Try again after 17:00") {
					return true
				}
			}
			return false
		})
		_, body = agent.get(page)
		require.Contains(t, body, "Helpdesk (web:ann)")
		require.Contains(t, body, "Try again after 17:00")

		// Resolve, twice: the second is refused with a reason.
		status, _, resp = agent.submit(page, page+"/resolve", nil)
		require.Equal(t, http.StatusSeeOther, status)
		require.Equal(t, page+"?done=resolved", resp.Header.Get("Location"))
		require.Equal(t, bot.TicketResolved, s.ticket(tk.ID).Status)
		status, body, _ = agent.submit(page, page+"/resolve", nil)
		require.Equal(t, http.StatusConflict, status)
		require.Contains(t, body, "already resolved")
		status, body, _ = agent.submit(page, page+"/claim", nil)
		require.Equal(t, http.StatusConflict, status)
		require.Contains(t, body, "reopen it")

		// Reopen; reopening an open ticket is refused.
		status, _, resp = agent.submit(page, page+"/reopen", nil)
		require.Equal(t, http.StatusSeeOther, status)
		require.Equal(t, page+"?done=reopened", resp.Header.Get("Location"))
		require.True(t, s.ticket(tk.ID).Open())
		status, body, _ = agent.submit(page, page+"/reopen", nil)
		require.Equal(t, http.StatusConflict, status)
		require.Contains(t, body, "nothing to reopen")

		// Another agent takes it over.
		other := s.login("bob", storage.RoleAgent)
		status, _, _ = other.submit(page, page+"/claim", nil)
		require.Equal(t, http.StatusSeeOther, status)
		require.Equal(t, "web:bob", s.ticket(tk.ID).ClaimedBy)

		// Without the form's token, or a session, nothing happens.
		status, _, _ = agent.post(page+"/resolve", url.Values{})
		require.Equal(t, http.StatusForbidden, status)
		status, _, _ = s.browser().post(page+"/resolve", url.Values{})
		require.Equal(t, http.StatusUnauthorized, status)
		require.True(t, s.ticket(tk.ID).Open())

		// Every action is in the audit log, under the agent.
		entries, err := s.DB.AuditLog(ctx, time.Time{}, 100)
		require.NoError(t, err)
		var actions []string
		for _, e := range entries {
			if strings.HasPrefix(e.Action, "ticket") {
				actions = append(actions, e.Actor+" "+e.Action)
			}
		}
		require.NotEmpty(t, actions)
		require.Contains(t, strings.Join(actions, ","), "web:ann")
	})
}

var seenField = regexp.MustCompile(`name="seen" value="([^"]+)"`)

// An action posted from a page showing an older state of the ticket is
// refused: a stale Claim does not take over a colleague's ticket, and an
// answer sent twice (a double click) reaches the student once.
func TestTicketActionsFromAStalePageAreRefused(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		tk := s.reportThroughEngine("anna", "Anna", "The activation link expired")
		page := fmt.Sprintf("/admin/tickets/%d", tk.ID)
		ann, bob := s.login("ann", storage.RoleAgent), s.login("bob", storage.RoleAgent)

		_, body := ann.get(page)
		stale := seenField.FindStringSubmatch(body)[1]
		status, _, _ := bob.submit(page, page+"/claim", nil)
		require.Equal(t, http.StatusSeeOther, status)
		status, body, _ = ann.post(page+"/claim", url.Values{"csrf": {ann.csrf(page)}, "seen": {stale}})
		require.Equal(t, http.StatusConflict, status)
		require.Contains(t, body, "changed since you opened it")
		require.Equal(t, "web:bob", s.ticket(tk.ID).ClaimedBy, "bob keeps it")

		_, body = bob.get(page)
		form := url.Values{"csrf": {bob.csrf(page)}, "seen": {seenField.FindStringSubmatch(body)[1]}, "text": {"Try again now."}}
		status, _, _ = bob.post(page+"/reply", form)
		require.Equal(t, http.StatusSeeOther, status)
		status, _, _ = bob.post(page+"/reply", form)
		require.Equal(t, http.StatusConflict, status, "the same form again")
		replies := 0
		for _, m := range s.ticket(tk.ID).Messages {
			if m.From == bot.FromAgent {
				replies++
			}
		}
		require.Equal(t, 1, replies)
	})
}
