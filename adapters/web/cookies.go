package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"time"
)

// Cookies: the student's web identity, the console session, and the
// double-submit token of forms posted before either exists.
const (
	studentCookie = "ab_student"
	sessionCookie = "ab_session"
	formCookie    = "ab_form"
	langCookie    = "ab_lang"
	// studentCookieAge is how long a browser stays the same student: the
	// activation may take days (the 3-hour wait, a missing e-mail).
	studentCookieAge = 180 * 24 * time.Hour
)

// newID returns a random identifier no one can guess (128 bits).
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// newToken returns a random token for links and sessions (256 bits).
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// setSigned sets a signed, HttpOnly cookie; SameSite Lax keeps the student
// signed in when they follow a link to the page, Strict suits the console.
func (s *Server) setSigned(w http.ResponseWriter, name, value, path string, age time.Duration, same http.SameSite) error {
	enc, err := s.codec.Encode(name, value)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: enc, Path: path, MaxAge: int(age.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: same,
	})
	return nil
}

// signed returns a signed cookie's value, "" when absent or forged.
func (s *Server) signed(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	var v string
	if s.codec.Decode(name, c.Value, &v) != nil {
		return ""
	}
	return v
}

func (s *Server) clearCookie(w http.ResponseWriter, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true, Secure: s.secure})
}

// csrfFor is the form token bound to a secret the browser holds in a
// cookie (a session id, a student id, a form cookie): a page of another
// site can post the cookie but cannot know the token.
func (s *Server) csrfFor(secret string) string {
	m := hmac.New(sha256.New, derive(s.cfg.Key, "csrf"))
	m.Write([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF checks a posted token against the secret.
func (s *Server) validCSRF(r *http.Request, secret string) bool {
	if secret == "" {
		return false
	}
	got := r.PostFormValue("csrf")
	want := s.csrfFor(secret)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// formSecret returns the browser's form cookie, setting a new one when it
// has none: the CSRF secret of forms shown before any session (login,
// password setup, the student's first message).
func (s *Server) formSecret(w http.ResponseWriter, r *http.Request) string {
	if v := s.signed(r, formCookie); v != "" {
		return v
	}
	// Lax, and as long-lived as the student: a chat opened from a link in
	// a mail must not replace the secret of the tabs already open (the
	// token in the form is what stops other sites).
	v := newToken()
	_ = s.setSigned(w, formCookie, v, "/", studentCookieAge, http.SameSiteLaxMode)
	return v
}
