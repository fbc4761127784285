package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"
	"unicode/utf8"

	"activation-bot/bot/redact"
	"activation-bot/flows"
)

// IntentPrivateOnly answers a student who addressed the bot in a group.
const IntentPrivateOnly = "private_only"

// MaxInputRunes bounds what one message may hold; longer messages get a
// polite refusal and only their start is kept in the transcript.
const MaxInputRunes = 2000

// maxScanBytes is how much of a message is read at all: four bytes for
// each rune kept, so what is kept was fully scanned for secrets.
const maxScanBytes = 4 * MaxInputRunes

// Engine turns inbound events into replies, keeping all state in the Store.
type Engine struct {
	pack  *flows.Pack
	match *flows.Matcher
	store Store
	queue Queue
	hd    Helpdesk
	// reminders configures what the bot sends on its own.
	reminders Reminders
	// admins may broadcast from a private chat (identities).
	admins []string
	clock  Clock
	loc    *time.Location
	log    *slog.Logger
	obs    Observer
}

// Config holds what an Engine needs; zero Clock, Location and Logger get
// the wall clock, Europe/Brussels and slog's default.
type Config struct {
	Pack  *flows.Pack
	Store Store
	Queue Queue // where platform events wait; nil for the terminal chat
	// Helpdesk is where tickets go and who may answer them.
	Helpdesk Helpdesk
	// Reminders configures nudges and quiet hours; the zero value sends
	// the end of a wait at any hour and no nudges.
	Reminders Reminders
	// Admins are the identities that may broadcast from a chat (ADMINS).
	Admins   []string
	Clock    Clock
	Location *time.Location
	Logger   *slog.Logger
	// Observer is told about events and sends (metrics); nil: nobody.
	Observer Observer
}

