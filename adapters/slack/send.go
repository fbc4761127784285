package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"activation-bot/adapters/internal/textsplit"
	"activation-bot/bot"
)

// Block Kit limits the sender keeps within.
const (
	maxSectionChars = 3000
	maxButtonText   = 75
	maxButtons      = 25
	maxFallbackText = 3900 // notifications show little; Slack takes up to 40000
)

// Sender implements bot.Sender over Slack's Web API.
type Sender struct {
	api              *slackapi.Client
	perChat, overall bot.Rate
	// dm finds the app's DM with a user; botUser is the app's own user id,
	// the one mention kept live in what the bot says.
	dm      func(ctx context.Context, user string) (string, error)
	botUser func() string
	// responseURLs are the prefixes a response_url may have: Slack's hooks,
	// and the API's own host (SLACK_API_URL, for tests).
	responseURLs []string
}

var _ bot.Sender = (*Sender)(nil)

// Limits implements bot.Sender.
func (s *Sender) Limits() (perChat, overall bot.Rate) { return s.perChat, s.overall }

// Send implements bot.Sender.
func (s *Sender) Send(ctx context.Context, d bot.Delivery) (bot.Sent, error) {
	switch {
	case d.Ack != "":
		return bot.Sent{}, s.acknowledge(ctx, d.Ack)
	case d.Home != nil:
		return bot.Sent{}, s.publishHome(ctx, d)
	case d.Message == nil:
		return bot.Sent{}, nil
	case d.Ticket != nil:
		return s.sendTicket(ctx, d)
	}
	to := parseAddress(d.Chat.ID)
	opts := s.messageOptions(*d.Message)
	switch {
	case d.Proactive && to.User != "":
		// The bot writes first only in the DM: a slash command's channel
		// and response_url were for answering it.
		return s.toDM(ctx, to.User, opts)
	case to.ResponseURL != "":
		err := s.respond(ctx, to, opts)
		if errors.Is(err, errResponseURLGone) && to.User != "" {
			// A later message to a chat that began with a slash command (a
			// helpdesk answer, a link notice) outlives its response_url:
			// it goes to the DM instead of being lost.
			return s.toDM(ctx, to.User, opts)
		}
		return bot.Sent{}, err
	case to.Channel == "" || (to.User != "" && !strings.HasPrefix(to.Channel, "C") && !strings.HasPrefix(to.Channel, "G")):
		return s.toDM(ctx, to.User, opts)
	case to.User != "":
		ts, err := s.api.PostEphemeralContext(ctx, to.Channel, to.User, opts...)
		if errors.Is(classify(err), bot.ErrUnreachable) {
			// The app is not in that channel: the answer goes to the DM.
			return s.toDM(ctx, to.User, opts)
		}
		return bot.Sent{Ref: ts}, classify(err)
	}
	if to.Thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(to.Thread))
	}
	_, ts, err := s.api.PostMessageContext(ctx, to.Channel, opts...)
	return bot.Sent{Ref: ts}, classify(err)
}

func (s *Sender) messageOptions(m bot.Outbound) []slackapi.MsgOption {
	return []slackapi.MsgOption{
		slackapi.MsgOptionText(truncate(s.escape(m.Text), maxFallbackText), false),
		slackapi.MsgOptionBlocks(s.messageBlocks(m)...),
		slackapi.MsgOptionDisableLinkUnfurl(),
	}
}

func (s *Sender) toDM(ctx context.Context, user string, opts []slackapi.MsgOption) (bot.Sent, error) {
	ch, err := s.dm(ctx, user)
	if err != nil {
		return bot.Sent{}, classify(err)
	}
	_, ts, err := s.api.PostMessageContext(ctx, ch, opts...)
	return bot.Sent{Ref: ts}, classify(err)
}

// errResponseURLGone: Slack no longer takes a response_url.
var errResponseURLGone = errors.New("the response_url is used up or expired")

// respond answers through a response_url, ephemerally. The URL came in a
// signed request; it must still be Slack's, never one a payload made up.
func (s *Sender) respond(ctx context.Context, to address, opts []slackapi.MsgOption) error {
	allowed := false
	for _, p := range s.responseURLs {
		allowed = allowed || strings.HasPrefix(to.ResponseURL, p)
	}
	if !allowed {
		return fmt.Errorf("%w: response_url outside Slack", bot.ErrRejected)
	}
	opts = append(opts, slackapi.MsgOptionResponseURL(to.ResponseURL, slackapi.ResponseTypeEphemeral))
	_, _, err := s.api.PostMessageContext(ctx, to.Channel, opts...)
	var status slackapi.StatusCodeError
	if errors.As(err, &status) && status.Code >= 400 && status.Code < 500 {
		// Expired (30 minutes, 5 uses) or unknown: it will not work later.
		return fmt.Errorf("%w: %w: %v", bot.ErrRejected, errResponseURLGone, err)
	}
	return classify(err)
}

