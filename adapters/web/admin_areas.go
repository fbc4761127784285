package web

import (
	"net/http"

	"activation-bot/storage"
)

// The console's areas. Each is its own file; until an area is built its
// page says so.

func (s *Server) ticketRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/tickets", s.agent(s.todo("tickets", "Tickets")))
}

func (s *Server) broadcastRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/broadcasts", s.admin(s.todo("broadcasts", "Broadcasts")))
}

func (s *Server) studentRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/students", s.admin(s.todo("students", "Students")))
}

func (s *Server) contentRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/content", s.admin(s.todo("content", "Content")))
}

func (s *Server) userRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/users", s.admin(s.todo("users", "Console users")))
}

func (s *Server) todo(nav, title string) handler {
	return func(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
		s.page(w, r, http.StatusOK, &u, "todo", consoleView{Title: title, Nav: nav})
	}
}
