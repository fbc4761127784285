// Package web serves activation-bot over HTTP. For now: the health probes a
// load balancer or orchestrator polls; the web chat and admin pages follow.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Pinger is the database check behind /readyz.
type Pinger interface {
	PingContext(ctx context.Context) error
}

// Routes returns the HTTP handler: /healthz answers 200 while the process
// runs; /readyz answers 200 only when the database answers too, so traffic
// is sent only to instances that can serve it.
func Routes(db Pinger, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			log.WarnContext(ctx, "not ready: database unreachable", slog.Any("err", err))
			writeText(w, http.StatusServiceUnavailable, "database unreachable")
			return
		}
		writeText(w, http.StatusOK, "ready")
	})
	return mux
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body + "\n"))
}
