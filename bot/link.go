package bot

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"activation-bot/flows"
)

// Intents of linking identities into one student.
const (
	IntentLinkCode      = "link_code"
	IntentLinked        = "linked"
	IntentLinkedNotice  = "linked_notice"
	IntentLinkConfirm   = "link_confirm"
	IntentLinkCancelled = "link_cancelled"
	IntentLinkWrong     = "link_wrong"
	IntentLinkLimited   = "link_limited"
	IntentUnlinkList    = "unlink_list"
	IntentUnlinkConfirm = "unlink_confirm"
	IntentUnlinked      = "unlinked"
	IntentPreferSet     = "prefer_set"
)

// LinkCodeTTL is how long a link code may be typed on the other device.
const LinkCodeTTL = 10 * time.Minute

// Link codes: LinkCodeLength characters of linkAlphabet, which leaves out
// the look-alikes 0/O and 1/I/L, so a code read on one screen is typed
// right on another.
const (
	LinkCodeLength = 8
	linkAlphabet   = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
)

// Link guessing: more than LinkMaxFailures wrong codes within
// LinkFailureWindow from one identity are refused until the window moves on.
const (
	LinkMaxFailures   = 5
	LinkFailureWindow = 10 * time.Minute
)

// Buttons of linking; the identity a detach button names is a short hash
// (Telegram's callback data holds 64 bytes, a web identity alone 30).
const (
	linkPrefix          = "link:"
	buttonLinkMerge     = linkPrefix + "merge:"   // + the code's key
	buttonLinkCancel    = linkPrefix + "cancel"   // for both confirmations
	buttonUnlinkChoose  = linkPrefix + "detach:"  // + identity hash
	buttonUnlinkConfirm = linkPrefix + "detach!:" // + identity hash
)

// NewLinkCode returns a random code with at least two digits and two
// letters, so it never reads as a word or a number a student might type
// for another reason.
func NewLinkCode() string {
	for {
		b := make([]byte, LinkCodeLength)
		for i := range b {
			b[i] = linkAlphabet[randIndex(len(linkAlphabet))]
		}
		if code := string(b); looksLikeCode(code) {
			return code
		}
	}
}

func randIndex(n int) int {
	var b [1]byte
	for {
		_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
		if int(b[0]) < 256/n*n {
			return int(b[0]) % n
		}
	}
}

// NormalizeLinkCode reads what a student typed as a code: case, spaces and
// dashes do not matter ("k7m2-p9qx"). ok is false unless it has the shape
// of a code.
func NormalizeLinkCode(typed string) (code string, ok bool) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(typed) {
		switch {
		case r == ' ' || r == '-':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		b.WriteRune(r)
	}
	code = b.String()
	return code, looksLikeCode(code)
}

func looksLikeCode(code string) bool {
	if len(code) != LinkCodeLength {
		return false
	}
	digits, letters := 0, 0
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case strings.IndexByte(linkAlphabet, c) < 0:
			return false
		case c >= '0' && c <= '9':
			digits++
		default:
			letters++
		}
	}
	return digits >= 2 && letters >= 2
}

// MaskLinkCode is text with a code typed in it replaced, for a copy of the
// student's own line: the whole message as a code, or "/link CODE".
func MaskLinkCode(text string) string {
	if _, ok := NormalizeLinkCode(text); ok {
		return LinkCodeMask
	}
	if rest, ok := strings.CutPrefix(strings.TrimSpace(text), "/link "); ok {
		if _, ok := NormalizeLinkCode(rest); ok {
			return "/link " + LinkCodeMask
		}
	}
	return text
}

// LinkCodeMask stands for a code in stored text.
const LinkCodeMask = "[link code]"

// HashLinkCode is how a code is stored: a code is a key to a student.
func HashLinkCode(code string) string {
	sum := sha256.Sum256([]byte("link:" + code))
	return hex.EncodeToString(sum[:])
}

