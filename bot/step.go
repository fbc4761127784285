package bot

import (
	"slices"
	"strings"
	"time"

	"activation-bot/bot/redact"
	"activation-bot/flows"
	"activation-bot/flows/when"
)

// Intents of the messages the engine composes itself; node intents come
// from the content pack.
const (
	IntentSecretWarning  = "secret_warning"
	IntentFallback       = "fallback"
	IntentService        = flows.IntentService
	IntentStatus         = "status"
	IntentLanguage       = "language"
	IntentRestart        = "restart"
	IntentForget         = "forget"
	IntentWait           = "activation_wait"
	IntentUnknownCommand = "unknown_command"
	IntentEmpty          = "empty"
	IntentTooLong        = "too_long"
	IntentNoText         = "no_text"
	IntentStaleButton    = "stale_button"
	IntentAccountDone    = "account_done"
	IntentTextOnly       = "text_only"
	IntentEditIgnored    = "edited_ignored"
	IntentStopped        = "stopped"
	IntentRemindersOn    = "reminders_on"
	IntentWaitOver       = "wait_over"
	IntentNudge          = "nudge"
	IntentBroadcast      = "broadcast"
)

// MediaEdited is Inbound.Media for a message the student edited after
// sending it.
const MediaEdited = "edited"

// step is one inbound event being applied to one conversation. It is pure:
// everything it needs is in its fields, and it only changes c and out.
type step struct {
	e       *Engine
	c       *Conversation
	in      Inbound
	now     time.Time
	secrets []redact.Kind
	tooLong bool

	out        []Outbound
	erase      bool
	keepOffer  bool        // the buttons the student has stay as they were
	langChosen bool        // the student picked a language in this step
	typed      bool        // the button being pressed was typed as words, not pressed
	said       *flows.Said // the message as read for labels, and its text
	saidText   string
	notices    []Notice // for other chats: the helpdesk's destinations
	secretIn   string   // a link code typed: kept out of the transcript
	err        error    // a store failure inside the step: the transaction fails
}

func (s *step) run() {
	guessed := s.chooseLanguage()
	defer func() {
		// A language only defaulted to (no hint, no telling words, as after
		// Telegram's "/start") is not kept: the next message may settle it.
		if guessed && !s.langChosen {
			s.c.Lang = ""
		}
		if !s.keepOffer {
			s.c.Offered = offered(s.out)
		}
	}()
	switch {
	case len(s.secrets) > 0:
		// The rest of such a message is not acted on: the warning must not
		// drown in an answer, and the student can ask again without the secret.
		s.say(IntentSecretWarning, "secret_warning", nil, s.resumeButtons())
	case s.in.Media != "":
		s.media()
	case strings.HasPrefix(s.in.ButtonID, adminPrefix):
		s.pressAdminButton(s.in.ButtonID)
	case strings.HasPrefix(s.in.ButtonID, linkPrefix):
		s.pressLinkButton(s.in.ButtonID)
	case s.in.ButtonID != "":
		// A press leaves a report, a reply or a draft unsent; the press may
		// start one.
		s.c.Report, s.c.ReplyTo, s.c.Draft = "", 0, nil
		s.press(s.in.ButtonID)
	default:
		s.text(strings.TrimSpace(s.in.Text))
	}
}

// chooseLanguage settles the language until it is known: the words of
// the message when they are clear (a French student on a phone set to
// Dutch writes French), else the platform's hint. Without either it
// answers in the pack's default and reports that it only defaulted.
func (s *step) chooseLanguage() (defaulted bool) {
	if s.c.Lang != "" && s.e.pack.SupportsLanguage(s.c.Lang) {
		return false
	}
	p := s.e.pack
	lang := s.e.match.DetectLanguage(s.withoutPayload(s.in.Text))
	if lang == "" {
		lang = p.LanguageFromLocale(s.in.LocaleHint)
	}
	if lang == "" {
		s.c.Lang = p.DefaultLanguage
		return true
	}
	s.c.Lang = lang
	return false
}

func (s *step) text(t string) {
	switch {
	case t == "":
		s.say(IntentEmpty, "empty", nil, s.mainButtons())
		return
	case s.tooLong:
		s.say(IntentTooLong, "too_long", map[string]string{"max": itoa(MaxInputRunes)}, s.mainButtons())
		return
	case !flows.HasWords(t):
		s.say(IntentNoText, "no_text", nil, s.mainButtons())
		return
	}
	if s.drafting(t) || s.adminCommand(t) || s.typedCode(t) || s.awaited(t) || s.command(t) || s.typedProblem(t) || s.typedLabel(t) || s.arrivalText(t) {
		return
	}
	if m, ok := s.e.match.Match(t); ok {
		s.intent(m)
		return
	}
	if n := s.position(); n != nil && n.AskArrival && s.c.Shown == s.c.Node {
		// Right after the question, unreadable text is most likely a time.
		s.say(IntentWait, "arrival_not_understood", nil, s.buttons(n))
		s.c.Shown = s.c.Node
		return
	}
	if s.c.New && !isQuestion(t) {
		s.goTo(s.e.pack.Start) // "yo", "hey there": a hello in other words
		return
	}
	if s.c.New {
		s.say(IntentFallback, "fallback", nil, nil)
		s.introduce(true) // the greeting carries the choices
		return
	}
	s.fallback()
}

