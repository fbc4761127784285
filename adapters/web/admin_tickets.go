package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"activation-bot/bot"
	"activation-bot/storage"
)

// maxReply bounds an agent's answer: under every platform's limit for one
// message, as the helpdesk chats' answers are.
const maxReply = 3500

// ticketsShown is the most tickets one list page shows.
const ticketsShown = 500

// The ticket list's status filter: "" is every ticket still waiting
// (open and claimed).
var ticketStatuses = []string{"", bot.TicketOpen, bot.TicketClaimed, bot.TicketResolved, "all"}

func (s *Server) ticketRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/tickets", s.agent(s.ticketList))
	mux.Handle("GET /admin/tickets/{id}", s.agent(s.ticketPage))
	for _, a := range []string{bot.ActClaim, bot.ActReply, bot.ActResolve, bot.ActReopen} {
		mux.Handle("POST /admin/tickets/{id}/"+a, s.agent(s.ticketAct(a)))
	}
}

// tickets is the ticket store over the console's database (the one the
// engine keeps its tickets in).
func (s *Server) tickets() *storage.Tickets { return storage.NewTickets(s.db, s.cfg.Queue) }

type ticketRow struct {
	bot.Ticket
	CategoryLabel string
}

type ticketListView struct {
	Status, Category, Q string
	Statuses            []option
	Categories          []option
	Tickets             []ticketRow
	Total               int // matching tickets, some perhaps not shown
}

func (s *Server) categoryLabel(id string) string {
	p := s.engine.Pack()
	if pr, ok := p.Problem(id); ok {
		return p.Localize(pr.Label, p.DefaultLanguage)
	}
	return id
}

func (s *Server) ticketList(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	q := r.URL.Query()
	v := ticketListView{Status: q.Get("status"), Category: q.Get("category"), Q: strings.TrimSpace(q.Get("q"))}
	v.Statuses = []option{{Value: "", Label: "Waiting (open and claimed)"}, {Value: bot.TicketOpen, Label: "Open"},
		{Value: bot.TicketClaimed, Label: "Claimed"}, {Value: bot.TicketResolved, Label: "Resolved"}, {Value: "all", Label: "All"}}
	v.Categories = []option{{Value: "", Label: "All categories"}}
	okCategory := v.Category == ""
	for _, p := range s.engine.Pack().Problems {
		v.Categories = append(v.Categories, option{Value: p.ID, Label: s.categoryLabel(p.ID)})
		okCategory = okCategory || p.ID == v.Category
	}
	problem := ""
	switch {
	case !validStatus(v.Status):
		problem = fmt.Sprintf("Unknown status %q: choose open, claimed, resolved or all.", v.Status)
	case !okCategory:
		problem = fmt.Sprintf("Unknown category %q.", v.Category)
	case utf8.RuneCountInString(v.Q) > 200:
		problem = "The search is too long."
	}
	if problem != "" {
		v.Status, v.Category = "", ""
		s.page(w, r, http.StatusBadRequest, &u, "tickets", consoleView{Title: "Tickets", Nav: "tickets", Error: problem, Data: v})
		return
	}
	f := storage.TicketFilter{Category: v.Category}
	switch v.Status {
	case "":
		f.Statuses = []string{bot.TicketOpen, bot.TicketClaimed}
	case "all":
	default:
		f.Statuses = []string{v.Status}
	}
	needle := strings.ToLower(v.Q)
	if needle == "" {
		f.Limit = ticketsShown // a search reads the selection, the list only what it shows
	}
	list, total, err := s.tickets().List(r.Context(), f)
	if err != nil {
		s.fail(w, r, "list tickets", err)
		return
	}
	if needle == "" {
		v.Total = total
	}
	for _, t := range list {
		if needle != "" && !strings.Contains(strings.ToLower(t.Name), needle) &&
			!strings.Contains(strings.ToLower(t.Student), needle) && !strings.Contains(strings.ToLower(t.Handle), needle) {
			continue
		}
		if needle != "" {
			v.Total++
		}
		if len(v.Tickets) < ticketsShown {
			v.Tickets = append(v.Tickets, ticketRow{Ticket: t, CategoryLabel: s.categoryLabel(t.Category)})
		}
	}
	s.page(w, r, http.StatusOK, &u, "tickets", consoleView{Title: "Tickets", Nav: "tickets", Data: v})
}

func validStatus(st string) bool {
	for _, x := range ticketStatuses {
		if st == x {
			return true
		}
	}
	return false
}

type accountLine struct {
	Name, State string
}

type ticketView struct {
	Ticket        bot.Ticket
	CategoryLabel string
	Accounts      []accountLine
	Reply         string // an answer to show again after a refusal
	Mine          bool   // claimed by the viewer
	Admin         bool   // may follow the link to the student
	MaxReply      int
	Version       string // the ticket as shown, posted back by its forms
}

// ticketVersion tells one state of a ticket from the next: an action
// posted from a page showing an older state (another agent acted since,
// or the same answer is posted twice) is refused, not applied blindly.
func ticketVersion(t bot.Ticket) string {
	return fmt.Sprintf("%s/%s/%d/%d", t.Status, t.ClaimedBy, len(t.Messages), t.Updated.UnixMicro())
}

// ticketID reads the {id} of a ticket's path; false when it is no number.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// loadTicket answers 404 itself when there is no such ticket.
func (s *Server) loadTicket(w http.ResponseWriter, r *http.Request) (bot.Ticket, bool) {
	id, ok := pathID(r)
	if !ok {
		http.Error(w, "No such ticket.", http.StatusNotFound)
		return bot.Ticket{}, false
	}
	t, err := s.tickets().Ticket(r.Context(), id)
	if errors.Is(err, bot.ErrNotFound) {
		http.Error(w, "No such ticket.", http.StatusNotFound)
		return t, false
	}
	if err != nil {
		s.fail(w, r, "read ticket", err)
		return t, false
	}
	return t, true
}

