package telegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"activation-bot/bot"
)

// update holds the parts of a Telegram update the bot reads. Updates are
// decoded into these small structs, not go-telegram/bot's models: the
// library's typed decode fails on any polymorphic value it does not know
// yet (a new chat member status, reaction type, ...), and one such update
// must never stall the bot or be answered with an error Telegram retries.
type update struct {
	ID            int64          `json:"update_id"`
	Message       *message       `json:"message"`
	EditedMessage *message       `json:"edited_message"`
	CallbackQuery *callbackQuery `json:"callback_query"`
	MyChatMember  *memberUpdate  `json:"my_chat_member"`
}

type user struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Username     string `json:"username"`
	LanguageCode string `json:"language_code"`
}

type chat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"` // private, group, supergroup, channel
}

type entity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"` // in UTF-16 code units
	Length int    `json:"length"`
}

type message struct {
	ID          int64           `json:"message_id"`
	From        *user           `json:"from"`
	Chat        chat            `json:"chat"`
	Text        string          `json:"text"`
	Entities    []entity        `json:"entities"`
	ReplyMarkup *inlineKeyboard `json:"reply_markup"`
	// ReplyTo is the message this one answers (Telegram does not nest
	// further: ReplyTo's own ReplyTo is absent).
	ReplyTo *message `json:"reply_to_message"`
	// kind is what the message holds instead of text, if anything.
	kind string
}

type inlineKeyboard struct {
	Rows [][]struct {
		Text string `json:"text"`
		Data string `json:"callback_data"`
	} `json:"inline_keyboard"`
}

type callbackQuery struct {
	ID      string   `json:"id"`
	From    user     `json:"from"`
	Message *message `json:"message"` // nil, or date 0, when too old to access
	Data    string   `json:"data"`
}

type memberUpdate struct {
	Chat   chat `json:"chat"`
	From   user `json:"from"`
	Member struct {
		Status string `json:"status"`
	} `json:"new_chat_member"`
}

// mediaKinds are the fields that make a message something other than text,
// in the order they are looked for.
var mediaKinds = []string{"sticker", "photo", "voice", "video_note", "video", "animation", "audio",
	"document", "location", "venue", "contact", "poll", "dice", "game", "story", "paid_media"}

func (m *message) UnmarshalJSON(b []byte) error {
	type plain message
	if err := json.Unmarshal(b, (*plain)(m)); err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	for _, k := range mediaKinds {
		if _, ok := fields[k]; ok {
			m.kind = k
			break
		}
	}
	return nil
}

// errNoUpdateID: the body is JSON but not a Telegram update.
var errNoUpdateID = errors.New("not a Telegram update: no update_id")

