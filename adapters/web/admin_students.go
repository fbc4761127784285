package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"activation-bot/bot"
	"activation-bot/storage"
)

// studentsShown is how many students a search lists.
const studentsShown = 50

func (s *Server) studentRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/students", s.admin(s.studentList))
	mux.Handle("GET /admin/students/{id}", s.admin(s.studentPage))
	mux.Handle("GET /admin/students/{id}/erase", s.admin(s.erasePage))
	mux.Handle("POST /admin/students/{id}/erase", s.admin(s.erase))
	mux.Handle("GET /admin/students/{id}/unlink", s.admin(s.unlinkPage))
	mux.Handle("POST /admin/students/{id}/unlink", s.admin(s.unlink))
}

type studentRow struct {
	storage.StudentSummary
	States []accountLine
}

type studentListView struct {
	Q        string
	Students []studentRow
	Limit    int
}

// accountStates names each of the pack's accounts with the student's
// state of it.
func (s *Server) accountStates(states []storage.AccountState) []accountLine {
	p := s.engine.Pack()
	byID := map[string]storage.AccountState{}
	for _, a := range states {
		byID[a.Account] = a
	}
	out := make([]accountLine, 0, len(p.Accounts))
	for _, a := range p.Accounts {
		pr := bot.Progress{Status: bot.NotStarted}
		if st, ok := byID[a.ID]; ok {
			pr = bot.Progress{Status: bot.Status(st.Status), Since: st.Updated}
			if st.WaitUntil.Valid {
				pr.Until = st.WaitUntil.Time
			}
		}
		out = append(out, accountLine{Name: p.Localize(a.Name, p.DefaultLanguage), State: accountState(pr, s.engine.Location())})
	}
	return out
}

func (s *Server) studentList(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	v := studentListView{Q: strings.TrimSpace(r.URL.Query().Get("q")), Limit: studentsShown}
	if utf8.RuneCountInString(v.Q) > 200 {
		s.page(w, r, http.StatusBadRequest, &u, "students", consoleView{Title: "Students", Nav: "students",
			Error: "The search is too long.", Data: studentListView{Limit: studentsShown}})
		return
	}
	list, err := s.db.FindStudents(r.Context(), v.Q, studentsShown)
	if err != nil {
		s.fail(w, r, "find students", err)
		return
	}
	for _, st := range list {
		v.Students = append(v.Students, studentRow{StudentSummary: st, States: s.accountStates(st.Accounts)})
	}
	s.page(w, r, http.StatusOK, &u, "students", consoleView{Title: "Students", Nav: "students", Data: v})
}

type studentView struct {
	Student storage.StudentRecord
	States  []accountLine
	Tickets []ticketRow
	Counts  storage.ErasureCounts
	Confirm bool // the erase or unlink form was posted without its confirmation
	// Unlink: the student's identities may be detached (an admin, and
	// more than one identity).
	Unlink bool
	// Identity is the identity the unlink page asks about.
	Identity storage.StudentIdentity
}

// loadStudent answers 404 itself when there is no such student.
func (s *Server) loadStudent(w http.ResponseWriter, r *http.Request) (storage.StudentRecord, bool) {
	id, ok := pathID(r)
	if !ok {
		http.Error(w, "No such student.", http.StatusNotFound)
		return storage.StudentRecord{}, false
	}
	st, err := s.db.Student(r.Context(), id)
	if errors.Is(err, bot.ErrNotFound) {
		http.Error(w, "No such student: perhaps erased.", http.StatusNotFound)
		return st, false
	}
	if err != nil {
		s.fail(w, r, "read student", err)
		return st, false
	}
	return st, true
}

func (s *Server) studentPage(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	st, ok := s.loadStudent(w, r)
	if !ok {
		return
	}
	v := studentView{Student: st, States: s.accountStates(st.Accounts), Unlink: u.Admin() && len(st.Identities) > 1}
	for _, t := range st.Tickets {
		v.Tickets = append(v.Tickets, ticketRow{Ticket: t, CategoryLabel: s.categoryLabel(t.Category)})
	}
	flash := ""
	if to, err := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64); err == nil && r.URL.Query().Get("done") == "unlinked" {
		flash = fmt.Sprintf("Identity unlinked: it is now student %d, with an empty conversation of its own.", to)
	}
	s.page(w, r, http.StatusOK, &u, "student", consoleView{Title: fmt.Sprintf("Student %d", st.ID), Nav: "students", Flash: flash, Data: v})
}

func (s *Server) erasePage(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	s.showErase(w, r, http.StatusOK, u, "")
}

