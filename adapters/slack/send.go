package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
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
	dm               func(ctx context.Context, user string) (string, error)
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
	}
	to := parseAddress(d.Chat.ID)
	opts := []slackapi.MsgOption{
		slackapi.MsgOptionText(truncate(d.Message.Text, maxFallbackText), false),
		slackapi.MsgOptionBlocks(messageBlocks(*d.Message)...),
		slackapi.MsgOptionDisableLinkUnfurl(),
	}
	if to.User != "" {
		ts, err := s.api.PostEphemeralContext(ctx, to.Channel, to.User, opts...)
		return bot.Sent{Ref: ts}, classify(err)
	}
	if to.Thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(to.Thread))
	}
	_, ts, err := s.api.PostMessageContext(ctx, to.Channel, opts...)
	return bot.Sent{Ref: ts}, classify(err)
}

// messageBlocks lays a message out: its text in sections (each within
// Slack's limit, cut on paragraphs), then its buttons.
func messageBlocks(m bot.Outbound) []slackapi.Block {
	var blocks []slackapi.Block
	for _, part := range textsplit.Split(m.Text, maxSectionChars, textsplit.Runes) {
		if strings.TrimSpace(part) == "" {
			continue
		}
		blocks = append(blocks, slackapi.NewSectionBlock(
			slackapi.NewTextBlockObject(slackapi.MarkdownType, escape(part), false, false), nil, nil))
	}
	if b := buttons(m.Buttons); b != nil {
		blocks = append(blocks, b)
	}
	return blocks
}

// buttons is an actions block with one button per choice; the button's
// value carries the choice's id.
func buttons(bs []bot.Button) slackapi.Block {
	var elems []slackapi.BlockElement
	for _, b := range bs {
		if b.ID == "" || len(elems) == maxButtons {
			continue
		}
		text := slackapi.NewTextBlockObject(slackapi.PlainTextType, truncate(b.Label, maxButtonText), true, false)
		elems = append(elems, slackapi.NewButtonBlockElement("choice:"+b.ID, b.ID, text))
	}
	if len(elems) == 0 {
		return nil
	}
	return slackapi.NewActionBlock("choices", elems...)
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
	blocks := messageBlocks(bot.Outbound{Text: a.Text})
	if a.Choice != "" {
		blocks = append(blocks, slackapi.NewContextBlock("choice",
			slackapi.NewTextBlockObject(slackapi.MarkdownType, "→ *"+escape(a.Choice)+"*", false, false)))
	}
	_, _, _, err := s.api.UpdateMessageContext(ctx, a.Channel, a.TS,
		slackapi.MsgOptionText(truncate(a.Text, maxFallbackText), false), slackapi.MsgOptionBlocks(blocks...))
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
		Blocks: slackapi.Blocks{BlockSet: messageBlocks(*d.Home)},
	}
	_, err := s.api.PublishViewContext(ctx, slackapi.PublishViewContextRequest{UserID: user, View: view})
	err = classify(err)
	if errors.Is(err, bot.ErrUnreachable) {
		// A home view that cannot be shown says nothing about the DM.
		return fmt.Errorf("%w: %v", bot.ErrRejected, err)
	}
	return err
}

// Slack's error strings that say the student cannot be reached any more,
// and those that say this message will never be taken.
var (
	unreachableErrors = map[string]bool{"not_in_channel": true, "account_inactive": true, "channel_not_found": true,
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

// escape makes text safe for Slack's mrkdwn: &, < and > only. User
// mentions (<@U0123>) stay, so the pointer to the app's DM is a link.
func escape(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range mentionRe.FindAllStringIndex(s, -1) {
		b.WriteString(escaper.Replace(s[last:m[0]]))
		b.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(escaper.Replace(s[last:]))
	return b.String()
}

var (
	escaper   = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	mentionRe = regexp.MustCompile(`<@[UW][A-Z0-9]{2,20}>`)
)

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
