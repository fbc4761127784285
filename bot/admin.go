package bot

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"activation-bot/flows"
)

// Draft is a broadcast an admin is composing in a private chat: the
// segment first, then the text per language, then a preview to confirm.
type Draft struct {
	Stage   string            `json:"stage"`
	Segment string            `json:"segment,omitempty"`
	Texts   map[string]string `json:"texts,omitempty"`
}

// Stages of a draft; a text stage is stageText + language.
const (
	stageSegment = "segment"
	stageText    = "text:"
	stageConfirm = "confirm"
)

// BroadcastDesk counts a segment and queues a broadcast inside the step's
// transaction, for an admin's conversation.
type BroadcastDesk interface {
	Audience(seg Segment) (Audience, error)
	Create(b Broadcast) (int64, error)
}

// IntentAdminOnly refuses a command only admins may use; the intents of
// the guided broadcast follow.
const (
	IntentAdminOnly      = "admin_only"
	IntentDraftSegment   = "broadcast_segment"
	IntentDraftText      = "broadcast_text"
	IntentDraftPreview   = "broadcast_preview"
	IntentDraftQueued    = "broadcast_queued"
	IntentDraftDiscarded = "broadcast_discarded"
)

// Buttons of the guided broadcast.
const (
	adminPrefix     = "admin:"
	buttonSegment   = adminPrefix + "segment:"
	buttonSkip      = adminPrefix + "skip"
	buttonSend      = adminPrefix + "send"
	buttonDiscard   = adminPrefix + "discard"
	broadcastCmd    = "/broadcast"
	maxDraftRunes   = 4000
	segmentExamples = "all, or filters such as progress=waiting,lang=nl (progress: not_started, waiting, odisee_done, kuleuven_done, completed, problem; platform: telegram, slack, web; lang; active_before/active_after=YYYY-MM-DD)"
)

// quickSegments are offered as buttons: the students admins nudge most.
var quickSegments = []struct{ segment, label string }{
	{"progress=not_started", "Not started"},
	{"progress=waiting", "Waiting for the 3 hours"},
	{"progress=problem", "With an open problem"},
	{"all", "Everyone"},
}

// isAdmin reports whether the sender may broadcast.
func (s *step) isAdmin() bool { return slices.Contains(s.e.admins, s.in.Identity()) }

// adminCommand starts a guided broadcast on "/broadcast"; anyone but an
// admin is refused. It reports whether t was the command.
func (s *step) adminCommand(t string) bool {
	name := strings.ToLower(strings.Fields(t + " ")[0])
	if name != broadcastCmd && !strings.HasPrefix(name, broadcastCmd+"@") {
		return false
	}
	if !s.isAdmin() {
		s.adminSay(IntentAdminOnly, "Only the bot's admins can send broadcasts.", s.mainButtons())
		return true
	}
	s.c.Draft = &Draft{Stage: stageSegment}
	s.askSegment("")
	return true
}

// drafting takes an admin's text while a broadcast is being composed; a
// /command leaves the draft.
func (s *step) drafting(t string) bool {
	if s.c.Draft == nil {
		return false
	}
	if strings.HasPrefix(t, "/") || !s.isAdmin() {
		s.c.Draft = nil
		return false
	}
	d := s.c.Draft
	switch {
	case d.Stage == stageSegment:
		s.draftSegment(t)
	case strings.HasPrefix(d.Stage, stageText):
		s.draftText(strings.TrimPrefix(d.Stage, stageText), t)
	default:
		if strings.EqualFold(strings.TrimSpace(t), "send") {
			s.draftSend()
			return true
		}
		s.adminSay(IntentDraftPreview, "Tap Send to queue the broadcast, or Discard.", draftButtons(buttonSend))
	}
	return true
}

// pressAdminButton handles the guided broadcast's buttons.
func (s *step) pressAdminButton(id string) {
	if s.c.Draft == nil || !s.isAdmin() {
		s.say(IntentStaleButton, "stale_button", nil, nil)
		s.goTo(flows.GotoResume)
		return
	}
	switch {
	case id == buttonDiscard:
		s.c.Draft = nil
		s.adminSay(IntentDraftDiscarded, "Broadcast discarded: nothing was sent.", s.resumeButtons())
	case id == buttonSend && s.c.Draft.Stage == stageConfirm:
		s.draftSend()
	case id == buttonSkip && strings.HasPrefix(s.c.Draft.Stage, stageText):
		s.nextText(strings.TrimPrefix(s.c.Draft.Stage, stageText))
	case strings.HasPrefix(id, buttonSegment) && s.c.Draft.Stage == stageSegment:
		s.draftSegment(strings.TrimPrefix(id, buttonSegment))
	default:
		s.adminSay(IntentStaleButton, "That button is from an earlier step of this broadcast.", draftButtons())
	}
}

func (s *step) askSegment(problem string) {
	text := "📣 New broadcast. Who should get it? Tap a group, or send a segment: " + segmentExamples + "."
	if problem != "" {
		text = problem + "\nSend another segment: " + segmentExamples + "."
	}
	var bs []Button
	for _, q := range quickSegments {
		bs = append(bs, Button{ID: buttonSegment + q.segment, Label: q.label})
	}
	s.adminSay(IntentDraftSegment, text, append(bs, draftButtons()...))
}