// Identity is one platform account of a student, for linking.
type Identity struct {
	Platform  string
	UserID    string
	Name      string
	Chat      Chat
	LastSeen  time.Time
	Preferred bool
}

// ID is the identity as written everywhere ("telegram:42").
func (i Identity) ID() string { return i.Platform + ":" + i.UserID }

// key is the short, stable name of the identity in a button id.
func (i Identity) key() string {
	sum := sha256.Sum256([]byte(i.ID()))
	return hex.EncodeToString(sum[:6])
}

// LinkOutcome is what became of a code typed on another identity.
type LinkOutcome int

const (
	LinkLinked  LinkOutcome = iota // the identities are one student now
	LinkConfirm                    // this identity's student has progress: ask before merging
	LinkWrong                      // no such code
	LinkExpired
	LinkUsed
	LinkOwn     // the code was issued by this very identity
	LinkAlready // both identities are one student already
	LinkLimited // too many wrong codes lately
)

// LinkResult is the answer to a typed code.
type LinkResult struct {
	Outcome LinkOutcome
	// Other is the identity that issued the code.
	Other Identity
	// Merged is the student's state after linking (Linked), or as linking
	// would make it (Confirm): per account the furthest state, the open
	// tickets of both, the language and position of the one used last.
	Merged *Conversation
	// Lines is how many transcript lines the other student brings.
	Lines int
	// RetryAt is when codes are taken again (Limited).
	RetryAt time.Time
	// Key names the code in the Merge button (Confirm): the start of its
	// hash, so the code itself is in no button, transcript or chat history.
	Key string
}

// LinkKeyLength is how many hex digits of a code's hash name it in a
// button: 96 bits, and short enough for Telegram's 64-byte button data.
const LinkKeyLength = 24

// LinkDesk links identities inside the step's transaction. The
// conversation being stepped is the student that survives a merge: the
// other student's identities, progress, tickets and history join it.
type LinkDesk interface {
	// Issue makes a new code for the identity writing; it replaces any
	// code the identity had.
	Issue(ttl time.Duration) (code string, expires time.Time, err error)
	// Redeem takes a code typed by the identity writing. Without merge it
	// only asks (LinkConfirm) when this student has progress of its own.
	Redeem(code string, merge bool) (LinkResult, error)
	// Merge takes the code named by a LinkResult's Key, once the student
	// confirmed the merge.
	Merge(key string) (LinkResult, error)
	// Identities lists the student's identities, the one used last first.
	Identities() ([]Identity, error)
	// Detach gives an identity of the student a new, empty student of its
	// own; false when it is not (or no longer) one of theirs.
	Detach(identity string) (bool, error)
	// Prefer makes the identity writing the one the bot's own messages go to.
	Prefer() error
}

// HasProgress tells whether a student has anything a merge would mix:
// an account under way or a ticket.
func HasProgress(c *Conversation) bool {
	if len(c.Tickets) > 0 {
		return true
	}
	for _, p := range c.Accounts {
		if p.Status != NotStarted {
			return true
		}
	}
	return false
}

// typedCode tries a message that is exactly a code (and nothing else) as
// one; ordinary words never have that shape.
func (s *step) typedCode(t string) bool {
	code, ok := NormalizeLinkCode(t)
	if !ok {
		return false
	}
	s.redeem(code, false)
	return true
}

// link is /link: a new code; "/link CODE" redeems one; "/link prefer"
// chooses this identity for the bot's own messages.
func (s *step) link(arg string) {
	if s.c.Links == nil {
		s.say(IntentUnknownCommand, "unknown_command", map[string]string{"command": "/link"}, s.mainButtons())
		return
	}
	arg = strings.TrimSpace(arg)
	switch {
	case arg == "":
		s.issue()
	case s.isPreferWord(arg):
		s.prefer()
	default:
		code, ok := NormalizeLinkCode(arg)
		if !ok {
			// A code mistyped is most of one: kept out of the transcript too.
			s.secretIn = arg
			s.linkSay(IntentLinkWrong, "link_wrong", nil)
			return
		}
		s.redeem(code, false)
	}
}

