// Package smtptest is an in-process SMTP server (github.com/emersion/go-smtp)
// for testing what sends mail, end to end over real SMTP conversations.
//
//	srv := smtptest.Start(t)
//	cfg, _ := email.ParseConfig(srv.URL("helpdesk", "secret"), "bot@example.org", "desk@example.org")
//	… send …
//	msgs := srv.Wait(t, 1)
//
// It listens on 127.0.0.1, accepts AUTH PLAIN for any user name and
// password (also without TLS), records every message it accepts, and can be
// made to refuse them (FailWith). StartTLS and StartSMTPS serve STARTTLS and
// implicit TLS with a self-signed certificate (RootCAs). Everything is safe
// for concurrent use.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const (
	waitTimeout = 10 * time.Second
	waitTick    = 5 * time.Millisecond
	ioTimeout   = 10 * time.Second
)

// Message is one mail the server accepted.
type Message struct {
	From string   // envelope sender (MAIL FROM)
	To   []string // envelope recipients (RCPT TO)
	Data string   // the message as sent: headers and body, CRLF line ends
	Auth string   // the user name authenticated with, "" if none
	TLS  bool     // whether the session was encrypted
}

// Server is a running test SMTP server.
type Server struct {
	addr   string
	scheme string
	roots  *x509.CertPool

	mu   sync.Mutex
	msgs []Message
	fail *smtp.SMTPError
}

type mode int

const (
	plain mode = iota
	startTLS
	implicitTLS
)

// Start runs a plain server (no STARTTLS) until the test ends.
func Start(t testing.TB) *Server { return start(t, plain) }

// StartTLS runs a server that offers STARTTLS, with a certificate that
// RootCAs trusts.
func StartTLS(t testing.TB) *Server { return start(t, startTLS) }

// StartSMTPS runs a server with implicit TLS (smtps://), with a certificate
// that RootCAs trusts.
func StartSMTPS(t testing.TB) *Server { return start(t, implicitTLS) }

func start(t testing.TB, m mode) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s := &Server{addr: l.Addr().String(), scheme: "smtp"}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = ioTimeout, ioTimeout
	srv.MaxMessageBytes = 10 << 20
	// Connections dropped by a client under test are expected: not noise.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if m != plain {
		cfg, roots, err := selfSigned()
		if err != nil {
			l.Close()
			t.Fatalf("smtptest: certificate: %v", err)
		}
		s.roots = roots
		srv.TLSConfig = cfg
		if m == implicitTLS {
			l = tls.NewListener(l, cfg)
			s.scheme = "smtps"
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l) // returns when closed
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Close misses a listener that Serve has not registered yet (a
		// test that ends at once): closing it here ends Serve either way.
		_ = l.Close()
		<-done
	})
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// URL returns the server's URL (smtp:// or smtps://) with user and pass;
// an empty user gives a URL without credentials.
func (s *Server) URL(user, pass string) string {
	u := url.URL{Scheme: s.scheme, Host: s.addr}
	switch {
	case user != "" && pass != "":
		u.User = url.UserPassword(user, pass)
	case user != "":
		u.User = url.User(user)
	}
	return u.String()
}

// RootCAs trusts the server's certificate; nil for a plain server.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// FailWith makes every MAIL and DATA command fail with code and msg (e.g.
// 451 or 550) until FailWith(0, "").
func (s *Server) FailWith(code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.fail = nil
		return
	}
	s.fail = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: msg}
}

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.msgs))
	for i, m := range s.msgs {
		m.To = slices.Clone(m.To)
		out[i] = m
	}
	return out
}

// Wait returns the messages once at least n arrived; it fails the test
// after 10 seconds.
func (s *Server) Wait(t testing.TB, n int) []Message {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		msgs := s.Messages()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("smtptest: %d of %d messages after %s", len(msgs), n, waitTimeout)
		}
		time.Sleep(waitTick)
	}
}

func (s *Server) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail == nil {
		return nil
	}
	return s.fail
}

func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
}

type backend struct{ s *Server }

// NewSession is called on EHLO, and again after STARTTLS.
func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, encrypted := c.TLSConnectionState()
	return &session{s: b.s, tls: encrypted}, nil
}

// session is one client's conversation; go-smtp calls it from the
// connection's goroutine only.
type session struct {
	s    *Server
	tls  bool
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, _ string) error {
		if user == "" {
			return errors.New("smtptest: empty user name")
		}
		ss.user = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if err := ss.s.failure(); err != nil {
		return err
	}
	ss.from, ss.to = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	// r must be read whole, also to refuse it.
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := ss.s.failure(); err != nil {
		return err
	}
	ss.s.record(Message{From: ss.from, To: slices.Clone(ss.to), Data: string(data), Auth: ss.user, TLS: ss.tls})
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool
// that trusts it.
func selfSigned() (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}
	return cfg, roots, nil
}
