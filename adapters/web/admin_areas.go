package web

import (
	"net/http"

	"activation-bot/storage"
)

// The console's areas. Each is its own file; until an area is built its
// page says so.

func (s *Server) funnelRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/funnel", s.admin(s.todo("funnel", "Funnel")))
}


func (s *Server) todo(nav, title string) handler {
	return func(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
		s.page(w, r, http.StatusOK, &u, "todo", consoleView{Title: title, Nav: nav})
	}
}