func (s *step) draftSegment(t string) {
	seg, err := ParseSegment(t, s.e.pack, s.e.loc)
	if err != nil {
		s.askSegment("⚠️ " + err.Error())
		return
	}
	s.c.Draft.Segment = seg.String()
	s.c.Draft.Stage = stageText + s.e.pack.DefaultLanguage
	s.askText(s.e.pack.DefaultLanguage)
}

func (s *step) askText(lang string) {
	name := s.e.pack.LanguageNames[lang]
	if lang == s.e.pack.DefaultLanguage {
		s.adminSay(IntentDraftText, fmt.Sprintf("Send the message in %s. Students whose language has no text of its own get this one.", name), draftButtons())
		return
	}
	s.adminSay(IntentDraftText, fmt.Sprintf("Send the message in %s, or skip it.", name), draftButtons(buttonSkip))
}

func (s *step) draftText(lang, t string) {
	t = strings.TrimSpace(t)
	if n := len([]rune(t)); n > maxDraftRunes {
		s.adminSay(IntentDraftText, fmt.Sprintf("That is %d characters; at most %d fit in one message. Send a shorter one.", n, maxDraftRunes), draftButtons())
		return
	}
	if s.c.Draft.Texts == nil {
		s.c.Draft.Texts = map[string]string{}
	}
	s.c.Draft.Texts[lang] = t
	s.nextText(lang)
}

// nextText asks for the next language's text, or shows the preview.
func (s *step) nextText(after string) {
	langs := s.e.pack.Languages
	for i, l := range langs {
		if l == after && i+1 < len(langs) {
			s.c.Draft.Stage = stageText + langs[i+1]
			s.askText(langs[i+1])
			return
		}
	}
	s.preview()
}

// preview shows the recipients per platform and language and the message
// as each language's students will see it, then asks to confirm.
func (s *step) preview() {
	seg, aud, err := s.draftAudience()
	if err != nil {
		s.err = err
		return
	}
	if aud.Total() == 0 {
		s.c.Draft.Stage = stageSegment
		s.askSegment(fmt.Sprintf("No student is in segment %s now.", seg))
		return
	}
	s.c.Draft.Stage = stageConfirm
	b := Broadcast{Texts: s.c.Draft.Texts, Button: true}
	lines := []string{fmt.Sprintf("📣 Preview: %d students (segment %s).", aud.Total(), seg)}
	for _, p := range slices.Sorted(maps.Keys(aud)) {
		var parts []string
		for _, l := range s.e.pack.Languages {
			parts = append(parts, fmt.Sprintf("%s %d", l, aud[p][l]))
		}
		lines = append(lines, fmt.Sprintf("• %s: %s", p, strings.Join(parts, ", ")))
	}
	for _, l := range s.e.pack.Languages {
		msg := s.e.BroadcastMessage(b, l)
		lines = append(lines, fmt.Sprintf("\n[%s] %s\n[button: %s]", l, msg.Text, msg.Buttons[0].Label))
	}
	lines = append(lines, "\nQuiet hours hold it back until they end. Send it?")
	s.adminSay(IntentDraftPreview, strings.Join(lines, "\n"), draftButtons(buttonSend))
}

func (s *step) draftAudience() (Segment, Audience, error) {
	if s.c.Broadcasts == nil {
		return Segment{}, nil, errors.New("broadcast: the store has no broadcast desk")
	}
	seg, err := ParseSegment(s.c.Draft.Segment, s.e.pack, s.e.loc)
	if err != nil {
		return seg, nil, fmt.Errorf("broadcast draft: %w", err)
	}
	aud, err := s.c.Broadcasts.Audience(seg)
	return seg, aud, err
}

func (s *step) draftSend() {
	seg, err := ParseSegment(s.c.Draft.Segment, s.e.pack, s.e.loc)
	if err != nil || s.c.Broadcasts == nil {
		s.err = errors.Join(err, errors.New("broadcast: cannot queue the draft"))
		return
	}
	id, err := s.c.Broadcasts.Create(Broadcast{Segment: seg, Texts: s.c.Draft.Texts, Button: true, SendAt: s.now, CreatedBy: s.in.Identity()})
	if err != nil {
		s.err = err
		return
	}
	s.c.Draft = nil
	s.adminSay(IntentDraftQueued, fmt.Sprintf("✅ Broadcast #%d is queued and goes out now, within the platforms' limits (after the quiet hours, if they are on). `activation-bot broadcast show %d` follows it.", id, id), s.resumeButtons())
}

// draftButtons are a stage's buttons, then Discard.
func draftButtons(ids ...string) []Button {
	labels := map[string]string{buttonSend: "Send now", buttonSkip: "Skip"}
	var bs []Button
	for _, id := range ids {
		bs = append(bs, Button{ID: id, Label: labels[id]})
	}
	return append(bs, Button{ID: buttonDiscard, Label: "Discard"})
}

// adminSay answers an admin in English: the admin tools are not
// translated.
func (s *step) adminSay(intent, text string, buttons []Button) {
	s.c.Shown = ""
	if buttons == nil {
		buttons = []Button{}
	}
	s.out = append(s.out, Outbound{Text: text, Buttons: buttons, Intent: intent, Lang: "en"})
}