func (s *Server) ticketPage(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	t, ok := s.loadTicket(w, r)
	if !ok {
		return
	}
	s.showTicket(w, r, http.StatusOK, u, t, "", "")
}

func (s *Server) showTicket(w http.ResponseWriter, r *http.Request, status int, u storage.ConsoleUser, t bot.Ticket, problem, reply string) {
	p := s.engine.Pack()
	v := ticketView{Ticket: t, CategoryLabel: s.categoryLabel(t.Category), Reply: reply,
		Mine: t.ClaimedBy == u.Identity(), Admin: u.Admin(), MaxReply: maxReply, Version: ticketVersion(t)}
	for _, a := range p.Accounts {
		v.Accounts = append(v.Accounts, accountLine{Name: p.Localize(a.Name, p.DefaultLanguage), State: accountState(t.Context.Accounts[a.ID], s.engine.Location())})
	}
	title := fmt.Sprintf("Ticket #%d", t.ID)
	s.page(w, r, status, &u, "ticket", consoleView{Title: title, Nav: "tickets", Error: problem, Data: v})
}

// accountState is one account's state as the console shows it, in campus time.
func accountState(p bot.Progress, loc *time.Location) string {
	at := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04") }
	switch p.Status {
	case bot.Done:
		if p.Since.IsZero() {
			return "activated"
		}
		return "activated (" + at(p.Since) + ")"
	case bot.Waiting:
		return "waiting: may activate from " + at(p.Until)
	case bot.Problem:
		if p.Since.IsZero() {
			return "had a problem"
		}
		return "had a problem (" + at(p.Since) + ")"
	}
	return "not started"
}

// refusal says why the ticket's state does not allow the action, "" when
// it does: the engine ignores such an action, and the agent must know.
func refusal(t bot.Ticket, action string, agent bot.Agent) string {
	n := "#" + strconv.FormatInt(t.ID, 10)
	switch action {
	case bot.ActClaim:
		if t.Status == bot.TicketResolved {
			return "Ticket " + n + " is resolved: reopen it before claiming it."
		}
		if t.ClaimedBy == agent.Identity {
			return "You already claimed ticket " + n + "."
		}
	case bot.ActResolve:
		if t.Status == bot.TicketResolved {
			return "Ticket " + n + " is already resolved."
		}
	case bot.ActReopen:
		if t.Status != bot.TicketResolved {
			return "Ticket " + n + " is not resolved: there is nothing to reopen."
		}
	}
	return ""
}

var actionDone = map[string]string{
	bot.ActClaim: "claimed", bot.ActReply: "replied", bot.ActResolve: "resolved", bot.ActReopen: "reopened",
}

// ticketAct claims, answers, resolves or reopens a ticket, as an agent in
// a helpdesk chat would: the student hears what matters to them.
func (s *Server) ticketAct(action string) handler {
	return func(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
		t, ok := s.loadTicket(w, r)
		if !ok {
			return
		}
		agent := bot.Agent{Identity: u.Identity(), Name: u.Name}
		text := ""
		if action == bot.ActReply {
			text = strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("text"), "\r\n", "\n"))
			switch {
			case text == "":
				s.showTicket(w, r, http.StatusBadRequest, u, t, "Write an answer first.", "")
				return
			case utf8.RuneCountInString(text) > maxReply:
				s.showTicket(w, r, http.StatusBadRequest, u, t,
					fmt.Sprintf("The answer is too long: at most %d characters.", maxReply), text)
				return
			}
		}
		if seen := r.PostFormValue("seen"); seen != "" && seen != ticketVersion(t) {
			s.showTicket(w, r, http.StatusConflict, u, t, "The ticket changed since you opened it (another agent, or a form sent twice): nothing was done. Here it is as it is now.", text)
			return
		}
		if why := refusal(t, action, agent); why != "" {
			s.showTicket(w, r, http.StatusConflict, u, t, why, text)
			return
		}
		ctx, cancel := background(r, 10*time.Second)
		defer cancel()
		err := s.engine.Act(ctx, t.ID, action, agent, text)
		if errors.Is(err, bot.ErrNotFound) {
			http.Error(w, "No such ticket.", http.StatusNotFound)
			return
		}
		if err != nil {
			s.fail(w, r, "act on ticket", err)
			return
		}
		// Another agent may have changed the ticket between the check and
		// the action: then the engine did nothing, and says nothing.
		after, err := s.tickets().Ticket(ctx, t.ID)
		if err != nil && !errors.Is(err, bot.ErrNotFound) {
			s.fail(w, r, "read ticket", err)
			return
		}
		if err == nil && unchanged(t, after) {
			why := refusal(after, action, agent)
			if why == "" {
				why = "The ticket changed meanwhile; nothing was done."
			}
			s.showTicket(w, r, http.StatusConflict, u, after, why, text)
			return
		}
		s.log.InfoContext(ctx, "ticket action from the console", slog.Int64("ticket", t.ID),
			slog.String("action", action), slog.String("user", u.Name))
		http.Redirect(w, r, "/admin/tickets/"+strconv.FormatInt(t.ID, 10)+"?"+url.Values{"done": {actionDone[action]}}.Encode(), http.StatusSeeOther)
	}
}

func unchanged(before, after bot.Ticket) bool {
	return before.Status == after.Status && before.ClaimedBy == after.ClaimedBy && len(before.Messages) == len(after.Messages)
}
