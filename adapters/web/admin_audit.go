package web

import (
	"net/http"
	"strings"
	"time"

	"activation-bot/storage"
)

// auditShown is how many entries the audit page shows, newest first.
const auditShown = 500

func (s *Server) auditRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/audit", s.admin(s.auditPage))
}

type auditView struct {
	Since   string
	Entries []storage.AuditEntry
	Capped  bool
}

// auditPage is the audit log, as `activation-bot audit` prints it: who did
// what to which subject, never the content; since is a campus-time day.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	v := auditView{Since: strings.TrimSpace(r.URL.Query().Get("since"))}
	var since time.Time
	if v.Since != "" {
		t, err := time.ParseInLocation(time.DateOnly, v.Since, s.engine.Location())
		if err != nil {
			s.page(w, r, http.StatusBadRequest, &u, "audit", consoleView{Title: "Audit log", Nav: "audit", Data: v,
				Error: errBadSince{v.Since}.Error()})
			return
		}
		since = t
	}
	entries, err := s.db.AuditLog(r.Context(), since, auditShown+1)
	if err != nil {
		s.fail(w, r, "read the audit log", err)
		return
	}
	v.Capped = len(entries) > auditShown
	v.Entries = entries[:min(len(entries), auditShown)]
	s.page(w, r, http.StatusOK, &u, "audit", consoleView{Title: "Audit log", Nav: "audit", Data: v})
}