// fallback admits the bot did not understand. The question the student
// was just asked stays open: its buttons come again, so "Odisee" typed
// badly at "which one did you receive?" costs one tap, not a restart.
func (s *step) fallback() {
	if n := s.shown(); n != nil && len(n.Buttons) > 0 {
		shown := s.c.Shown
		s.say(IntentFallback, "fallback", nil, s.buttons(n))
		s.c.Shown = shown
		return
	}
	s.say(IntentFallback, "fallback", nil, append(s.resumeButtons(), s.buttons(s.e.pack.Nodes[s.e.pack.Start])...))
}

// isQuestion tells a question or request ("where do I park?") from a
// short hello: a first message the bot cannot answer gets the honest
// fallback only if it asked something.
func isQuestion(t string) bool {
	return strings.Contains(t, "?") || len(flows.Words(t)) >= 3
}

// command handles "/status", "status", "/language nl" and friends; it
// reports whether t was one.
func (s *step) command(t string) bool {
	name, arg, slash, ok := s.e.match.Command(t)
	if !ok {
		if slash {
			// Echo only a short name: the rest is the student's text.
			s.say(IntentUnknownCommand, "unknown_command", map[string]string{"command": "/" + truncate(name, 32)}, s.mainButtons())
		}
		return slash
	}
	cmd := s.e.pack.Commands[name]
	switch cmd.Action {
	case flows.ActionLink:
		s.link(arg)
		return true
	case flows.ActionUnlink:
		s.unlink()
		return true
	}
	if slash && arg != "" && cmd.Action == flows.ActionStart {
		// "/start PAYLOAD", from a deep link. A payload the pack does not
		// know is ignored: the student gets what a plain /start gives.
		if link, ok := s.e.pack.DeepLink(arg); ok {
			s.deepLink(link)
			return true
		}
		arg = ""
	}
	if arg != "" {
		if id := s.argButton(cmd.Reply, arg); id != "" {
			s.typed = true
			s.press(id)
			return true
		}
		if !slash {
			return false // "help me": words, not a command
		}
	}
	first := s.c.New
	if cmd.Reply != "" {
		s.goTo(cmd.Reply)
	} else {
		s.action(cmd.Action, nil)
	}
	// The greeting would bury a reply that asks its own question (/language).
	if n := s.e.pack.Nodes[cmd.Reply]; n == nil || len(n.Buttons) == 0 {
		s.introduce(first)
	}
	return true
}

// withoutPayload is t without the payload of a "/start PAYLOAD": a deep
// link's payload is not the student's words, so it never tells the
// language (a known language in it sets the language instead).
func (s *step) withoutPayload(t string) string {
	name, arg, slash, ok := s.e.match.Command(t)
	if ok && slash && arg != "" && s.e.pack.Commands[name].Action == flows.ActionStart {
		return "/" + name
	}
	return t
}

// deepLink follows a valid "/start PAYLOAD": its language is set as if
// the student had chosen it, and its node is shown as /start shows the
// greeting; with only a language, it is /start in that language.
func (s *step) deepLink(link flows.DeepLink) {
	if link.Lang != "" {
		s.c.Lang, s.langChosen, s.c.LangChosen = link.Lang, true, s.now
	}
	if !s.c.Stopped.IsZero() {
		// A deep link is a /start too: it turns reminders on again.
		s.c.Stopped = time.Time{}
		s.say(IntentRemindersOn, "reminders_on", nil, nil)
	}
	if link.Node == "" {
		s.action(flows.ActionStart, nil)
		return
	}
	first := s.c.New
	s.jump(link.Node)
	// As after a command: an answer that asks nothing is followed by the
	// greeting for a student the bot has not met yet.
	if n := s.e.pack.Nodes[link.Node]; n == nil || len(n.Buttons) == 0 {
		s.introduce(first)
	}
}

// media answers what is not text (a sticker, a photo, an edit): the bot
// reads text only. Nothing moves: the buttons the student has stay open,
// and come again under the reply, as the question they answer is still
// the one asked.
func (s *step) media() {
	intent, key := IntentTextOnly, "text_only"
	if s.in.Media == MediaEdited {
		intent, key = IntentEditIgnored, "edited_ignored"
	}
	shown := s.c.Shown
	s.say(intent, key, nil, s.openButtons())
	s.c.Shown, s.keepOffer = shown, true
}

// argButton finds the button of node that an argument such as "nl" or
// "Nederlands" names.
func (s *step) argButton(nodeID, arg string) string {
	n := s.e.pack.Nodes[nodeID]
	if n == nil {
		return ""
	}
	for _, b := range n.Buttons {
		if b.Action == flows.ActionLanguage+strings.ToLower(arg) || s.labelSays(b, arg) {
			return b.ID
		}
	}
	return ""
}

