package telegram

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"activation-bot/adapters/internal/textsplit"
	"activation-bot/bot"
)

// Telegram's limits: a message holds at most 4096 characters (UTF-16 code
// units, counted after entities are parsed); callback_data at most 64 bytes.
const (
	maxMessageUnits  = 4096
	maxCallbackBytes = 64
)

// Sender implements bot.Sender over the Bot API.
type Sender struct {
	api             *tgbot.Bot
	perChat, global bot.Rate
}

var _ bot.Sender = (*Sender)(nil)

// Limits implements bot.Sender.
func (s *Sender) Limits() (perChat, overall bot.Rate) { return s.perChat, s.global }

// Send implements bot.Sender.
func (s *Sender) Send(ctx context.Context, d bot.Delivery) (bot.Sent, error) {
	chatID, err := strconv.ParseInt(d.Chat.ID, 10, 64)
	if err != nil {
		return bot.Sent{}, fmt.Errorf("%w: chat id %q is not a number", bot.ErrRejected, d.Chat.ID)
	}
	switch {
	case d.Ack != "":
		return bot.Sent{}, s.acknowledge(ctx, d.Ack)
	case d.Message == nil:
		return bot.Sent{}, nil // a home view: Telegram has none
	case d.Ticket != nil:
		return s.sendTicket(ctx, chatID, d)
	}
	return s.sendPart(ctx, chatID, d, nil)
}

// sendPart sends the next part of an outbox message: a long one is split,
// and its buttons go under the last part. With reply set, every part
// answers that message.
func (s *Sender) sendPart(ctx context.Context, chatID int64, d bot.Delivery, reply *models.ReplyParameters) (bot.Sent, error) {
	parts := textsplit.Split(d.Message.Text, maxMessageUnits, textsplit.UTF16)
	i := min(d.Parts, len(parts)-1)
	p := &tgbot.SendMessageParams{
		ChatID:             chatID,
		Text:               html.EscapeString(parts[i]),
		ParseMode:          models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()},
		ReplyParameters:    reply,
	}
	if i == len(parts)-1 {
		if kb := keyboard(d.Message.Buttons); kb != nil {
			p.ReplyMarkup = kb
		}
	}
	m, err := s.api.SendMessage(ctx, p)
	if err != nil {
		return bot.Sent{}, classify(err)
	}
	return bot.Sent{Ref: strconv.Itoa(m.ID), More: i < len(parts)-1}, nil
}

// keyboard lays the buttons out one per row: labels are whole phrases.
// Ids longer than callback_data allows cannot be pressed, so they are left
// out (content check refuses such ids).
func keyboard(buttons []bot.Button) *models.InlineKeyboardMarkup {
	var rows [][]models.InlineKeyboardButton
	for _, b := range buttons {
		if len(b.ID) > maxCallbackBytes || b.ID == "" {
			continue
		}
		rows = append(rows, []models.InlineKeyboardButton{{Text: b.Label, CallbackData: b.ID}})
	}
	if len(rows) == 0 {
		return nil
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
}

// acknowledge stops the button's spinner, then replaces the pressed
// message's keyboard by the choice, so an old button cannot be pressed
// again. Telegram's refusals here (a query too old, a message not modified
// or deleted) change nothing for the student and are not retried.
func (s *Sender) acknowledge(ctx context.Context, raw string) error {
	a, err := decodeAck(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", bot.ErrRejected, err)
	}
	if a.Query != "" {
		_, err := s.api.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: a.Query})
		if err := ignoreRefusal(err); err != nil {
			return err
		}
	}
	if a.Message == 0 {
		return nil
	}
	text, choice, _ := strings.Cut(a.Text, "\n\n→ ")
	if a.Text != "" && textsplit.Len(a.Text, textsplit.UTF16) <= maxMessageUnits {
		_, err = s.api.EditMessageText(ctx, &tgbot.EditMessageTextParams{
			ChatID:             a.Chat,
			MessageID:          int(a.Message),
			Text:               html.EscapeString(text) + "\n\n→ <b>" + html.EscapeString(choice) + "</b>",
			ParseMode:          models.ParseModeHTML,
			LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()},
		})
	} else {
		_, err = s.api.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{
			ChatID: a.Chat, MessageID: int(a.Message),
		})
	}
	return ignoreRefusal(err)
}

func ignoreRefusal(err error) error {
	if err == nil || errors.Is(classify(err), bot.ErrRejected) {
		return nil
	}
	return classify(err)
}

// classify maps the client's errors onto the dispatcher's: Telegram's
// error_code decides, whatever the HTTP status was.
func classify(err error) error {
	var tooMany *tgbot.TooManyRequestsError
	var migrated *tgbot.MigrateError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooMany):
		return &bot.RetryAfter{After: time.Duration(max(tooMany.RetryAfter, 1)) * time.Second, Err: err}
	case errors.Is(err, tgbot.ErrorForbidden):
		return fmt.Errorf("%w: %v", bot.ErrUnreachable, err)
	case errors.As(err, &migrated), errors.Is(err, tgbot.ErrorBadRequest):
		return fmt.Errorf("%w: %v", bot.ErrRejected, err)
	}
	return err // 5xx, network, 401/404 from a misconfiguration: retried
}
