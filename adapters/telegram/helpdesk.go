package telegram

import (
	"context"
	"fmt"
	"html"
	"strconv"
	"strings"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"activation-bot/adapters/internal/textsplit"
	"activation-bot/bot"
)

// The helpdesk group: tickets are posted there with their buttons, edited
// as they change, and agents answer a student by replying to a message
// the bot posted for the ticket. Nothing else said there concerns the bot.

// inHelpdesk reports whether chatID is the helpdesk group.
func (r reader) inHelpdesk(chatID int64) bool {
	return r.helpdesk != 0 && chatID == r.helpdesk
}

// helpdeskPress reads an agent's press on a ticket's button. The event id
// is the update's own, not the press dedupe of students' keyboards: an
// agent legitimately presses Claim, then Resolve, on the same message.
func (r reader) helpdeskPress(id string, q *callbackQuery) (bot.Inbound, bool) {
	action, ticket, ok := bot.ParseTicketButton(q.Data)
	if !ok || q.From.IsBot {
		return bot.Inbound{}, false
	}
	in := r.base(id, q.From, r.helpdesk)
	in.Helpdesk = &bot.HelpdeskEvent{Action: action, Ticket: ticket, PostRef: messageRef(q.Message.ID)}
	// Only the spinner stops: the ticket's message is edited by the core
	// with the ticket's new state, and its buttons must stay pressable.
	in.Ack = encodeAck(ack{Query: q.ID, Chat: r.helpdesk})
	return in, true
}

// helpdeskReply reads an agent's text answering a message of the bot's.
// When the bot's id is unknown any reply is taken: the core quietly
// settles one that answers no ticket.
func (r reader) helpdeskReply(id string, m *message) (bot.Inbound, bool) {
	switch {
	case m.From == nil || m.From.IsBot || m.Text == "":
		return bot.Inbound{}, false // a join, a sticker, a bot, an anonymous admin
	case m.ReplyTo == nil || m.ReplyTo.ID == 0:
		return bot.Inbound{}, false // chatter, and mentions of the bot too
	case r.selfID != 0 && (m.ReplyTo.From == nil || m.ReplyTo.From.ID != r.selfID):
		return bot.Inbound{}, false // agents talking among themselves
	}
	in := r.base(id, *m.From, r.helpdesk)
	in.Text = m.Text
	in.Helpdesk = &bot.HelpdeskEvent{Action: bot.ActReply, PostRef: messageRef(m.ReplyTo.ID)}
	return in, true
}

func messageRef(id int64) string {
	if id <= 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// sendTicket posts, edits or answers a ticket's message in the helpdesk
// group.
func (s *Sender) sendTicket(ctx context.Context, chatID int64, d bot.Delivery) (bot.Sent, error) {
	switch d.Ticket.Kind {
	case bot.PostNew:
		return s.postTicket(ctx, chatID, d.Message)
	case bot.PostEdit:
		return s.editTicket(ctx, chatID, d.Ticket.Ref, d.Message)
	case bot.PostThread:
		return s.threadTicket(ctx, chatID, d)
	}
	return bot.Sent{}, fmt.Errorf("%w: ticket %d: unknown kind of post %q", bot.ErrRejected, d.Ticket.ID, d.Ticket.Kind)
}

// postTicket sends the ticket as one message, whose id is the ticket's
// reference in this chat: agents reply to it, and it is edited later.
// The core keeps tickets far shorter than a message; one that is not is
// cut rather than split, so that a reply to any of it reaches the ticket.
func (s *Sender) postTicket(ctx context.Context, chatID int64, msg *bot.Outbound) (bot.Sent, error) {
	p := &tgbot.SendMessageParams{
		ChatID:             chatID,
		Text:               html.EscapeString(fitMessage(msg.Text)),
		ParseMode:          models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()},
	}
	if kb := keyboard(msg.Buttons); kb != nil {
		p.ReplyMarkup = kb
	}
	m, err := s.api.SendMessage(ctx, p)
	if err != nil {
		return bot.Sent{}, classify(err)
	}
	return bot.Sent{Ref: strconv.Itoa(m.ID)}, nil
}

// editTicket rewrites the ticket's message with its new state. Without
// buttons no reply_markup is sent, which removes the keyboard.
func (s *Sender) editTicket(ctx context.Context, chatID int64, ref string, msg *bot.Outbound) (bot.Sent, error) {
	if ref == "" {
		return bot.Sent{}, nil // never posted here: nothing to edit
	}
	msgID, err := strconv.Atoi(ref)
	if err != nil || msgID <= 0 {
		return bot.Sent{}, fmt.Errorf("%w: ticket message id %q is not a number", bot.ErrRejected, ref)
	}
	p := &tgbot.EditMessageTextParams{
		ChatID:             chatID,
		MessageID:          msgID,
		Text:               html.EscapeString(fitMessage(msg.Text)),
		ParseMode:          models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()},
	}
	if kb := keyboard(msg.Buttons); kb != nil {
		p.ReplyMarkup = kb
	}
	_, err = s.api.EditMessageText(ctx, p)
	if err != nil && !notModified(err) {
		return bot.Sent{}, classify(err)
	}
	return bot.Sent{Ref: ref}, nil
}

// threadTicket sends a message in the ticket's thread: a reply to its
// message, or a plain message when it has none here. A long one goes in
// parts, each a reply, as other messages do.
func (s *Sender) threadTicket(ctx context.Context, chatID int64, d bot.Delivery) (bot.Sent, error) {
	var reply *models.ReplyParameters
	if d.Ticket.Ref != "" {
		msgID, err := strconv.Atoi(d.Ticket.Ref)
		if err != nil || msgID <= 0 {
			return bot.Sent{}, fmt.Errorf("%w: ticket message id %q is not a number", bot.ErrRejected, d.Ticket.Ref)
		}
		// The ticket's message may have been deleted: the answer still
		// matters more than the thread.
		reply = &models.ReplyParameters{MessageID: msgID, AllowSendingWithoutReply: true}
	}
	return s.sendPart(ctx, chatID, d, reply)
}

// notModified: Telegram refuses an edit that changes nothing, as when the
// same state is shown again after a retry. The message is as wanted.
func notModified(err error) bool {
	return err != nil && strings.Contains(err.Error(), "message is not modified")
}

// fitMessage cuts text to one message, marking the cut.
func fitMessage(text string) string {
	if textsplit.Len(text, textsplit.UTF16) <= maxMessageUnits {
		return text
	}
	const mark = "…" // one UTF-16 unit
	n := 0
	for i, r := range text {
		n += textsplit.UTF16(r)
		if n > maxMessageUnits-1 {
			return text[:i] + mark
		}
	}
	return text
}