// NewEngine builds an engine over a validated pack.
func NewEngine(cfg Config) (*Engine, error) {
	if cfg.Pack == nil || cfg.Store == nil {
		return nil, errors.New("new engine: pack and store are required")
	}
	if issues := cfg.Pack.Check(); flows.HasErrors(issues) {
		return nil, fmt.Errorf("new engine: content pack %s has errors (run `activation-bot content check`)", cfg.Pack.Source)
	}
	e := &Engine{pack: cfg.Pack, match: flows.NewMatcher(cfg.Pack), store: cfg.Store, queue: cfg.Queue, hd: cfg.Helpdesk,
		reminders: cfg.Reminders, admins: cfg.Admins, clock: cfg.Clock, loc: cfg.Location, log: cfg.Logger, obs: cfg.Observer}
	if e.obs == nil {
		e.obs = NopObserver{}
	}
	if e.clock == nil {
		e.clock = SystemClock{}
	}
	if e.loc == nil {
		loc, err := time.LoadLocation("Europe/Brussels")
		if err != nil {
			return nil, fmt.Errorf("new engine: load time zone: %w", err)
		}
		e.loc = loc
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	return e, nil
}

// Handle processes one inbound event at once, as the terminal chat does:
// it guards the event against secrets, steps the student's conversation in
// one store transaction and returns the replies to send. A redelivered
// event returns ErrDuplicate and no replies.
func (e *Engine) Handle(ctx context.Context, in Inbound) ([]Outbound, error) {
	return e.converse(ctx, e.guard(in))
}

// Accept guards an event against secrets and stores it in the queue's
// inbox: once it returns, the event is safe and may be acknowledged to the
// platform. Dispatcher processes it afterwards.
func (e *Engine) Accept(ctx context.Context, in Inbound) error {
	if e.queue == nil {
		return errors.New("accept event: the engine has no queue")
	}
	in = e.guard(in)
	if err := e.queue.Accept(ctx, in); err != nil {
		if errors.Is(err, ErrDuplicate) {
			e.log.InfoContext(ctx, "duplicate event dropped", slog.String("identity", in.Identity()), slog.String("event_id", in.EventID))
		}
		return fmt.Errorf("accept event %s/%s from %s: %w", in.Platform, in.EventID, in.Identity(), err)
	}
	e.obs.EventAccepted(in.Platform)
	return nil
}

// Process steps the conversation for an event taken from the inbox; the
// replies go to the outbox in the same transaction.
func (e *Engine) Process(ctx context.Context, in Inbound) error {
	chat := Chat{Platform: in.Platform, ID: in.ChatID}
	if in.Helpdesk != nil {
		return e.agentEvent(ctx, in)
	}
	switch in.Media {
	case MediaBlocked:
		if err := e.queue.Unreachable(ctx, chat, errors.New("the student blocked the bot")); err != nil {
			return err
		}
		return e.queue.Notify(ctx, chat, in.InboxID, nil)
	case MediaUnblocked:
		return e.queue.Notify(ctx, chat, in.InboxID, nil) // accepting it cleared the mark
	}
	if in.Group != "" {
		// Group members are not students of the bot until they write to it
		// privately: point them there and keep nothing else.
		lang := e.pack.LanguageFromLocale(in.LocaleHint)
		if lang == "" {
			lang = e.pack.DefaultLanguage
		}
		s := &step{e: e, c: &Conversation{Lang: lang}}
		text := s.render(e.pack.Message("private_only", lang), "", map[string]string{"bot": in.Group})
		msg := Outbound{Text: text, Buttons: []Button{}, Intent: IntentPrivateOnly, Lang: lang}
		return e.queue.Notify(ctx, chat, in.InboxID, []Outbound{msg})
	}
	_, err := e.converse(ctx, in)
	return err
}

// home is the student's checklist with a way back into the conversation.
func (s *step) home() *Outbound {
	if s.c.Lang == "" {
		s.chooseLanguage()
	}
	buttons := s.resumeButtons()
	if len(buttons) == 0 {
		buttons = s.mainButtons()
	}
	return &Outbound{Text: s.checklist(), Buttons: buttons, Intent: IntentStatus, Lang: s.c.Lang}
}

// guard makes an event safe to store: valid UTF-8, a known button id, no
// secret a student typed, and a bounded length.
func (e *Engine) guard(in Inbound) Inbound {
	// Far more than the longest message kept is never scanned: a runaway
	// paste must not cost the redaction a second.
	tooLong := len(in.Text) > maxScanBytes
	if tooLong {
		in.Text = in.Text[:maxScanBytes]
	}
	in.Text, in.ButtonID = clean(in.Text), e.buttonID(in.ButtonID)
	in.Name = clean(in.Name)
	found := redact.Text(in.Text)
	// Secrets found by an earlier guard (an adapter that echoes the text
	// guards it first) stay found: the text no longer shows them.
	in.Text, in.Secrets = found.Text, append(in.Secrets, found.Found...)
	tooLong = tooLong || utf8.RuneCountInString(in.Text) > MaxInputRunes
	if tooLong {
		in.Text = truncate(in.Text, MaxInputRunes) + "…"
	}
	in.TooLong = tooLong
	return in
}

// converse steps the conversation of a guarded event.
func (e *Engine) converse(ctx context.Context, in Inbound) ([]Outbound, error) {
	start := time.Now()
	now := e.clock.Now()
	var turn Turn
	err := e.store.Converse(ctx, in, func(c *Conversation) (Turn, error) {
		s := &step{e: e, c: c, in: in, now: now, secrets: in.Secrets, tooLong: in.TooLong}
		before, beforeNode := maps.Clone(c.Accounts), c.Node
		if in.Media != MediaHome {
			s.run()
		}
		if s.err != nil {
			return Turn{}, s.err
		}
		turn = Turn{Replies: s.out, Erase: s.erase, Notices: s.notices, InboundSecret: s.secretIn}
		if !s.erase {
			turn.Timers = e.timers(c, before, beforeNode, now)
		}
		switch {
		case s.erase:
			// The home view forgets too: a fresh checklist.
			fresh := &step{e: e, c: &Conversation{Lang: c.Lang}, in: in, now: now}
			turn.Home = fresh.home()
		case in.Media == MediaHome || !maps.Equal(before, c.Accounts):
			turn.Home = s.home()
		}
		return turn, nil
	})
	if err != nil {
		if errors.Is(err, ErrDuplicate) {
			e.log.InfoContext(ctx, "duplicate event dropped", slog.String("identity", in.Identity()), slog.String("event_id", in.EventID))
		}
		return nil, fmt.Errorf("handle message from %s: %w", in.Identity(), err)
	}
	e.log.DebugContext(ctx, "message handled",
		slog.String("identity", in.Identity()),
		slog.Any("intents", intents(turn.Replies)),
		slog.Int("secrets_redacted", len(in.Secrets)),
		slog.Duration("took", time.Since(start)))
	return turn.Replies, nil
}

// clean makes text storable anywhere: valid UTF-8 (Postgres refuses
// anything else) and no NUL bytes.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// buttonID keeps a pressed button's id only if the pack knows it: ids come
// from clients, and whatever else they hold must not reach the transcript.
func (e *Engine) buttonID(id string) string {
	if id == "" || id == flows.ButtonResume || e.engineButton(id) {
		return id
	}
	if _, _, ok := e.pack.Button(id); ok {
		return id
	}
	return unknownButton
}

// unknownButton stands for an id the pack does not know.
const unknownButton = "?unknown"

// Pack returns the engine's content pack.
func (e *Engine) Pack() *flows.Pack { return e.pack }

func intents(out []Outbound) []string {
	s := make([]string, len(out))
	for i, o := range out {
		s[i] = o.Intent
	}
	return s
}

func truncate(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