// messageBlocks lays a message out: its text in sections (each within
// Slack's limit once escaped, cut on paragraphs), then its buttons.
func (s *Sender) messageBlocks(m bot.Outbound) []slackapi.Block {
	return s.layout(m.Text, buttons(m.Buttons))
}

// layout is text in sections, then actions when not nil.
func (s *Sender) layout(text string, actions slackapi.Block) []slackapi.Block {
	var blocks []slackapi.Block
	for _, part := range s.sections(text, maxSectionChars) {
		blocks = append(blocks, section(part))
	}
	if actions != nil {
		blocks = append(blocks, actions)
	}
	return blocks
}

// sections escapes text and cuts it into parts of at most limit
// characters; a part that escaping made too long is cut again.
func (s *Sender) sections(text string, limit int) []string {
	var out []string
	for _, part := range textsplit.Split(text, limit, textsplit.Runes) {
		if strings.TrimSpace(part) == "" {
			continue
		}
		esc := s.escape(part)
		if textsplit.Len(esc, textsplit.Runes) > maxSectionChars && limit > 100 {
			out = append(out, s.sections(part, limit/2)...)
			continue
		}
		out = append(out, esc)
	}
	return out
}

func section(mrkdwn string) slackapi.Block {
	return slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.MarkdownType, mrkdwn, false, false), nil, nil)
}

// buttons is an actions block with one button per choice; the button's
// value carries the choice's id.
func buttons(bs []bot.Button) slackapi.Block { return actionBlock("choices", "choice:", bs) }

// actionBlock is an actions block with one button per choice: its value
// is the choice's id, its action id that with a prefix. A ticket's Claim
// is the primary button.
func actionBlock(blockID, actionPrefix string, bs []bot.Button) slackapi.Block {
	var elems []slackapi.BlockElement
	seen := map[string]bool{}
	for _, b := range bs {
		if b.ID == "" || seen[b.ID] || len(elems) == maxButtons {
			continue // action ids must be unique in a block
		}
		seen[b.ID] = true
		text := slackapi.NewTextBlockObject(slackapi.PlainTextType, truncate(b.Label, maxButtonText), true, false)
		btn := slackapi.NewButtonBlockElement(actionPrefix+b.ID, b.ID, text)
		if action, _, ok := bot.ParseTicketButton(b.ID); ok && action == bot.ActClaim {
			btn.Style = slackapi.StylePrimary
		}
		elems = append(elems, btn)
	}
	if len(elems) == 0 {
		return nil
	}
	return slackapi.NewActionBlock(blockID, elems...)
}

// sendTicket posts a ticket's message in the helpdesk channel (d.Chat.ID,
// a bare channel id), updates it, or writes in its thread. Its buttons
// carry the ticket button's id as value and action id, so the press is
// read without any state of the sender's.
func (s *Sender) sendTicket(ctx context.Context, d bot.Delivery) (bot.Sent, error) {
	channel, ref := d.Chat.ID, d.Ticket.Ref
	m := *d.Message
	opts := []slackapi.MsgOption{
		slackapi.MsgOptionText(truncate(s.escape(m.Text), maxFallbackText), false),
		slackapi.MsgOptionBlocks(s.layout(m.Text, actionBlock("ticket", "", m.Buttons))...),
	}
	switch d.Ticket.Kind {
	case bot.PostEdit:
		if ref == "" {
			return bot.Sent{}, nil // never posted: its post will show the current state
		}
		// The new blocks replace the old: without buttons, none are left.
		_, _, _, err := s.api.UpdateMessageContext(ctx, channel, ref, opts...)
		return bot.Sent{Ref: ref}, classify(err)
	case bot.PostThread:
		if ref != "" {
			opts = append(opts, slackapi.MsgOptionTS(ref))
		}
	}
	opts = append(opts, slackapi.MsgOptionDisableLinkUnfurl())
	_, ts, err := s.api.PostMessageContext(ctx, channel, opts...)
	return bot.Sent{Ref: ts}, classify(err)
}