func (s *step) isPreferWord(arg string) bool {
	for _, w := range s.e.pack.Messages["link_prefer_word"] {
		if s.e.match.Same(s.read(arg), w) {
			return true
		}
	}
	return strings.EqualFold(arg, "prefer")
}

func (s *step) issue() {
	code, expires, err := s.c.Links.Issue(LinkCodeTTL)
	if err != nil {
		s.err = err
		return
	}
	ids, err := s.c.Links.Identities()
	if err != nil {
		s.err = err
		return
	}
	s.c.Shown = ""
	text := s.render(s.e.pack.Message("link_code", s.c.Lang), "", map[string]string{
		"code":    code,
		"minutes": strconv.Itoa(int(LinkCodeTTL / time.Minute)),
		"time":    s.formatTime(expires),
	})
	if others := s.otherIdentities(ids); len(others) > 0 {
		text += "\n" + s.render(s.e.pack.Message("link_already_with", s.c.Lang), "", map[string]string{"other": s.identityList(others)})
	}
	s.out = append(s.out, Outbound{Text: text, Buttons: s.mainButtons(), Intent: IntentLinkCode, Lang: s.c.Lang, Secret: code})
}

// redeem applies a code typed here.
func (s *step) redeem(code string, merge bool) {
	if s.c.Links == nil {
		s.linkSay(IntentLinkWrong, "link_wrong", nil)
		return
	}
	s.secretIn = code
	res, err := s.c.Links.Redeem(code, merge)
	if err != nil {
		s.err = err
		return
	}
	s.linkResult(res)
}

// linkResult answers what became of a code.
func (s *step) linkResult(res LinkResult) {
	other := map[string]string{"other": s.identityName(res.Other)}
	switch res.Outcome {
	case LinkLinked:
		s.linked(res)
	case LinkConfirm:
		s.confirmMerge(res)
	case LinkExpired:
		s.linkSay(IntentLinkWrong, "link_expired", map[string]string{"minutes": strconv.Itoa(int(LinkCodeTTL / time.Minute))})
	case LinkUsed:
		s.linkSay(IntentLinkWrong, "link_used", nil)
	case LinkOwn:
		s.linkSay(IntentLinkWrong, "link_own", nil)
	case LinkAlready:
		s.linkSay(IntentLinkWrong, "link_already", other)
	case LinkLimited:
		s.linkSay(IntentLinkLimited, "link_limited", map[string]string{"time": s.formatTime(res.RetryAt)})
	default:
		s.linkSay(IntentLinkWrong, "link_wrong", nil)
	}
}

// linked takes over the merged state and shows the one checklist; the
// device that issued the code hears of it too.
func (s *step) linked(res LinkResult) {
	m := res.Merged
	s.c.Accounts, s.c.Tickets, s.c.Stopped = m.Accounts, m.Tickets, m.Stopped
	s.c.Node, s.c.Nudges = m.Node, m.Nudges
	if m.Lang != "" && !s.langChosen {
		s.c.Lang, s.c.LangChosen = m.Lang, m.LangChosen
	}
	s.langChosen = s.c.Lang != ""
	name := s.identityName(res.Other)
	s.c.Shown = ""
	text := s.render(s.e.pack.Message("linked", s.c.Lang), "", map[string]string{"other": name}) + "\n" + s.checklist()
	s.out = append(s.out, Outbound{Text: text, Buttons: s.mainButtons(), Intent: IntentLinked, Lang: s.c.Lang})
	if res.Other.Chat.ID != "" && ReachesProactively(res.Other.Platform) {
		here := Identity{Platform: s.in.Platform, UserID: s.in.UserID, Name: s.in.Name}
		msg := Outbound{
			Text:    s.render(s.e.pack.Message("linked_notice", s.c.Lang), "", map[string]string{"other": s.identityName(here)}),
			Buttons: []Button{}, Intent: IntentLinkedNotice, Lang: s.c.Lang,
		}
		s.notices = append(s.notices, Notice{Chat: res.Other.Chat, Student: s.c.StudentID, Delivery: Delivery{Message: &msg}})
	}
}

