package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"activation-bot/bot"
	"activation-bot/storage"
)

// sessionTTL is how long a console login lasts: a working day.
const sessionTTL = 10 * time.Hour

// setupTTL is how long a link to set a password works.
const setupTTL = 24 * time.Hour

// bcryptCost makes one password check cost tens of milliseconds.
const bcryptCost = 12

// minPassword is the shortest password the console takes, maxPassword
// the longest bcrypt reads (in bytes).
const (
	minPassword = 10
	maxPassword = 72
)

// Login attempts are limited per user name and per address, under the
// limiter every instance shares: 5 attempts per name, then one every 2
// minutes; per address more, as a whole office may share one.
var (
	loginPerUser = bot.Rate{Every: 2 * time.Minute, Burst: 5}
	loginPerAddr = bot.Rate{Every: 5 * time.Second, Burst: 50}
)

// consoleView is what every console page gets; Data is the page's own.
type consoleView struct {
	Title string
	Nav   string
	User  *storage.ConsoleUser
	CSRF  string
	Flash string
	Error string
	Data  any
}

// handler is a console handler that knows who asks.
type handler func(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser)

func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/login", s.loginPage)
	mux.HandleFunc("POST /admin/login", s.login)
	mux.HandleFunc("GET /admin/setup", s.setupPage)
	mux.HandleFunc("POST /admin/setup", s.setup)
	mux.Handle("POST /admin/logout", s.agent(s.logout))
	mux.Handle("GET /admin", s.agent(func(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
		if u.Admin() {
			http.Redirect(w, r, "/admin/funnel", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/admin/tickets", http.StatusSeeOther)
	}))
	s.funnelRoutes(mux)
	s.ticketRoutes(mux)
	s.broadcastRoutes(mux)
	s.studentRoutes(mux)
	s.contentRoutes(mux)
	s.userRoutes(mux)
	s.auditRoutes(mux)
}

// agent lets any console user in; admin only admins. Without a session a
// page redirects to the login and any other request gets 401; a user
// without the role gets 403. A post must carry the session's CSRF token.
func (s *Server) agent(h handler) http.Handler { return s.guard(h, false) }
func (s *Server) admin(h handler) http.Handler { return s.guard(h, true) }

func (s *Server) guard(h handler, adminOnly bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sid := s.signed(r, sessionCookie)
		var u storage.ConsoleUser
		var err error
		if sid != "" {
			u, err = s.console.Session(r.Context(), sid)
		}
		switch {
		case sid == "" || errors.Is(err, bot.ErrNotFound):
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "Please log in.", http.StatusUnauthorized)
			return
		case err != nil:
			s.fail(w, r, "read console session", err)
			return
		}
		if adminOnly && !u.Admin() {
			http.Error(w, "This needs an admin.", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := parseForm(w, r); err != nil {
				http.Error(w, "The form is too large.", http.StatusRequestEntityTooLarge)
				return
			}
			if !s.validCSRF(r, sid) {
				http.Error(w, "The form expired; go back, reload the page and try again.", http.StatusForbidden)
				return
			}
		}
		h(w, r, u)
	})
}

// page renders a console page for u.
func (s *Server) page(w http.ResponseWriter, r *http.Request, status int, u *storage.ConsoleUser, name string, v consoleView) {
	v.User = u
	if u != nil {
		v.CSRF = s.csrfFor(s.signed(r, sessionCookie))
	}
	if v.Flash == "" {
		v.Flash = flashes[r.URL.Query().Get("done")]
	}
	s.render(w, r, status, "console", name, v)
}

// flashes are the confirmations a redirect after a post carries by key.
var flashes = map[string]string{
	"claimed": "Ticket claimed.", "replied": "Answer sent to the student.", "resolved": "Ticket resolved.",
	"reopened": "Ticket reopened.", "erased": "The student's data was erased.", "cancelled": "Broadcast cancelled.",
	"created": "Broadcast created.", "user_added": "Console user added.", "user_removed": "Console user removed.",
	"password": "Password set.",
}

type loginView struct {
	Next  string
	Name  string
	Form  string // CSRF token of the login form
	Setup bool   // the setup page: a first admin's name is asked
	Token string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	v := loginView{Next: safeNext(r.URL.Query().Get("next")), Form: s.csrfFor(s.formSecret(w, r))}
	s.page(w, r, http.StatusOK, nil, "login", consoleView{Title: "Log in", Data: v})
}

