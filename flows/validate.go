package flows

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Severity says whether an issue stops `serve`.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Issue is one finding of Check, pointing at a key and line of the pack.
type Issue struct {
	Severity Severity
	Source   string
	Line     int
	Key      string
	Message  string
}

func (i Issue) String() string {
	return fmt.Sprintf("%s:%d: %s: %s: %s", i.Source, i.Line, i.Severity, i.Key, i.Message)
}

// RequiredMessages are the engine texts every pack must define in every language.
var RequiredMessages = []string{
	"fallback", "service_answer", "status_header", "status_done", "status_waiting",
	"status_ready", "status_problem", "status_todo", "status_all_done", "account_done_left",
	"wait_ask", "can_activate_now", "already_done", "time_on_date", "unknown_command",
	"empty", "too_long", "no_text", "stale_button", "secret_warning", "language_set",
	"arrival_not_understood", "resume_label", "link_placeholder", "restarted", "forgotten", "and",
	"text_only", "edited_ignored", "private_only",
	"report_label", "describe_problem", "report_cancel_label", "ticket_created",
	"ticket_exists", "reply_label", "reply_prompt", "relayed", "ticket_closed", "helpdesk_answer",
	"ticket_claimed", "ticket_resolved", "ticket_reopened", "status_ticket", "status_ticket_claimed", "ticket_delayed",
	"wait_over", "nudge", "nudge_account", "stopped", "reminders_on",
	"link_code", "link_already_with", "linked", "linked_notice", "link_confirm", "link_merge_tickets", "link_merge_lines",
	"link_merge_label", "link_cancel_label", "link_cancelled", "link_wrong", "link_expired", "link_used", "link_own",
	"link_already", "link_limited", "link_prefer_word", "prefer_set", "unlink_none", "unlink_list", "link_this_chat", "link_last_used",
	"unlink_confirm", "unlink_confirm_here", "unlink_label", "unlinked", "unlink_gone",
}

var validStatuses = map[string]bool{"not_started": true, "waiting": true, "done": true, "problem": true}

var placeholderRe = regexp.MustCompile(`\{([a-z_]+)(?::([a-z0-9_]+))?\}`)

var knownPlaceholders = map[string]bool{
	"until": true, "account": true, "login": true, "service": true, "left": true,
	"time": true, "date": true, "command": true, "max": true, "link": true,
	"ticket": true, "category": true, "status": true, "text": true,
	"code": true, "minutes": true, "other": true, "summary": true, "list": true, "n": true,
}

// messagePlaceholders are placeholders only some messages may use, because
// only the code that sends them fills them in: {bot}, the bot's
// @username, is filled in by the adapter that points group chats to a
// private one.
var messagePlaceholders = map[string]map[string]bool{
	"private_only": {"bot": true},
}