// confirmMerge says what linking would merge and asks.
func (s *step) confirmMerge(res LinkResult) {
	p, lang := s.e.pack, s.c.Lang
	preview := &step{e: s.e, c: res.Merged, in: s.in, now: s.now}
	preview.c.Lang = lang
	var lines []string
	for _, a := range p.Accounts {
		pr := res.Merged.Account(a.ID)
		lines = append(lines, "• "+preview.render(p.Message("status_"+accountState(pr, s.now), lang), a.ID, map[string]string{"account": p.Localize(a.Name, lang)}))
	}
	if n := len(res.Merged.Tickets); n > 0 {
		lines = append(lines, "• "+s.render(p.Message("link_merge_tickets", lang), "", map[string]string{"n": strconv.Itoa(n)}))
	}
	if res.Lines > 0 {
		lines = append(lines, "• "+s.render(p.Message("link_merge_lines", lang), "", map[string]string{"n": strconv.Itoa(res.Lines), "other": s.identityName(res.Other)}))
	}
	text := s.render(p.Message("link_confirm", lang), "", map[string]string{"other": s.identityName(res.Other), "summary": strings.Join(lines, "\n")})
	s.c.Shown = ""
	s.out = append(s.out, Outbound{Text: text, Intent: IntentLinkConfirm, Lang: lang, Buttons: []Button{
		{ID: buttonLinkMerge + res.Key, Label: p.Message("link_merge_label", lang)},
		{ID: buttonLinkCancel, Label: p.Message("link_cancel_label", lang)},
	}})
}

// prefer makes this identity the one reminders and answers go to.
func (s *step) prefer() {
	if err := s.c.Links.Prefer(); err != nil {
		s.err = err
		return
	}
	here := Identity{Platform: s.in.Platform, UserID: s.in.UserID, Name: s.in.Name}
	s.linkSay(IntentPreferSet, "prefer_set", map[string]string{"other": s.identityName(here)})
}

// unlink lists the other identities to detach one.
func (s *step) unlink() {
	if s.c.Links == nil {
		s.say(IntentUnknownCommand, "unknown_command", map[string]string{"command": "/unlink"}, s.mainButtons())
		return
	}
	ids, err := s.c.Links.Identities()
	if err != nil {
		s.err = err
		return
	}
	if len(ids) < 2 {
		s.linkSay(IntentUnlinkList, "unlink_none", nil)
		return
	}
	var bs []Button
	var names []string
	for _, id := range ids {
		name := s.identityName(id)
		if s.isHere(id) {
			name = s.render(s.e.pack.Message("link_this_chat", s.c.Lang), "", map[string]string{"other": name})
		}
		used := s.render(s.e.pack.Message("link_last_used", s.c.Lang), "", map[string]string{"time": s.formatTime(id.LastSeen)})
		names = append(names, "• "+name+" · "+used)
		bs = append(bs, Button{ID: buttonUnlinkChoose + id.key(), Label: truncate(name, 60)})
	}
	bs = append(bs, Button{ID: buttonLinkCancel, Label: s.e.pack.Message("link_cancel_label", s.c.Lang)})
	text := s.render(s.e.pack.Message("unlink_list", s.c.Lang), "", map[string]string{"list": strings.Join(names, "\n")})
	s.c.Shown = ""
	s.out = append(s.out, Outbound{Text: text, Buttons: bs, Intent: IntentUnlinkList, Lang: s.c.Lang})
}

