package email_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"activation-bot/adapters/email"
	"activation-bot/adapters/email/smtptest"
	"activation-bot/bot"
)

const (
	testPassword = "hunter2-s3cret"
	testFrom     = `"Odisee Bot" <bot@example.org>`
	testTo       = "helpdesk@example.org, Tweede Lijn <second@example.org>"
	testSubject  = "Ticket #3: e-mail ontbreekt — Zoë"
)

// testText exercises the body encoding: non-ASCII, blank lines, a line
// longer than 76 characters, trailing spaces, "=", a lone "." line (the
// end of DATA if not stuffed) and a CR LF typed by the student.
var testText = "Student: Zoë Dupré (telegram:42)\n" +
	"Categorie: e-mail ontbreekt\n\n" +
	"Beschrijving: ik heb geen mail gekregen met mijn gegevens, ook niet in de spam-map van mijn inbox, al drie dagen niet.   \n" +
	".\n" +
	"a=b \u2014 €5\r\n" +
	"laatste regel"

func newSender(t *testing.T, rawURL string) *email.Sender {
	t.Helper()
	cfg, err := email.ParseConfig(rawURL, testFrom, testTo)
	require.NoError(t, err)
	cfg.Logger = slog.New(slog.DiscardHandler)
	s, err := email.New(cfg)
	require.NoError(t, err)
	return s
}

func ticketRow(kind string) bot.Delivery {
	return bot.Delivery{
		ID:      77,
		Chat:    bot.Chat{Platform: bot.EmailPlatform, ID: "helpdesk"},
		Created: time.Date(2026, 9, 14, 10, 30, 0, 0, time.UTC),
		Message: &bot.Outbound{Text: testText},
		Ticket:  &bot.TicketPost{ID: 3, Kind: kind, Subject: testSubject},
	}
}

func TestSendMailsNewTicket(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv.URL("helpdesk-bot", testPassword))

	sent, err := s.Send(t.Context(), ticketRow(bot.PostNew))
	require.NoError(t, err)
	require.Equal(t, bot.Sent{Ref: "<ticket-3-77@example.org>"}, sent)

	msgs := srv.Wait(t, 1)
	require.Len(t, msgs, 1)
	m := msgs[0]
	require.Equal(t, "bot@example.org", m.From)
	require.Equal(t, []string{"helpdesk@example.org", "second@example.org"}, m.To)
	require.Equal(t, "helpdesk-bot", m.Auth)
	requireWellFormed(t, m.Data)

	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	require.NoError(t, err)
	h := msg.Header
	from, err := h.AddressList("From")
	require.NoError(t, err)
	require.Equal(t, []*mail.Address{{Name: "Odisee Bot", Address: "bot@example.org"}}, from)
	to, err := h.AddressList("To")
	require.NoError(t, err)
	require.Equal(t, []*mail.Address{{Address: "helpdesk@example.org"}, {Name: "Tweede Lijn", Address: "second@example.org"}}, to)

	require.Contains(t, h.Get("Subject"), "=?utf-8?q?", "a non-ASCII subject is RFC 2047 encoded")
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	require.NoError(t, err)
	require.Equal(t, testSubject, subject)

	require.Equal(t, "<ticket-3-77@example.org>", h.Get("Message-ID"))
	require.Equal(t, "auto-generated", h.Get("Auto-Submitted"))
	require.Equal(t, "1.0", h.Get("MIME-Version"))
	require.Equal(t, "text/plain; charset=utf-8", h.Get("Content-Type"))
	require.Equal(t, "quoted-printable", h.Get("Content-Transfer-Encoding"))
	date, err := h.Date()
	require.NoError(t, err)
	require.True(t, date.Equal(time.Date(2026, 9, 14, 10, 30, 0, 0, time.UTC)), "Date is the row's creation: %s", date)

	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	require.NoError(t, err)
	want := strings.ReplaceAll(strings.ReplaceAll(testText, "\r\n", "\n"), "\n", "\r\n")
	require.Equal(t, want, string(body))
}

// requireWellFormed checks what a mail server may refuse: bare CR or LF,
// 8-bit bytes, lines over 78 characters.
func requireWellFormed(t *testing.T, data string) {
	t.Helper()
	require.True(t, strings.HasSuffix(data, "\r\n"))
	for line := range strings.SplitSeq(strings.TrimSuffix(data, "\r\n"), "\r\n") {
		require.NotContains(t, line, "\r")
		require.NotContains(t, line, "\n")
		require.LessOrEqual(t, len(line), 78, "line %q", line)
		for _, b := range []byte(line) {
			require.Less(t, b, byte(0x80), "8-bit byte in line %q", line)
		}
	}
}

func TestSendRepeatHasSameMessageID(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv.URL("", ""))
	for range 2 {
		_, err := s.Send(t.Context(), ticketRow(bot.PostNew))
		require.NoError(t, err)
	}
	msgs := srv.Wait(t, 2)
	require.Equal(t, msgs[0].Data, msgs[1].Data, "a repeat is the same mail")
	require.Empty(t, msgs[0].Auth, "no credentials, no AUTH")
}

func TestSendSkipsOtherRows(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv.URL("helpdesk-bot", testPassword))
	noMessage := ticketRow(bot.PostNew)
	noMessage.Message = nil
	noTicket := ticketRow(bot.PostNew)
	noTicket.Ticket = nil
	rows := map[string]bot.Delivery{
		"edit":       ticketRow(bot.PostEdit),
		"thread":     ticketRow(bot.PostThread),
		"no message": noMessage,
		"no ticket":  noTicket,
		"ack":        {ID: 5, Ack: "cb-1"},
	}
	for name, d := range rows {
		t.Run(name, func(t *testing.T) {
			sent, err := s.Send(t.Context(), d)
			require.NoError(t, err)
			require.Equal(t, bot.Sent{}, sent)
		})
	}
	// Send returns after the server's reply to DATA: a mail would be here.
	require.Empty(t, srv.Messages())
}

