// Package email is the e-mail helpdesk destination: it mails each new
// ticket to the helpdesk's addresses over SMTP (github.com/emersion/go-smtp).
//
// E-mail is one-way: it gets the ticket's notification only, not its edits
// or the messages of its thread, and agents answer in the other
// destinations. A mail carries a Message-ID made of the ticket and outbox
// row ids, so the one repeat possible after a crash (the server accepted the
// mail, the outbox did not record it) has the same id and mail clients fold
// the two.
package email

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/mail"
	"time"

	"activation-bot/bot"
)

// rate is the send limit, per chat and overall: a helpdesk mailbox needs no
// more, and mail servers throttle or flag bursty senders.
var rate = bot.Rate{Every: time.Second, Burst: 5}

// Sender implements bot.Sender for the e-mail destination.
type Sender struct {
	server  server
	from    *mail.Address
	to      []*mail.Address
	domain  string // of From: in Message-IDs and EHLO
	timeout time.Duration
	log     *slog.Logger
	// rootCAs verifies the server's certificate; nil means the system's.
	rootCAs *x509.CertPool
	now     func() time.Time
}

var _ bot.Sender = (*Sender)(nil)

// New checks cfg and returns its Sender. It connects to nothing: a mail
// server that is down must not stop the bot from starting.
func New(cfg Config) (*Sender, error) {
	srv, err := parseServer(cfg.URL)
	if err != nil {
		return nil, err
	}
	from, err := parseFrom(cfg.From)
	if err != nil {
		return nil, err
	}
	s := &Sender{server: srv, from: from, domain: domainOf(from), timeout: cfg.Timeout, log: cfg.Logger, now: time.Now}
	for _, raw := range cfg.To {
		a, err := mail.ParseAddress(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an e-mail address", EnvTo, raw)
		}
		s.to = append(s.to, a)
	}
	if len(s.to) == 0 {
		return nil, fmt.Errorf("%s: no e-mail address", EnvTo)
	}
	if s.timeout <= 0 {
		s.timeout = defaultTimeout
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With(slog.String("platform", bot.EmailPlatform))
	return s, nil
}

// Limits implements bot.Sender.
func (s *Sender) Limits() (perChat, overall bot.Rate) { return rate, rate }

// Send implements bot.Sender: it mails a new ticket and skips every other
// row. Its Sent.Ref is the mail's Message-ID.
func (s *Sender) Send(ctx context.Context, d bot.Delivery) (bot.Sent, error) {
	if d.Ticket == nil || d.Ticket.Kind != bot.PostNew || d.Message == nil {
		// Edits and thread messages have nowhere to go in a mailbox, and a
		// mail per change would bury the tickets themselves.
		s.log.DebugContext(ctx, "e-mail destination skips the row", slog.Int64("outbox_id", d.ID))
		return bot.Sent{}, nil
	}
	m := s.compose(d)
	if err := s.deliver(ctx, m.data); err != nil {
		return bot.Sent{}, fmt.Errorf("mail ticket %d: %w", d.Ticket.ID, classify(err))
	}
	s.log.InfoContext(ctx, "ticket mailed",
		slog.Int64("ticket", d.Ticket.ID),
		slog.Int64("outbox_id", d.ID),
		slog.Int("recipients", len(s.to)),
		slog.String("message_id", m.id))
	return bot.Sent{Ref: m.id}, nil
}