// deepLinkNameRe is what a deep_links key may look like: the payload
// alphabet, lowercase (payloads are read case-insensitively).
var deepLinkNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// HasErrors reports whether any issue is an error.
func HasErrors(issues []Issue) bool {
	for _, i := range issues {
		if i.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Check validates the pack: structural problems (dangling references,
// unreachable nodes, missing translations) are errors; links that are
// still placeholders are warnings. Issues are sorted by line.
func (p *Pack) Check() []Issue {
	c := &checker{p: p}
	c.top()
	c.accounts()
	c.nodes()
	c.intents()
	c.commands()
	c.deepLinks()
	c.services()
	c.problems()
	c.messages()
	c.links()
	c.reachability()
	sort.SliceStable(c.issues, func(a, b int) bool { return c.issues[a].Line < c.issues[b].Line })
	return c.issues
}

type checker struct {
	p      *Pack
	issues []Issue
}

func (c *checker) add(sev Severity, key, format string, args ...any) {
	c.issues = append(c.issues, Issue{
		Severity: sev, Source: c.p.Source, Line: c.p.lines.line(key), Key: key,
		Message: fmt.Sprintf(format, args...),
	})
}

func (c *checker) errorf(key, format string, args ...any) { c.add(SeverityError, key, format, args...) }

func (c *checker) top() {
	if c.p.Version != 1 {
		c.errorf("version", "unsupported version %d (want 1)", c.p.Version)
	}
	if len(c.p.Languages) == 0 {
		c.errorf("languages", "no languages")
	}
	if !c.p.SupportsLanguage(c.p.DefaultLanguage) {
		c.errorf("default_language", "%q is not one of the languages", c.p.DefaultLanguage)
	}
	for _, l := range c.p.Languages {
		if c.p.LanguageNames[l] == "" {
			c.errorf("language_names", "missing name for language %q", l)
		}
	}
	c.nodeRef("start", c.p.Start)
	c.nodeRef("completed", c.p.Completed)
}

func (c *checker) nodeRef(key, id string) {
	if id == "" {
		c.errorf(key, "missing node reference")
		return
	}
	if _, ok := c.p.Nodes[id]; !ok {
		c.errorf(key, "unknown node %q", id)
	}
}

// text checks that t has every language and only known placeholders.
func (c *checker) text(key string, t Text) { c.textWith(key, t, nil) }

// textWith is text for a text that may also use the extra placeholders.
func (c *checker) textWith(key string, t Text, extra map[string]bool) {
	for _, l := range c.p.Languages {
		s, ok := t[l]
		if !ok || strings.TrimSpace(s) == "" {
			c.errorf(key, "missing translation %q", l)
			continue
		}
		c.placeholders(key+"."+l, s, extra)
	}
	for l := range t {
		if !c.p.SupportsLanguage(l) {
			c.errorf(key+"."+l, "language %q is not in languages", l)
		}
	}
}

func (c *checker) placeholders(key, s string, extra map[string]bool) {
	for _, m := range placeholderRe.FindAllStringSubmatch(s, -1) {
		if !knownPlaceholders[m[1]] && !extra[m[1]] {
			c.errorf(key, "unknown placeholder {%s}", m[1])
			continue
		}
		if m[1] == "link" {
			if _, ok := c.p.Links[m[2]]; !ok {
				c.errorf(key, "unknown link %q", m[2])
			}
		}
	}
}

func (c *checker) accounts() {
	if len(c.p.Accounts) == 0 {
		c.errorf("accounts", "no accounts")
	}
	seen := map[string]bool{}
	for i, a := range c.p.Accounts {
		key := fmt.Sprintf("accounts[%d]", i)
		if a.ID == "" || seen[a.ID] {
			c.errorf(key+".id", "missing or duplicate account id %q", a.ID)
		}
		seen[a.ID] = true
		c.text(key+".name", a.Name)
		c.text(key+".login", a.Login)
		c.nodeRef(key+".entry", a.Entry)
		c.nodeRef(key+".steps", a.Steps)
		if a.Wait.Duration > 0 {
			c.nodeRef(key+".wait_node", a.WaitNode)
		}
	}
}

func (c *checker) nodes() {
	buttons := map[string]string{}
	for _, id := range sortedKeys(c.p.Nodes) {
		n, key := c.p.Nodes[id], "nodes."+id
		if n == nil {
			c.errorf(key, "empty node")
			continue
		}
		if n.Intent == "" {
			c.errorf(key, "missing intent")
		}
		c.text(key+".text", n.Text)
		if n.Account != "" {
			if _, ok := c.p.Account(n.Account); !ok {
				c.errorf(key+".account", "unknown account %q", n.Account)
			}
		}
		if n.AskArrival && n.Account == "" {
			c.errorf(key+".ask_arrival", "ask_arrival needs an account")
		}
		for i, b := range n.Buttons {
			bkey := fmt.Sprintf("%s.buttons[%d]", key, i)
			if prev, dup := buttons[b.ID]; dup || b.ID == "" || b.ID == ButtonResume {
				c.errorf(bkey+".id", "missing, reserved or duplicate button id %q (also in %s)", b.ID, prev)
			}
			buttons[b.ID] = key
			if len(b.ID) > MaxButtonID {
				// A Telegram button carries its id as callback_data.
				c.errorf(bkey+".id", "button id %q is longer than %d bytes", b.ID, MaxButtonID)
			}
			c.button(bkey, n, b)
		}
	}
}

func (c *checker) button(key string, n *Node, b Button) {
	c.text(key+".label", b.Label)
	switch {
	case b.Goto == "" && b.Action == "":
		c.errorf(key, "button leads nowhere: give it a goto or an action")
	case b.Goto != "" && b.Goto != GotoNext && b.Goto != GotoResume:
		c.nodeRef(key+".goto", b.Goto)
	}
	if b.Action != "" {
		c.action(key+".action", b.Action)
	}
	for l := range b.Words {
		if !c.p.SupportsLanguage(l) {
			c.errorf(key+".words."+l, "language %q is not in languages", l)
		}
	}
	if b.Action == ActionWait {
		if a, ok := c.p.Account(n.Account); !ok || a.Wait.Duration == 0 {
			c.errorf(key+".action", "wait needs the node's account to have a wait")
		}
	}
	for acc, st := range b.Set {
		if _, ok := c.p.Account(acc); !ok {
			c.errorf(key+".set."+acc, "unknown account %q", acc)
		}
		if !validStatuses[st] {
			c.errorf(key+".set."+acc, "unknown status %q", st)
		}
	}
}

func (c *checker) action(key, a string) {
	switch a {
	case ActionWait, ActionRestart, ActionForget, ActionCheckWait, ActionStart, ActionStatus, ActionReport, ActionStop,
		ActionLink, ActionUnlink:
		return
	}
	if lang, ok := strings.CutPrefix(a, ActionLanguage); ok {
		if !c.p.SupportsLanguage(lang) {
			c.errorf(key, "unknown language %q", lang)
		}
		return
	}
	c.errorf(key, "unknown action %q", a)
}

func (c *checker) replyOrAction(key, reply, action string) {
	switch {
	case reply != "" && action != "":
		c.errorf(key, "give reply or action, not both")
	case reply != "":
		c.nodeRef(key+".reply", reply)
	case action == ActionWait:
		c.errorf(key+".action", "wait works only on a button of a node with an account")
	case action != "":
		c.action(key+".action", action)
	default:
		c.errorf(key, "missing reply or action")
	}
}

func (c *checker) phrases(key string, byLang map[string][]string) {
	for _, l := range c.p.Languages {
		if len(byLang[l]) == 0 {
			c.errorf(key, "missing phrases for language %q", l)
		}
	}
	for l, ps := range byLang {
		for i, ph := range ps {
			if len(tokenize(normalize(ph))) == 0 {
				c.errorf(fmt.Sprintf("%s.%s[%d]", key, l, i), "phrase %q has no words", ph)
			}
		}
	}
}

func (c *checker) intents() {
	for _, name := range sortedKeys(c.p.Intents) {
		in, key := c.p.Intents[name], "intents."+name
		if in == nil {
			c.errorf(key, "empty intent")
			continue
		}
		c.replyOrAction(key, in.Reply, in.Action)
		c.phrases(key+".phrases", in.Phrases)
	}
}

func (c *checker) commands() {
	for _, name := range sortedKeys(c.p.Commands) {
		cmd, key := c.p.Commands[name], "commands."+name
		if cmd == nil {
			c.errorf(key, "empty command")
			continue
		}
		c.replyOrAction(key, cmd.Reply, cmd.Action)
		if cmd.Menu != nil {
			c.menu(key, name, cmd.Menu)
		}
	}
}

// menu checks a command's entry in the platforms' command menus: Telegram
// takes names of 1-32 lowercase letters, digits and underscores, and
// descriptions of 1-256 characters.
func (c *checker) menu(key, name string, t Text) {
	if !menuNameRe.MatchString(name) {
		c.errorf(key, "command %q has a menu entry but its name is not 1-32 lowercase letters, digits or _", name)
	}
	c.text(key+".menu", t)
	for lang, d := range t {
		if n := len([]rune(d)); n > 256 {
			c.errorf(key+".menu", "%s description is %d characters; menus take 256", lang, n)
		}
	}
}

var menuNameRe = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// MaxButtonID is the longest button id: Telegram's callback_data limit.
const MaxButtonID = 64

// deepLinks checks the deep_links map: each name is a word a payload can
// carry, alone or after a language, and leads to a node.
func (c *checker) deepLinks() {
	longestLang := 0
	for _, l := range c.p.Languages {
		longestLang = max(longestLang, len(l))
	}
	for _, name := range sortedKeys(c.p.DeepLinks) {
		key := "deep_links." + name
		switch {
		case !deepLinkNameRe.MatchString(name):
			c.errorf(key, "deep link name %q: use lowercase letters, digits, - and _ only", name)
		case c.p.SupportsLanguage(name):
			c.errorf(key, "deep link name %q is a language code: /start %s sets the language", name, name)
		case c.p.SupportsLanguage(name[:max(strings.IndexAny(name, "-_"), 0)]):
			c.errorf(key, "deep link name %q starts like a language and a link: /start %s would be read both ways", name, name)
		case len(name)+longestLang+1 > MaxDeepLinkPayload:
			c.errorf(key, "deep link name %q is too long: with a language it must fit in %d characters", name, MaxDeepLinkPayload)
		}
		c.nodeRef(key, c.p.DeepLinks[name])
	}
}

func (c *checker) services() {
	seen := map[string]bool{}
	for i, s := range c.p.Services {
		key := fmt.Sprintf("services[%d]", i)
		if s.ID == "" || seen[s.ID] {
			c.errorf(key+".id", "missing or duplicate service id %q", s.ID)
		}
		seen[s.ID] = true
		if _, ok := c.p.Account(s.Account); !ok {
			c.errorf(key+".account", "unknown account %q", s.Account)
		}
		c.text(key+".name", s.Name)
		if s.Note != nil {
			c.text(key+".note", s.Note)
		}
		c.phrases(key+".synonyms", s.Synonyms)
	}
}

func (c *checker) problems() {
	if len(c.p.Problems) == 0 {
		c.errorf("problems", "no problems: students could not report one")
	}
	seen := map[string]bool{}
	for i, pr := range c.p.Problems {
		key := fmt.Sprintf("problems[%d]", i)
		if !problemIDRe.MatchString(pr.ID) || seen[pr.ID] {
			c.errorf(key+".id", "missing, malformed or duplicate problem id %q", pr.ID)
		}
		seen[pr.ID] = true
		c.text(key+".label", pr.Label)
		c.text(key+".tip", pr.Tip)
		for _, n := range pr.At {
			c.nodeRef(key+".at", n)
		}
		if pr.Words != nil {
			c.phrases(key+".words", pr.Words)
		}
	}
}

// problemIDRe: problem ids travel in button ids and the helpdesk's lists.
var problemIDRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

func (c *checker) messages() {
	for _, k := range RequiredMessages {
		if _, ok := c.p.Messages[k]; !ok {
			c.errorf("messages", "missing message %q", k)
		}
	}
	for _, k := range sortedKeys(c.p.Messages) {
		c.textWith("messages."+k, c.p.Messages[k], messagePlaceholders[k])
	}
}

func (c *checker) links() {
	for _, name := range sortedKeys(c.p.Links) {
		if IsPlaceholder(c.p.Links[name]) {
			c.add(SeverityWarning, "links."+name,
				"placeholder %q: fill in the institution's link here or in LINKS_FILE", c.p.Links[name])
		}
	}
}

// reachability reports nodes that no path leads to: they are dead text.
func (c *checker) reachability() {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(id string) {
		n, ok := c.p.Nodes[id]
		if !ok || seen[id] {
			return
		}
		seen[id] = true
		if n == nil {
			return
		}
		for _, b := range n.Buttons {
			visit(b.Goto)
		}
	}
	visit(c.p.Start)
	visit(c.p.Completed)
	for _, a := range c.p.Accounts {
		visit(a.Entry)
		visit(a.Steps)
		visit(a.WaitNode)
	}
	for _, in := range c.p.Intents {
		if in != nil {
			visit(in.Reply)
		}
	}
	for _, cmd := range c.p.Commands {
		if cmd != nil {
			visit(cmd.Reply)
		}
	}
	for _, id := range c.p.DeepLinks {
		visit(id)
	}
	for _, id := range sortedKeys(c.p.Nodes) {
		if !seen[id] {
			c.errorf("nodes."+id, "unreachable node: no button, intent, command, deep link or account leads to it")
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
