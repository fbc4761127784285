package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"activation-bot/bot"
)

// errNoStartTLS is go-smtp's error (v0.26) for a server that offers no
// STARTTLS. The library has no other way to say it, and no exported way to
// upgrade a connection already greeted; the tests against a plain server
// catch a change of wording.
const errNoStartTLS = "smtp: server doesn't support STARTTLS"

// conn is one SMTP session.
type conn struct {
	*smtp.Client
	raw       net.Conn // the TCP connection under any TLS
	encrypted bool
	release   func()
}

// deliver mails data to the helpdesk in one SMTP session.
func (s *Sender) deliver(ctx context.Context, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	c, err := s.connect(ctx)
	if err != nil {
		return withContext(ctx, err)
	}
	defer c.release()
	return withContext(ctx, s.transact(ctx, c, data))
}

// transact runs the session: EHLO, AUTH, MAIL, RCPT, DATA, QUIT.
func (s *Sender) transact(ctx context.Context, c *conn, data []byte) error {
	if err := c.Hello(s.domain); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if s.server.hasCredentials() {
		if err := checkCredentials(c.encrypted, c.raw.RemoteAddr()); err != nil {
			return err
		}
		if err := c.Auth(sasl.NewPlainClient("", s.server.user, s.server.pass)); err != nil {
			return fmt.Errorf("authenticate as %q: %w", s.server.user, err)
		}
	}
	rcpts := make([]string, len(s.to))
	for i, a := range s.to {
		rcpts[i] = a.Address
	}
	if err := c.SendMail(s.from.Address, rcpts, bytes.NewReader(data)); err != nil {
		return err
	}
	// The server took the mail with its reply to DATA: a failed QUIT must
	// not make the caller send it again.
	if err := c.Quit(); err != nil {
		s.log.DebugContext(ctx, "smtp quit failed after the mail was accepted", slog.Any("error", err))
	}
	return nil
}

// connect opens a session: implicit TLS for smtps://; for smtp://, STARTTLS
// when the server offers it, else a plain connection.
func (s *Sender) connect(ctx context.Context) (*conn, error) {
	if s.server.implicitTLS {
		return s.connectTLS(ctx)
	}
	c, err := s.connectStartTLS(ctx)
	if err == nil || err.Error() != errNoStartTLS {
		return c, err
	}
	// go-smtp closed that connection on finding no STARTTLS: a second one
	// stays plain (a local relay; checkCredentials guards the password).
	return s.connectPlain(ctx)
}

func (s *Sender) connectTLS(ctx context.Context) (*conn, error) {
	raw, limited, release, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(limited, s.tlsConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		release()
		return nil, fmt.Errorf("tls handshake with %s: %w", s.server.addr(), err)
	}
	return &conn{Client: smtp.NewClient(tc), raw: raw, encrypted: true, release: release}, nil
}

func (s *Sender) connectStartTLS(ctx context.Context) (*conn, error) {
	raw, limited, release, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	// The TLS handshake itself happens with the next command (EHLO).
	c, err := smtp.NewClientStartTLS(limited, s.tlsConfig())
	if err != nil {
		release()
		return nil, err
	}
	return &conn{Client: c, raw: raw, encrypted: true, release: release}, nil
}

func (s *Sender) connectPlain(ctx context.Context) (*conn, error) {
	raw, limited, release, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{Client: smtp.NewClient(limited), raw: raw, release: release}, nil
}

// dial connects to the server. go-smtp sets its own deadline for each
// command and clears it after, so the connection it gets (limited) keeps
// every deadline within ctx's; and ctx ending closes the connection, which
// ends a blocked read at once. release closes it and stops the watch.
func (s *Sender) dial(ctx context.Context) (raw, limited net.Conn, release func(), err error) {
	var d net.Dialer
	raw, err = d.DialContext(ctx, "tcp", s.server.addr())
	if err != nil {
		return nil, nil, nil, err
	}
	deadline, _ := ctx.Deadline() // deliver always sets one
	limited = &deadlineConn{Conn: raw, limit: deadline}
	if err := limited.SetDeadline(time.Time{}); err != nil {
		raw.Close()
		return nil, nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	return raw, limited, func() { stop(); raw.Close() }, nil
}

func (s *Sender) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.server.host, MinVersion: tls.VersionTLS12, RootCAs: s.rootCAs}
}

// deadlineConn keeps every deadline set on a connection within limit; the
// zero time (no deadline) becomes limit.
type deadlineConn struct {
	net.Conn
	limit time.Time
}

func (c *deadlineConn) SetDeadline(t time.Time) error     { return c.Conn.SetDeadline(c.clamp(t)) }
func (c *deadlineConn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(c.clamp(t)) }
func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.clamp(t))
}

func (c *deadlineConn) clamp(t time.Time) time.Time {
	if t.IsZero() || t.After(c.limit) {
		return c.limit
	}
	return t
}

// checkCredentials refuses to send the password unencrypted, except to a
// server on this machine (a local relay), where it never crosses a network.
// It is permanent: the server offers no STARTTLS and retrying will not
// change that; the configuration must.
func checkCredentials(encrypted bool, remote net.Addr) error {
	if encrypted || isLoopback(remote) {
		return nil
	}
	return fmt.Errorf("%w: refusing to send SMTP credentials unencrypted to %s: the server offers no STARTTLS (use smtps:// or a server with STARTTLS)",
		bot.ErrRejected, remote)
}

func isLoopback(a net.Addr) bool {
	if a == nil {
		return false
	}
	ap, err := netip.ParseAddrPort(a.String())
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// classify marks the server's permanent refusals (5xx) as bot.ErrRejected;
// 4xx replies, network errors and timeouts stay transient.
func classify(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 && !errors.Is(err, bot.ErrRejected) {
		return fmt.Errorf("%w: %w", bot.ErrRejected, err)
	}
	return err
}

// withContext adds ctx's error to err when ctx ended: closing the
// connection then shows as "use of closed network connection", which says
// nothing of why.
func withContext(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || errors.Is(err, ctx.Err()) {
		return err
	}
	return fmt.Errorf("%w (%w)", err, ctx.Err())
}