func (s *Server) showErase(w http.ResponseWriter, r *http.Request, status int, u storage.ConsoleUser, problem string) {
	st, ok := s.loadStudent(w, r)
	if !ok {
		return
	}
	counts, err := s.db.ErasureCounts(r.Context(), st.ID)
	if errors.Is(err, bot.ErrNotFound) {
		http.Error(w, "No such student: perhaps erased.", http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(w, r, "count student's data", err)
		return
	}
	v := studentView{Student: st, Counts: counts, Confirm: problem != ""}
	s.page(w, r, status, &u, "erase", consoleView{Title: fmt.Sprintf("Erase student %d", st.ID), Nav: "students", Error: problem, Data: v})
}

// erase deletes everything about a student, once the admin confirmed it;
// the erasure is audited under the admin's name.
func (s *Server) erase(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	id, ok := pathID(r)
	if !ok {
		http.Error(w, "No such student.", http.StatusNotFound)
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		s.showErase(w, r, http.StatusBadRequest, u, "Tick the box to confirm the erasure: nothing was erased.")
		return
	}
	ctx, cancel := background(r, 30*time.Second)
	defer cancel()
	c, err := s.db.EraseStudent(ctx, id, u.Identity())
	if errors.Is(err, bot.ErrNotFound) {
		http.Error(w, "No such student: perhaps erased already.", http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(w, r, "erase student", err)
		return
	}
	s.log.InfoContext(ctx, "student erased from the console", slog.Int64("student", id), slog.String("user", u.Name),
		slog.Int("transcript", c.Transcript), slog.Int("tickets", c.Tickets), slog.Int("outbox", c.Outbox))
	http.Redirect(w, r, "/admin/students?done=erased", http.StatusSeeOther)
}

func (s *Server) unlinkPage(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	s.showUnlink(w, r, http.StatusOK, u, r.URL.Query().Get("identity"), "")
}

// showUnlink asks to confirm detaching identity from the student of the
// path; with only one identity left it says why it cannot.
func (s *Server) showUnlink(w http.ResponseWriter, r *http.Request, status int, u storage.ConsoleUser, identity, problem string) {
	st, ok := s.loadStudent(w, r)
	if !ok {
		return
	}
	v := studentView{Student: st, Confirm: problem != ""}
	found := false
	for _, i := range st.Identities {
		if i.Identity() == identity {
			v.Identity, found = i, true
		}
	}
	if !found {
		http.Error(w, fmt.Sprintf("Student %d has no identity %q: perhaps unlinked already.", st.ID, identity), http.StatusNotFound)
		return
	}
	v.Unlink = len(st.Identities) > 1
	if !v.Unlink {
		status, problem = http.StatusConflict, lastIdentity
	}
	s.page(w, r, status, &u, "unlink", consoleView{Title: fmt.Sprintf("Unlink an identity of student %d", st.ID), Nav: "students", Error: problem, Data: v})
}

const lastIdentity = "This is the student's only identity: it cannot be unlinked. Erase the student instead, if that is what they asked."

// unlink detaches an identity from its student once the admin confirmed
// it: the identity starts over as a new student, the rest stays. The
// unlink is audited under the admin's name.
func (s *Server) unlink(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	id, ok := pathID(r)
	if !ok {
		http.Error(w, "No such student.", http.StatusNotFound)
		return
	}
	identity := r.PostFormValue("identity")
	if r.PostFormValue("confirm") != "yes" {
		s.showUnlink(w, r, http.StatusBadRequest, u, identity, "Tick the box to confirm: nothing was unlinked.")
		return
	}
	ctx, cancel := background(r, 30*time.Second)
	defer cancel()
	// The identity must still be this student's: the page the admin
	// confirmed on named it so.
	platform, _, _ := strings.Cut(identity, ":")
	to, err := s.db.UnlinkIdentityOf(ctx, id, identity, u.Identity())
	switch {
	case errors.Is(err, bot.ErrNotFound):
		http.Error(w, fmt.Sprintf("Student %d has no identity %q: perhaps unlinked or erased already.", id, identity), http.StatusNotFound)
		return
	case errors.Is(err, storage.ErrLastIdentity):
		s.showUnlink(w, r, http.StatusConflict, u, identity, lastIdentity)
		return
	case err != nil:
		s.fail(w, r, "unlink identity", err)
		return
	}
	// The log names the platform only, as the audit log does.
	s.log.InfoContext(ctx, "identity unlinked from the console", slog.Int64("student", id), slog.Int64("new_student", to),
		slog.String("platform", platform), slog.String("user", u.Name))
	http.Redirect(w, r, fmt.Sprintf("/admin/students/%d?done=unlinked&to=%d", id, to), http.StatusSeeOther)
}
