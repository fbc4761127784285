package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"activation-bot/bot"
	"activation-bot/storage"
)

// The users page: admins add console users, hand them a one-time link to
// set a password, and remove them, as `activation-bot admin` does.

func (s *Server) userRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/users", s.admin(s.usersPage))
	mux.Handle("POST /admin/users", s.admin(s.addUser))
	mux.Handle("POST /admin/users/{name}/link", s.admin(s.userLink))
	mux.Handle("POST /admin/users/{name}/remove", s.admin(s.removeUser))
}

type usersView struct {
	Users []userRow
	// Link is a one-time link just issued for LinkFor; it is shown on this
	// page only, never put in a URL.
	Link, LinkFor string
	// Name and Role refill the add form after a refusal.
	Name, Role string
}

type userRow struct {
	Name, Role string
	Password   bool
	Added      time.Time
	Me         bool
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	s.showUsers(w, r, u, http.StatusOK, usersView{Role: storage.RoleAgent}, "", "")
}

// showUsers renders the page with the current list, and v's link or form.
func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser, status int, v usersView, flash, problem string) {
	users, err := s.console.Users(r.Context())
	if err != nil {
		s.fail(w, r, "list console users", err)
		return
	}
	for _, cu := range users {
		v.Users = append(v.Users, userRow{Name: cu.Name, Role: cu.Role, Password: cu.PasswordHash != "", Added: cu.Created, Me: cu.ID == u.ID})
	}
	s.page(w, r, status, &u, "users", consoleView{Title: "Console users", Nav: "users", Data: v, Flash: flash, Error: problem})
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	ctx := r.Context()
	name, role := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role")
	v := usersView{Name: name, Role: role}
	switch {
	case !storage.ValidUserName(name):
		s.showUsers(w, r, u, http.StatusBadRequest, v, "", "Choose a user name of letters, digits and . _ - @ (at most 64).")
		return
	case !storage.ValidRole(role):
		v.Role = storage.RoleAgent
		s.showUsers(w, r, u, http.StatusBadRequest, v, "", "Choose the role agent or admin.")
		return
	}
	if _, err := s.console.AddUser(ctx, name, role); errors.Is(err, storage.ErrUserExists) {
		s.showUsers(w, r, u, http.StatusConflict, v, "", "A console user named "+name+" exists already; give them a new password link from the list instead.")
		return
	} else if err != nil {
		s.fail(w, r, "add console user", err)
		return
	}
	if err := s.console.Record(ctx, storage.AuditEntry{Actor: u.Identity(), Action: storage.ActionUser,
		Subject: "web:" + name, Detail: "added as " + role}); err != nil {
		s.fail(w, r, "audit console user", err)
		return
	}
	s.log.InfoContext(ctx, "console user added", slog.String("by", u.Name), slog.String("user", name), slog.String("role", role))
	s.issueLink(w, r, u, name, "Console user added.")
}

func (s *Server) userLink(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	ctx := r.Context()
	name := r.PathValue("name")
	if _, err := s.console.User(ctx, name); errors.Is(err, bot.ErrNotFound) {
		s.showUsers(w, r, u, http.StatusNotFound, usersView{Role: storage.RoleAgent}, "", "There is no console user named "+name+".")
		return
	} else if err != nil {
		s.fail(w, r, "read console user", err)
		return
	}
	if err := s.console.Record(ctx, storage.AuditEntry{Actor: u.Identity(), Action: storage.ActionUser,
		Subject: "web:" + name, Detail: "new password link"}); err != nil {
		s.fail(w, r, "audit console user", err)
		return
	}
	s.log.InfoContext(ctx, "console password link issued", slog.String("by", u.Name), slog.String("user", name))
	s.issueLink(w, r, u, name, "New password link issued.")
}

// issueLink shows the page with a new one-time link for name: rendered
// straight away (200), so the token never travels in a redirect's URL,
// a browser's history or a proxy's log.
func (s *Server) issueLink(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser, name, flash string) {
	link, err := SetupLink(r.Context(), s.db, s.cfg.PublicURL, name)
	if err != nil {
		s.fail(w, r, "issue password link", err)
		return
	}
	s.showUsers(w, r, u, http.StatusOK, usersView{Link: link, LinkFor: name, Role: storage.RoleAgent}, flash, "")
}

func (s *Server) removeUser(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	ctx := r.Context()
	name := r.PathValue("name")
	if name == u.Name {
		s.showUsers(w, r, u, http.StatusBadRequest, usersView{Role: storage.RoleAgent}, "",
			"You cannot remove yourself; another admin can.")
		return
	}
	if err := s.console.RemoveUser(ctx, name); errors.Is(err, bot.ErrNotFound) {
		s.showUsers(w, r, u, http.StatusNotFound, usersView{Role: storage.RoleAgent}, "", "There is no console user named "+name+".")
		return
	} else if err != nil {
		s.fail(w, r, "remove console user", err)
		return
	}
	if err := s.console.Record(ctx, storage.AuditEntry{Actor: u.Identity(), Action: storage.ActionUser,
		Subject: "web:" + name, Detail: "removed"}); err != nil {
		s.fail(w, r, "audit console user", err)
		return
	}
	s.log.InfoContext(ctx, "console user removed", slog.String("by", u.Name), slog.String("user", name))
	http.Redirect(w, r, "/admin/users?done=user_removed", http.StatusSeeOther)
}