// typedLabel presses the button whose label the student typed: one of the
// last node shown, or of the student's position (after a question was
// answered in between), or the way back.
func (s *step) typedLabel(t string) bool {
	for _, n := range []*flows.Node{s.shown(), s.position()} {
		if n == nil {
			continue
		}
		for _, b := range n.Buttons {
			if s.labelSays(b, t) {
				s.typed = true
				s.press(b.ID)
				return true
			}
		}
	}
	if s.c.Node != "" && s.e.match.Same(s.read(t), s.e.pack.Message("resume_label", s.c.Lang)) {
		s.press(flows.ButtonResume)
		return true
	}
	if id := s.saidAmong(t); id != "" {
		s.typed = true
		s.press(id)
		return true
	}
	return false
}

// saidAmong finds the one open button whose label or words the message
// says among a few other words; none when it says two buttons' words.
func (s *step) saidAmong(t string) string {
	found := ""
	for _, n := range []*flows.Node{s.shown(), s.position()} {
		if n == nil {
			continue
		}
		for _, b := range n.Buttons {
			if !s.buttonAmong(b, t) || found == b.ID {
				continue
			}
			if found != "" {
				return ""
			}
			found = b.ID
		}
	}
	return found
}

func (s *step) buttonAmong(b flows.Button, t string) bool {
	said := s.read(t)
	return slices.ContainsFunc(answers(b), func(a string) bool { return s.e.match.Among(said, a) })
}

// labelSays reports whether t is the button's label (in any language) or
// one of its words ("yes", "gelukt", "c'est fait").
func (s *step) labelSays(b flows.Button, t string) bool {
	said := s.read(t)
	return slices.ContainsFunc(answers(b), func(a string) bool { return s.e.match.Same(said, a) })
}

// read normalises the message once per step, however many labels it is
// compared with.
func (s *step) read(t string) flows.Said {
	if s.said == nil || s.saidText != t {
		said := s.e.match.Read(t)
		s.said, s.saidText = &said, t
	}
	return *s.said
}

// answers are the texts that say a button: its labels, then its words.
func answers(b flows.Button) []string {
	var out []string
	for _, label := range b.Label {
		out = append(out, label)
	}
	for _, words := range b.Words {
		out = append(out, words...)
	}
	return out
}

// arrivalText reads "10 minutes ago" or "at 14:00" while the student is
// at the question when an account's e-mail arrived (even if they asked
// something else in between), or waiting for that account ("actually it
// came at 11:00").
func (s *step) arrivalText(t string) bool {
	account, asked := s.arrivalAccount()
	if account == "" || (!asked && !when.NamesArrival(t)) {
		return false
	}
	at, ok := when.Answer(t, s.now, s.e.loc)
	if !ok {
		return false
	}
	s.arrived(account, at)
	return true
}

// arrivalAccount is the account whose e-mail's arrival the student's
// position is about, or "", and whether the position asks for it (rather
// than waits after it).
func (s *step) arrivalAccount() (account string, asked bool) {
	n := s.position()
	if n == nil {
		return "", false
	}
	if n.AskArrival {
		return n.Account, true
	}
	if a := s.waitingAt(s.c.Node); a != nil {
		// Right after the wait was announced, a time is the exact arrival
		// the student was invited to give.
		return a.ID, s.c.Shown == s.c.Node
	}
	return "", false
}

// waitingAt returns the account whose wait node is id.
func (s *step) waitingAt(id string) *flows.Account {
	for i := range s.e.pack.Accounts {
		if a := &s.e.pack.Accounts[i]; a.WaitNode != "" && a.WaitNode == id {
			return a
		}
	}
	return nil
}

func (s *step) intent(m flows.Match) {
	first := s.c.New
	if m.Intent == IntentService {
		s.service(m.Service)
	} else if in := s.e.pack.Intents[m.Intent]; in.Reply != "" {
		s.goTo(in.Reply)
		if n := s.e.pack.Nodes[in.Reply]; n != nil && n.Report {
			return // it asks its own question: the greeting would bury it
		}
	} else {
		s.action(in.Action, nil)
	}
	s.introduce(first)
}

// introduce follows a first message's answer with the greeting, so a
// question asked first is answered, not swallowed, and the student still
// learns what the bot does.
func (s *step) introduce(first bool) {
	if first && s.c.Node == "" && !s.erase {
		s.goTo(s.e.pack.Start)
	}
}

func (s *step) service(svc *flows.Service) {
	acc, _ := s.e.pack.Account(svc.Account)
	lang := s.c.Lang
	text := s.render(s.e.pack.Message("service_answer", lang), "", map[string]string{
		"service": s.e.pack.Localize(svc.Name, lang),
		"account": s.e.pack.Localize(acc.Name, lang),
		"login":   s.e.pack.Localize(acc.Login, lang),
	})
	s.c.Shown = ""
	if note := s.e.pack.Localize(svc.Note, lang); note != "" {
		text += "\n" + note
	}
	s.out = append(s.out, Outbound{Text: text, Buttons: s.resumeButtons(), Intent: IntentService, Lang: lang, Account: acc.ID})
}