// decodeUpdate reads an update in two steps: its id first, which any
// update has, then the parts the bot reads. An update whose parts do not
// decode is still an update: it is acknowledged and ignored, never refused.
func decodeUpdate(body []byte) (update, error) {
	var head struct {
		ID *int64 `json:"update_id"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return update{}, fmt.Errorf("decode update: %w", err)
	}
	if head.ID == nil {
		return update{}, errNoUpdateID
	}
	var u update
	if err := json.Unmarshal(body, &u); err != nil {
		return update{ID: *head.ID}, nil
	}
	return u, nil
}

// reader turns updates into the engine's events for one bot.
type reader struct {
	username string // the bot's @username, without "@"
	botID    string // the bot's id, the token's first part
	// selfID is the bot's user id as getMe reports it; 0 until Setup.
	selfID int64
	// helpdesk is the helpdesk group's chat id; 0 when there is none.
	helpdesk int64
}

// inbound returns the event an update carries for the engine, and false
// for an update the bot ignores (a channel post, an inline query, ...).
func (r reader) inbound(u update) (bot.Inbound, bool) {
	// update_id counts per bot: a new token (a new bot) starts over, and
	// must not find its ids taken in the inbox.
	id := r.botID + ":" + strconv.FormatInt(u.ID, 10)
	switch {
	case u.Message != nil && r.inHelpdesk(u.Message.Chat.ID):
		return r.helpdeskReply(id, u.Message)
	case u.Message != nil:
		return r.fromMessage(id, u.Message, "")
	case u.EditedMessage != nil && r.inHelpdesk(u.EditedMessage.Chat.ID):
		return bot.Inbound{}, false // an agent's answer already relayed stays as it was
	case u.EditedMessage != nil:
		return r.fromMessage(id, u.EditedMessage, bot.MediaEdited)
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil && r.inHelpdesk(u.CallbackQuery.Message.Chat.ID):
		return r.helpdeskPress(id, u.CallbackQuery)
	case u.CallbackQuery != nil:
		return r.fromCallback(id, u.CallbackQuery)
	case u.MyChatMember != nil:
		return r.fromMembership(id, u.MyChatMember)
	}
	return bot.Inbound{}, false
}

func (r reader) fromMessage(id string, m *message, edited string) (bot.Inbound, bool) {
	if m.From == nil || m.From.IsBot {
		return bot.Inbound{}, false
	}
	in := r.base(id, *m.From, m.Chat.ID)
	if m.Chat.Type != "private" {
		if edited != "" || !r.addressed(m) {
			return bot.Inbound{}, false
		}
		in.Group = "@" + r.username
		return in, true
	}
	switch {
	case edited != "":
		in.Media = edited
	case m.kind != "":
		in.Media = m.kind
	case m.Text == "":
		return bot.Inbound{}, false // a service message: a pin, a chat photo, ...
	default:
		in.Text = r.stripMention(m.Text)
	}
	return in, true
}

// addressed reports whether a group message is meant for this bot: a
// command (addressed to it, or to no bot in particular) or a mention.
func (r reader) addressed(m *message) bool {
	units := utf16.Encode([]rune(m.Text))
	for _, e := range m.Entities {
		// Written so that no length, however large, overflows.
		if e.Offset < 0 || e.Length <= 0 || e.Offset > len(units) || e.Length > len(units)-e.Offset {
			continue
		}
		s := string(utf16.Decode(units[e.Offset : e.Offset+e.Length]))
		switch e.Type {
		case "bot_command":
			_, to, found := strings.Cut(s, "@")
			if !found || strings.EqualFold(to, r.username) {
				return true
			}
		case "mention":
			if strings.EqualFold(strings.TrimPrefix(s, "@"), r.username) {
				return true
			}
		}
	}
	return false
}

// stripMention drops "@bot" from "/start@bot": the engine reads commands
// without it.
func (r reader) stripMention(text string) string {
	if r.username == "" || !strings.HasPrefix(text, "/") {
		return text
	}
	cmd, rest, _ := strings.Cut(text, " ")
	if name, to, found := strings.Cut(cmd, "@"); found && strings.EqualFold(to, r.username) {
		cmd = name
	}
	if rest == "" {
		return cmd
	}
	return cmd + " " + rest
}

func (r reader) fromCallback(id string, q *callbackQuery) (bot.Inbound, bool) {
	if q.From.IsBot {
		return bot.Inbound{}, false
	}
	chatID := q.From.ID // a private chat's id is its user's id
	var msgID int64
	if q.Message != nil && q.Message.Chat.ID != 0 {
		if q.Message.Chat.Type != "" && q.Message.Chat.Type != "private" {
			return bot.Inbound{}, false // no student buttons outside private chats
		}
		chatID, msgID = q.Message.Chat.ID, q.Message.ID
	}
	in := r.base(id, q.From, chatID)
	if msgID != 0 {
		// A message's keyboard counts once: a double tap, or a tap on a
		// second device before the keyboard is gone, is the same press.
		in.EventID = fmt.Sprintf("%s:press:%d:%d", r.botID, chatID, msgID)
	}
	in.ButtonID = q.Data
	in.Ack = encodeAck(ack{Query: q.ID, Chat: chatID, Message: msgID, Text: choiceText(q)})
	return in, true
}

// choiceText is the pressed message's text with the chosen label under it,
// for the edit that replaces its keyboard; empty when the text is unknown.
func choiceText(q *callbackQuery) string {
	if q.Message == nil || q.Message.Text == "" || q.Message.ReplyMarkup == nil {
		return ""
	}
	for _, row := range q.Message.ReplyMarkup.Rows {
		for _, b := range row {
			if b.Data == q.Data {
				return q.Message.Text + "\n\n→ " + b.Text
			}
		}
	}
	return ""
}

func (r reader) fromMembership(id string, m *memberUpdate) (bot.Inbound, bool) {
	if m.Chat.Type != "private" {
		return bot.Inbound{}, false
	}
	in := r.base(id, m.From, m.Chat.ID)
	switch m.Member.Status {
	case "kicked":
		in.Media = bot.MediaBlocked
	case "member":
		in.Media = bot.MediaUnblocked
	default:
		return bot.Inbound{}, false
	}
	return in, true
}

func (r reader) base(id string, from user, chatID int64) bot.Inbound {
	return bot.Inbound{
		Platform:   Platform,
		EventID:    id,
		UserID:     strconv.FormatInt(from.ID, 10),
		ChatID:     strconv.FormatInt(chatID, 10),
		LocaleHint: from.LanguageCode,
		Name:       strings.TrimSpace(from.FirstName + " " + from.LastName),
		Handle:     from.Username,
	}
}

// ack is what acknowledging a button press needs: the callback query to
// answer, and the message whose keyboard to replace by the choice.
type ack struct {
	Query   string `json:"q"`
	Chat    int64  `json:"c"`
	Message int64  `json:"m,omitempty"`
	Text    string `json:"t,omitempty"`
}

func encodeAck(a ack) string {
	b, _ := json.Marshal(a) // a struct of strings and ints always encodes
	return string(b)
}

func decodeAck(s string) (ack, error) {
	var a ack
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return ack{}, fmt.Errorf("decode acknowledgement: %w", err)
	}
	return a, nil
}
