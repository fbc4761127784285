package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/securecookie"

	"activation-bot/bot"
	"activation-bot/storage"
)

// Platform is the platform name of web chat identities (web:<id>).
const Platform = "web"

//go:embed templates static
var assets embed.FS

// Config is what the web front needs.
type Config struct {
	Engine *bot.Engine
	DB     *storage.DB
	Queue  *storage.Queue
	// Key signs cookies and derives CSRF tokens (SESSION_KEY, or one stored
	// in the database so every instance agrees); at least 32 bytes.
	Key []byte
	// PublicURL is where students and agents reach the server; links the
	// bot gives (setup, another device) start with it.
	PublicURL string
	Logger    *slog.Logger
	// Now is the clock of sessions and tokens; nil: the wall clock.
	Now func() time.Time
	// TrustProxy: the server is behind a proxy that appends the client's
	// address to X-Forwarded-For (TRUST_PROXY); the limits use that one.
	TrustProxy bool
}

// Server serves the student chat page (/), the admin console (/admin) and
// the health probes.
type Server struct {
	cfg     Config
	engine  *bot.Engine
	db      *storage.DB
	chats   *storage.WebChats
	console *storage.Console
	hub     *hub
	codec   *securecookie.SecureCookie
	pages   map[string]*template.Template
	log     *slog.Logger
	now     func() time.Time
	secure  bool // cookies only over HTTPS
	funnel  funnelCache
}

// New builds the web front.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil || cfg.DB == nil || cfg.Queue == nil {
		return nil, errors.New("web: engine, database and queue are required")
	}
	if len(cfg.Key) < 32 {
		return nil, errors.New("SESSION_KEY: must be at least 32 bytes")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("PUBLIC_URL: %q is not an http(s) URL such as https://bot.example.edu", cfg.PublicURL)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	s := &Server{
		cfg: cfg, engine: cfg.Engine, db: cfg.DB,
		chats: storage.NewWebChats(cfg.DB), console: storage.NewConsole(cfg.DB),
		hub: newHub(), log: cfg.Logger, now: cfg.Now, secure: u.Scheme == "https",
		codec: securecookie.New(derive(cfg.Key, "cookies"), nil),
	}
	s.chats.SetClock(cfg.Now)
	s.console.SetClock(cfg.Now)
	s.codec.MaxAge(0) // expiry is each cookie's own (studentCookieAge, sessionTTL)
	if s.pages, err = parsePages(cfg.Engine.Location()); err != nil {
		return nil, err
	}
	return s, nil
}

// derive makes a key for one use from the session key, so a token of one
// kind is never valid as another.
func derive(key []byte, use string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(use))
	return m.Sum(nil)
}

// Handler returns every route of the web front. Forms are also guarded
// against cross-origin posts by the browser's Sec-Fetch-Site header, on
// top of their tokens.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/healthz", Routes(s.db, s.log))
	mux.Handle("/readyz", Routes(s.db, s.log))
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(http.FileServerFS(static), time.Hour)))
	s.chatRoutes(mux)
	s.adminRoutes(mux)
	return securityHeaders(http.NewCrossOriginProtection().Handler(mux))
}

// Listen wakes this instance's open pages when another instance records a
// line for them (Postgres notifications), until ctx ends.
func (s *Server) Listen(ctx context.Context) error {
	return s.chats.Listen(ctx, s.hub.notify)
}

// Sender delivers the bot's messages to web chats.
func (s *Server) Sender() bot.Sender { return &sender{s: s} }

// securityHeaders forbids what the pages never do: framing, inline
// scripts, foreign origins.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

func cacheFor(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(d.Seconds())))
		h.ServeHTTP(w, r)
	})
}

// maxForm bounds a posted form: a broadcast's three texts of 4000
// characters, percent-encoded, are the largest.
const maxForm = 256 << 10

// parseForm reads a bounded form body.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("read form: %w", err)
	}
	return nil
}

// link is an absolute link under PublicURL.
func (s *Server) link(path string, query url.Values) string {
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return s.cfg.PublicURL + path
}

// fail answers a request that failed on our side: the details go to the
// log, the person gets a plain apology.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.ErrorContext(r.Context(), what, slog.String("path", r.URL.Path), slog.Any("error", err))
	http.Error(w, "Something went wrong on our side; please try again in a moment.", http.StatusInternalServerError)
}

// background is a context for work that must finish once started even if
// the browser goes away.
func background(r *http.Request, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), d)
}