// acknowledge updates the message whose button was pressed: the text
// stays, the choice shows under it, the buttons are gone. Slack's
// refusals here (the message deleted, too old) change nothing for the
// student and are not retried.
func (s *Sender) acknowledge(ctx context.Context, raw string) error {
	var a ack
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		return fmt.Errorf("%w: decode acknowledgement: %v", bot.ErrRejected, err)
	}
	if a.Channel == "" || a.TS == "" {
		return nil
	}
	var blocks []slackapi.Block
	for _, text := range a.Sections {
		blocks = append(blocks, section(text)) // as Slack keeps it: escaped once already
	}
	if a.Choice != "" {
		blocks = append(blocks, slackapi.NewContextBlock("choice",
			slackapi.NewTextBlockObject(slackapi.MarkdownType, "→ *"+s.escape(a.Choice)+"*", false, false)))
	}
	if len(blocks) == 0 {
		return nil
	}
	fallback := "→ " + s.escape(a.Choice)
	if len(a.Sections) > 0 {
		fallback = a.Sections[0]
	}
	_, _, _, err := s.api.UpdateMessageContext(ctx, a.Channel, a.TS,
		slackapi.MsgOptionText(truncate(fallback, maxFallbackText), false), slackapi.MsgOptionBlocks(blocks...))
	if err := classify(err); err != nil && !errors.Is(err, bot.ErrRejected) {
		return err
	}
	return nil
}

// publishHome shows the student's checklist in the App Home.
func (s *Sender) publishHome(ctx context.Context, d bot.Delivery) error {
	_, user, found := strings.Cut(d.User, ":")
	if !found || user == "" {
		return fmt.Errorf("%w: home view for %q: not a team:user id", bot.ErrRejected, d.User)
	}
	view := slackapi.HomeTabViewRequest{
		Type:   slackapi.VTHomeTab,
		Blocks: slackapi.Blocks{BlockSet: s.messageBlocks(*d.Home)},
	}
	_, err := s.api.PublishViewContext(ctx, slackapi.PublishViewContextRequest{UserID: user, View: view})
	var slackErr slackapi.SlackErrorResponse
	if errors.As(err, &slackErr) {
		// A home view Slack refuses is dropped: it says nothing about the
		// DM, and must not hold up the chat's replies behind it.
		return fmt.Errorf("%w: %v", bot.ErrRejected, err)
	}
	return classify(err)
}

// Slack's error strings that say the student cannot be reached any more,
// and those that say this message will never be taken.
var (
	// account_inactive is not here: it speaks of the app's own token (its
	// user or workspace deactivated), not of the student; it is retried
	// while an admin fixes it.
	unreachableErrors = map[string]bool{"not_in_channel": true, "channel_not_found": true,
		"is_archived": true, "user_not_found": true, "user_disabled": true, "cannot_dm_bot": true,
		"messages_tab_disabled": true, "user_not_in_channel": true}
	rejectedErrors = map[string]bool{"invalid_blocks": true, "invalid_blocks_format": true, "msg_too_long": true,
		"no_text": true, "invalid_arguments": true, "message_not_found": true, "cant_update_message": true,
		"edit_window_closed": true, "too_many_attachments": true, "invalid_arg_name": true}
)

// classify maps slack-go's errors onto the dispatcher's.
func classify(err error) error {
	var limited *slackapi.RateLimitedError
	var slackErr slackapi.SlackErrorResponse
	switch {
	case err == nil:
		return nil
	case errors.As(err, &limited):
		return &bot.RetryAfter{After: max(limited.RetryAfter, time.Second), Err: err}
	case errors.As(err, &slackErr) && unreachableErrors[slackErr.Err]:
		return fmt.Errorf("%w: %v", bot.ErrUnreachable, err)
	case errors.As(err, &slackErr) && rejectedErrors[slackErr.Err]:
		return fmt.Errorf("%w: %v", bot.ErrRejected, err)
	}
	return err // 5xx, network, internal_error, a revoked token: retried
}

// escape makes text safe for Slack's mrkdwn: &, < and > only, so nothing
// a student typed becomes a link, a mention or <!channel>. The app's own
// mention stays live: it is the pointer to its DM.
func (s *Sender) escape(text string) string {
	esc := escaper.Replace(text)
	if bot := s.botUser(); bot != "" {
		esc = strings.ReplaceAll(esc, escaper.Replace("<@"+bot+">"), "<@"+bot+">")
	}
	return esc
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