func TestSendClassifiesServerErrors(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv.URL("helpdesk-bot", testPassword))

	srv.FailWith(451, "try again later")
	_, err := s.Send(t.Context(), ticketRow(bot.PostNew))
	require.Error(t, err)
	require.NotErrorIs(t, err, bot.ErrRejected, "a 4xx is transient")
	var se *smtp.SMTPError
	require.ErrorAs(t, err, &se)
	require.Equal(t, 451, se.Code)
	require.Contains(t, err.Error(), "mail ticket 3")
	require.NotContains(t, err.Error(), testPassword)

	srv.FailWith(550, "mailbox unavailable")
	_, err = s.Send(t.Context(), ticketRow(bot.PostNew))
	require.ErrorIs(t, err, bot.ErrRejected, "a 5xx is permanent")
	require.ErrorAs(t, err, &se)
	require.Equal(t, 550, se.Code)
	require.Contains(t, err.Error(), "mail ticket 3")
	require.NotContains(t, err.Error(), testPassword)

	srv.FailWith(0, "")
	_, err = s.Send(t.Context(), ticketRow(bot.PostNew))
	require.NoError(t, err)
	require.Len(t, srv.Wait(t, 1), 1)
}

func TestSendOverStartTLS(t *testing.T) {
	srv := smtptest.StartTLS(t)
	s := newSender(t, srv.URL("helpdesk-bot", testPassword))
	email.SetRootCAs(s, srv.RootCAs())

	_, err := s.Send(t.Context(), ticketRow(bot.PostNew))
	require.NoError(t, err)
	m := srv.Wait(t, 1)[0]
	require.True(t, m.TLS, "STARTTLS was used")
	require.Equal(t, "helpdesk-bot", m.Auth)
}

func TestSendOverSMTPS(t *testing.T) {
	srv := smtptest.StartSMTPS(t)
	require.True(t, strings.HasPrefix(srv.URL("", ""), "smtps://"))
	s := newSender(t, srv.URL("helpdesk-bot", testPassword))
	email.SetRootCAs(s, srv.RootCAs())

	_, err := s.Send(t.Context(), ticketRow(bot.PostNew))
	require.NoError(t, err)
	m := srv.Wait(t, 1)[0]
	require.True(t, m.TLS)
	require.Equal(t, "helpdesk-bot", m.Auth)
}

func TestSendUntrustedCertificateIsTransient(t *testing.T) {
	srv := smtptest.StartTLS(t)
	s := newSender(t, srv.URL("helpdesk-bot", testPassword))

	_, err := s.Send(t.Context(), ticketRow(bot.PostNew))
	require.Error(t, err)
	require.NotErrorIs(t, err, bot.ErrRejected)
	require.NotContains(t, err.Error(), testPassword)
	require.Empty(t, srv.Messages())
}

func TestCheckCredentials(t *testing.T) {
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 587} }
	cases := []struct {
		name      string
		encrypted bool
		remote    net.Addr
		refused   bool
	}{
		{"encrypted, remote", true, tcp("192.0.2.10"), false},
		{"plain, IPv4 loopback", false, tcp("127.0.0.1"), false},
		{"plain, other IPv4 loopback", false, tcp("127.0.0.53"), false},
		{"plain, IPv6 loopback", false, tcp("::1"), false},
		{"plain, remote", false, tcp("192.0.2.10"), true},
		{"plain, private network", false, tcp("10.0.0.5"), true},
		{"plain, IPv4-mapped remote", false, tcp("::ffff:192.0.2.10"), true},
		{"plain, unknown address", false, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := email.CheckCredentials(c.encrypted, c.remote)
			if !c.refused {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, bot.ErrRejected)
			require.Contains(t, err.Error(), "unencrypted")
		})
	}
}

func TestSendGivesUpAtTimeout(t *testing.T) {
	// A server that accepts the connection and never greets.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	cfg, err := email.ParseConfig("smtp://"+l.Addr().String(), testFrom, testTo)
	require.NoError(t, err)
	cfg.Timeout = 200 * time.Millisecond
	s, err := email.New(cfg)
	require.NoError(t, err)

	_, err = s.Send(t.Context(), ticketRow(bot.PostNew))
	require.Error(t, err)
	require.NotErrorIs(t, err, bot.ErrRejected)
	require.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded), "a timeout: %v", err)
}

func TestSendHonoursCancel(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv.URL("", ""))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Send(ctx, ticketRow(bot.PostNew))
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, srv.Messages())
}

func TestLimits(t *testing.T) {
	s := newSender(t, "smtp://mail.example.org")
	perChat, overall := s.Limits()
	want := bot.Rate{Every: time.Second, Burst: 5}
	require.Equal(t, want, perChat)
	require.Equal(t, want, overall)
}

func TestSendStripsLineBreaksFromHeaders(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv.URL("", ""))
	d := ticketRow(bot.PostNew)
	d.Ticket.Subject = "Help\r\nBcc: evil@example.org\nX-Evil: 1"

	_, err := s.Send(t.Context(), d)
	require.NoError(t, err)
	m := srv.Wait(t, 1)[0]
	requireWellFormed(t, m.Data)
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	require.NoError(t, err)
	require.Empty(t, msg.Header.Get("Bcc"))
	require.Empty(t, msg.Header.Get("X-Evil"))
	require.Equal(t, "Help  Bcc: evil@example.org X-Evil: 1", msg.Header.Get("Subject"))
	require.Equal(t, []string{"helpdesk@example.org", "second@example.org"}, m.To)
}