// pressLinkButton handles the buttons of linking; only a button of the
// bot's last answer is taken.
func (s *step) pressLinkButton(id string) {
	if !slices.Contains(s.c.Offered, id) || s.c.Links == nil {
		s.say(IntentStaleButton, "stale_button", nil, nil)
		s.goTo(flows.GotoResume)
		return
	}
	switch {
	case id == buttonLinkCancel:
		s.linkSay(IntentLinkCancelled, "link_cancelled", nil)
	case strings.HasPrefix(id, buttonLinkMerge):
		res, err := s.c.Links.Merge(strings.TrimPrefix(id, buttonLinkMerge))
		if err != nil {
			s.err = err
			return
		}
		s.linkResult(res)
	case strings.HasPrefix(id, buttonUnlinkChoose):
		s.confirmDetach(strings.TrimPrefix(id, buttonUnlinkChoose))
	case strings.HasPrefix(id, buttonUnlinkConfirm):
		s.detach(strings.TrimPrefix(id, buttonUnlinkConfirm))
	}
}

// identityByKey finds the student's identity a button names.
func (s *step) identityByKey(key string) (Identity, bool) {
	ids, err := s.c.Links.Identities()
	if err != nil {
		s.err = err
		return Identity{}, false
	}
	for _, id := range ids {
		if id.key() == key {
			return id, true
		}
	}
	return Identity{}, false
}

func (s *step) confirmDetach(key string) {
	id, ok := s.identityByKey(key)
	if !ok {
		s.unlinkGone()
		return
	}
	vars := map[string]string{"other": s.identityName(id)}
	key2 := "unlink_confirm"
	if s.isHere(id) {
		key2 = "unlink_confirm_here"
	}
	s.c.Shown = ""
	s.out = append(s.out, Outbound{
		Text: s.render(s.e.pack.Message(key2, s.c.Lang), "", vars), Intent: IntentUnlinkConfirm, Lang: s.c.Lang,
		Buttons: []Button{
			{ID: buttonUnlinkConfirm + key, Label: s.e.pack.Message("unlink_label", s.c.Lang)},
			{ID: buttonLinkCancel, Label: s.e.pack.Message("link_cancel_label", s.c.Lang)},
		},
	})
}

func (s *step) detach(key string) {
	id, ok := s.identityByKey(key)
	if !ok {
		s.unlinkGone()
		return
	}
	detached, err := s.c.Links.Detach(id.ID())
	if err != nil {
		s.err = err
		return
	}
	if !detached {
		s.unlinkGone()
		return
	}
	s.linkSay(IntentUnlinked, "unlinked", map[string]string{"other": s.identityName(id)})
}

func (s *step) unlinkGone() {
	s.linkSay(IntentStaleButton, "unlink_gone", nil)
}

// linkSay answers about linking, keeping the student's way back.
func (s *step) linkSay(intent, key string, vars map[string]string) {
	s.say(intent, key, vars, s.mainButtons())
}

func (s *step) isHere(id Identity) bool {
	return id.Platform == s.in.Platform && id.UserID == s.in.UserID
}

// otherIdentities are the student's identities but the one writing.
func (s *step) otherIdentities(ids []Identity) []Identity {
	return slices.DeleteFunc(slices.Clone(ids), s.isHere)
}

// identityName names an identity for the student: its platform, and the
// name the platform gave when there is one.
func (s *step) identityName(id Identity) string {
	platform := s.e.pack.Message("platform_"+id.Platform, s.c.Lang)
	if platform == "" {
		platform = id.Platform
	}
	if id.Name == "" && id.Platform == TerminalPlatform {
		// The terminal's user is a name someone chose (chat --user), not a
		// random id as on the web.
		return platform + " (" + id.UserID + ")"
	}
	if id.Name == "" {
		return platform
	}
	return platform + " (" + id.Name + ")"
}

func (s *step) identityList(ids []Identity) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = s.identityName(id)
	}
	return strings.Join(names, ", ")
}