// safeNext keeps a redirect after login inside the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/admin") && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") {
		return next
	}
	return "/admin"
}

// clientAddr is the address a request comes from: with TRUST_PROXY, the
// one the proxy in front saw (the last X-Forwarded-For entry, the one it
// added); else the connection's.
func (s *Server) clientAddr(r *http.Request) string {
	if s.cfg.TrustProxy {
		if fwd := r.Header.Values("X-Forwarded-For"); len(fwd) > 0 {
			hops := strings.Split(fwd[len(fwd)-1], ",")
			if last := strings.TrimSpace(hops[len(hops)-1]); last != "" {
				return last
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// dummyHash is checked when the user does not exist, so a missing name
// costs the same time as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone"), bcryptCost)

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := parseForm(w, r); err != nil || !s.validCSRF(r, s.signed(r, formCookie)) {
		http.Error(w, "The form expired; go back, reload the page and try again.", http.StatusForbidden)
		return
	}
	name, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	v := loginView{Next: safeNext(r.PostFormValue("next")), Name: name, Form: s.csrfFor(s.formSecret(w, r))}
	retry, err := s.loginAllowed(r, name)
	if err != nil {
		s.fail(w, r, "rate limit login", err)
		return
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconvSeconds(retry))
		s.log.WarnContext(ctx, "console login refused: too many attempts", slog.String("addr", s.clientAddr(r)))
		s.page(w, r, http.StatusTooManyRequests, nil, "login", consoleView{Title: "Log in", Data: v,
			Error: "Too many attempts. Wait a few minutes, then try again."})
		return
	}
	u, err := s.console.User(ctx, name)
	if err != nil && !errors.Is(err, bot.ErrNotFound) {
		s.fail(w, r, "read console user", err)
		return
	}
	hash := []byte(u.PasswordHash)
	if err != nil || len(hash) == 0 {
		hash = dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || err != nil || u.PasswordHash == "" {
		// A password typed into the name field must not reach the log: the
		// name is logged only when it is a user's.
		logged := "(unknown)"
		if err == nil {
			logged = name
		}
		s.log.WarnContext(ctx, "console login failed", slog.String("user", logged), slog.String("addr", s.clientAddr(r)))
		if err := s.loginFailed(r, name); err != nil {
			s.fail(w, r, "count failed login", err)
			return
		}
		s.page(w, r, http.StatusUnauthorized, nil, "login", consoleView{Title: "Log in", Data: v,
			Error: "Wrong user name or password."})
		return
	}
	if err := s.startSession(w, r, u); err != nil {
		s.fail(w, r, "start console session", err)
		return
	}
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
}

// loginAllowed says how long to wait before a login attempt is heard (0:
// now). Only failed attempts count against a name, so its owner is not
// locked out by their own logins; every attempt counts against an address.
func (s *Server) loginAllowed(r *http.Request, name string) (time.Duration, error) {
	at, ok, err := s.cfg.Queue.Available(r.Context(), loginKey(name), loginPerUser)
	if err != nil {
		return 0, err
	}
	if ok {
		at, ok, err = s.cfg.Queue.Reserve(r.Context(), "login:addr:"+s.clientAddr(r), loginPerAddr, 0)
		if err != nil {
			return 0, err
		}
	}
	if !ok {
		return max(at.Sub(s.now()), time.Second), nil
	}
	return 0, nil
}

func loginKey(name string) string { return "login:user:" + strings.ToLower(name) }

// loginFailed counts a failed attempt against the name.
func (s *Server) loginFailed(r *http.Request, name string) error {
	_, _, err := s.cfg.Queue.Reserve(r.Context(), loginKey(name), loginPerUser, 0)
	return err
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) error {
	sid := newToken()
	if err := s.console.StartSession(r.Context(), sid, u.ID, sessionTTL); err != nil {
		return err
	}
	if err := s.console.Record(r.Context(), storage.AuditEntry{Actor: u.Identity(), Action: storage.ActionLogin, Subject: u.Identity(),
		Detail: "from " + s.clientAddr(r)}); err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "console login", slog.String("user", u.Name), slog.String("role", u.Role))
	return s.setSigned(w, sessionCookie, sid, "/admin", sessionTTL, http.SameSiteStrictMode)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	if err := s.console.EndSession(r.Context(), s.signed(r, sessionCookie)); err != nil {
		s.fail(w, r, "end console session", err)
		return
	}
	s.clearCookie(w, sessionCookie, "/admin")
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

// setupPage is the form a one-time link opens: a password for an added
// user, or name and password of the first admin.
func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	v, ok := s.setupView(w, r, token)
	if !ok {
		s.page(w, r, http.StatusGone, nil, "setup", consoleView{Title: "Set a password", Error: storage.ErrTokenInvalid.Error() + ". Ask an admin for a new one (activation-bot admin add)."})
		return
	}
	s.page(w, r, http.StatusOK, nil, "setup", consoleView{Title: "Set a password", Data: v})
}

func (s *Server) setupView(w http.ResponseWriter, r *http.Request, token string) (loginView, bool) {
	v := loginView{Token: token, Form: s.csrfFor(s.formSecret(w, r))}
	if name, err := s.console.PeekToken(r.Context(), token, storage.TokenPassword); err == nil {
		v.Name = name
		return v, true
	}
	if _, err := s.console.PeekToken(r.Context(), token, storage.TokenFirstAdmin); err == nil {
		v.Setup = true
		return v, true
	}
	return v, false
}

func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil || !s.validCSRF(r, s.signed(r, formCookie)) {
		http.Error(w, "The form expired; go back, reload the page and try again.", http.StatusForbidden)
		return
	}
	token := r.PostFormValue("token")
	v, ok := s.setupView(w, r, token)
	if !ok {
		s.page(w, r, http.StatusGone, nil, "setup", consoleView{Title: "Set a password", Error: storage.ErrTokenInvalid.Error() + "."})
		return
	}
	name, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	if v.Setup {
		v.Name = name
	}
	problem := ""
	switch {
	case v.Setup && !storage.ValidUserName(name):
		problem = "Choose a user name of letters, digits and . _ - @ (at most 64)."
	case len([]rune(password)) < minPassword:
		problem = "Choose a password of at least 10 characters."
	case len(password) > maxPassword:
		problem = "Choose a password of at most 72 bytes (bcrypt reads no more)."
	case password != r.PostFormValue("confirm"):
		problem = "The two passwords differ."
	}
	if problem != "" {
		s.page(w, r, http.StatusBadRequest, nil, "setup", consoleView{Title: "Set a password", Data: v, Error: problem})
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		s.fail(w, r, "hash password", err)
		return
	}
	u, err := s.console.SetPassword(r.Context(), token, name, string(hash))
	switch {
	case errors.Is(err, storage.ErrUserExists):
		s.page(w, r, http.StatusConflict, nil, "setup", consoleView{Title: "Set a password", Data: v, Error: "That user name is taken."})
		return
	case errors.Is(err, storage.ErrTokenInvalid):
		s.page(w, r, http.StatusGone, nil, "setup", consoleView{Title: "Set a password", Error: err.Error() + "."})
		return
	case err != nil:
		s.fail(w, r, "set password", err)
		return
	}
	if err := s.startSession(w, r, u); err != nil {
		s.fail(w, r, "start console session", err)
		return
	}
	http.Redirect(w, r, "/admin?done=password", http.StatusSeeOther)
}

// SetupLink issues a one-time link to set the password of console user
// name (`admin add`).
func SetupLink(ctx context.Context, db *storage.DB, publicURL, name string) (string, error) {
	token := newToken()
	if err := storage.NewConsole(db).IssueToken(ctx, token, storage.TokenPassword, name, setupTTL); err != nil {
		return "", err
	}
	return strings.TrimRight(publicURL, "/") + "/admin/setup?token=" + url.QueryEscape(token), nil
}

// FirstAdminLink issues a one-time link that creates the first admin, when
// there is no admin yet; "" when there is one.
func FirstAdminLink(ctx context.Context, db *storage.DB, publicURL string) (string, error) {
	c := storage.NewConsole(db)
	has, err := c.HasAdmin(ctx)
	if err != nil || has {
		return "", err
	}
	token := newToken()
	if err := c.IssueToken(ctx, token, storage.TokenFirstAdmin, "", setupTTL); err != nil {
		return "", err
	}
	return strings.TrimRight(publicURL, "/") + "/admin/setup?token=" + url.QueryEscape(token), nil
}

func strconvSeconds(d time.Duration) string { return strconv.Itoa(int(d.Round(time.Second).Seconds())) }
