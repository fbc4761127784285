package telegramtest

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// User is a Telegram user, as updates and getChatMember show one.
type User struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name,omitempty"`
	Username  string `json:"username,omitempty"`
}

var botUser = User{ID: BotID, IsBot: true, FirstName: "Test", Username: BotUsername}

// Message is a message as the fake knows it now: sent by the bot (and
// edited since), or put in an update by MessageUpdate or ReplyUpdate.
// Updates show its text as Telegram does, parsed: "a &amp; <b>b</b>"
// sent with parse_mode HTML reads "a & b" there.
type Message struct {
	ID, ChatID int64
	From       User
	Text       string // as sent, HTML tags included
	// Buttons are the callback_data of its inline keyboard, row after row.
	Buttons []string
	// ReplyTo is the id of the message it answers; 0 for none.
	ReplyTo int64
}

// Message returns message id of chat chatID as it is now.
func (f *Fake) Message(chatID, id int64) (Message, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.messages[messageKey{chatID, id}]
	if !ok {
		return Message{}, false
	}
	out := Message{ID: m.MessageID, ChatID: m.Chat.ID, Text: m.Text}
	if m.From != nil {
		out.From = *m.From
	}
	if m.ReplyTo != nil {
		out.ReplyTo = m.ReplyTo.MessageID
	}
	if m.ReplyMarkup != nil {
		for _, row := range m.ReplyMarkup.InlineKeyboard {
			for _, b := range row {
				out.Buttons = append(out.Buttons, b.CallbackData)
			}
		}
	}
	return out, true
}

// ReplyTo returns the id of the message a sendMessage call answers (its
// reply_parameters, or the older reply_to_message_id); 0 for none.
func (c Call) ReplyTo() int64 {
	r, _ := readReplyTo(c.Fields)
	return r.id
}

// ---- messages ----

type chat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

// chatOf is the chat of an id: groups have negative ids (the fake makes
// them all supergroups), private chats the id of their user.
func chatOf(id int64) chat {
	if id < 0 {
		return chat{ID: id, Type: "supergroup"}
	}
	return chat{ID: id, Type: "private"}
}

type message struct {
	MessageID   int64         `json:"message_id"`
	From        *User         `json:"from,omitempty"`
	Date        int64         `json:"date"`
	Chat        chat          `json:"chat"`
	Text        string        `json:"text,omitempty"`
	ReplyMarkup *inlineMarkup `json:"reply_markup,omitempty"`
	ReplyTo     *message      `json:"reply_to_message,omitempty"`
	// visible is Text as people see it, as Telegram shows it in updates:
	// entities parsed, no HTML.
	visible string
}

type messageKey struct{ chat, id int64 }

// quoted is m as an update shows it (another message's
// reply_to_message, a callback_query's message): its visible text, and
// no reply of its own, as Telegram does not nest replies further.
func quoted(m message) *message {
	m.ReplyTo = nil
	m.Text = m.visible
	return &m
}

// visibleText is text as Telegram shows it once parsed with parse_mode.
// The text was checked already, so it parses.
func visibleText(fields map[string]string, text string) string {
	if strings.EqualFold(fields["parse_mode"], "HTML") {
		if plain, err := parseHTML(text); err == nil {
			return plain
		}
	}
	return text
}

// inlineMarkup is an inline keyboard with the button fields the fake
// keeps; others (go-telegram/bot's ever-present "copy_text":{"text":""})
// are dropped.
type inlineMarkup struct {
	InlineKeyboard [][]button `json:"inline_keyboard"`
}

type button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// readMarkup reads reply_markup: nil when absent or not an inline
// keyboard; refused when unparsable or when a callback_data is over 64
// bytes.
func readMarkup(fields map[string]string) (*inlineMarkup, reply, bool) {
	raw, ok := fields["reply_markup"]
	if !ok {
		return nil, reply{}, true
	}
	var m inlineMarkup
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		rep, _ := badRequest("can't parse reply keyboard markup JSON object")
		return nil, rep, false
	}
	n := 0
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if len(b.CallbackData) > maxCallbackData {
				rep, _ := badRequest("BUTTON_DATA_INVALID")
				return nil, rep, false
			}
			n++
		}
	}
	if n == 0 {
		return nil, reply{}, true
	}
	return &m, reply{}, true
}

type replyTo struct {
	id           int64
	withoutReply bool // allow_sending_without_reply
}

// readReplyTo reads what a message answers: reply_parameters, or the
// older reply_to_message_id and allow_sending_without_reply.
func readReplyTo(fields map[string]string) (replyTo, error) {
	if raw, ok := fields["reply_parameters"]; ok {
		var p struct {
			MessageID         int64 `json:"message_id"`
			AllowWithoutReply bool  `json:"allow_sending_without_reply"`
		}
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			return replyTo{}, errors.New("can't parse reply parameters JSON object")
		}
		return replyTo{id: p.MessageID, withoutReply: p.AllowWithoutReply}, nil
	}
	id, _ := strconv.ParseInt(fields["reply_to_message_id"], 10, 64)
	return replyTo{id: id, withoutReply: fields["allow_sending_without_reply"] == "true"}, nil
}

// ---- methods ----

func (f *Fake) sendMessage(req request) reply {
	fields := req.fields
	chatID, rep, ok := checkChat(fields)
	if !ok {
		return rep
	}
	if rep, ok := checkText(fields); !ok {
		return rep
	}
	markup, rep, ok := readMarkup(fields)
	if !ok {
		return rep
	}
	to, err := readReplyTo(fields)
	if err != nil {
		rep, _ := badRequest(err.Error())
		return rep
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := message{MessageID: f.nextMessageID, From: &botUser, Date: time.Now().Unix(), Chat: chatOf(chatID),
		Text: fields["text"], visible: visibleText(fields, fields["text"]), ReplyMarkup: markup}
	if to.id != 0 {
		orig, known := f.messages[messageKey{chatID, to.id}]
		switch {
		case known:
			m.ReplyTo = quoted(orig)
		case !to.withoutReply:
			rep, _ := badRequest("message to be replied not found")
			return rep
		}
	}
	f.nextMessageID++
	f.messages[messageKey{chatID, m.MessageID}] = m
	return okReply(m)
}

func (f *Fake) editMessageText(req request) reply {
	if rep, ok := checkText(req.fields); !ok {
		return rep
	}
	text := req.fields["text"]
	return f.edit(req.fields, &text)
}

func (f *Fake) editMessageReplyMarkup(req request) reply {
	return f.edit(req.fields, nil)
}

// edit changes a message's text (nil: kept) and keyboard: an edit without
// reply_markup removes the inline keyboard, as on Telegram. It answers
// true for inline messages (as Telegram does), else the edited message;
// an edit that changes nothing is refused, as Telegram refuses it.
func (f *Fake) edit(fields map[string]string, text *string) reply {
	markup, rep, ok := readMarkup(fields)
	if !ok {
		return rep
	}
	if fields["inline_message_id"] != "" {
		return okReply(true)
	}
	chatID, rep, ok := checkChat(fields)
	if !ok {
		return rep
	}
	msgID, err := strconv.ParseInt(fields["message_id"], 10, 64)
	if err != nil || msgID <= 0 {
		return errorReply(http.StatusBadRequest, "Bad Request: message identifier is not specified", 0)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, known := f.messages[messageKey{chatID, msgID}]
	if !known {
		// A message the fake never saw (a test editing at random): the
		// edit is taken as it comes.
		m = message{MessageID: msgID, From: &botUser, Date: time.Now().Unix(), Chat: chatOf(chatID)}
	} else if m.From == nil || m.From.ID != BotID {
		rep, _ := badRequest("message can't be edited")
		return rep
	}
	next := m
	if text != nil {
		next.Text, next.visible = *text, visibleText(fields, *text)
	}
	next.ReplyMarkup = markup
	if known && next.Text == m.Text && reflect.DeepEqual(next.ReplyMarkup, m.ReplyMarkup) {
		rep, _ := badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
		return rep
	}
	if known {
		f.messages[messageKey{chatID, msgID}] = next
	}
	return okReply(next)
}

// ---- chat members ----

type memberKey struct{ chat, user int64 }

type memberStatus struct {
	status   string
	isMember bool // for "restricted"
}

// SetChatMember sets the status getChatMember reports for user in chat:
// "creator", "administrator", "member", "restricted" (a restricted
// member; see SetRestrictedMember), "left", "kicked", or any other string.
// A user never set has "left".
func (f *Fake) SetChatMember(chatID, userID int64, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[memberKey{chatID, userID}] = memberStatus{status: status, isMember: status == "restricted"}
}

// SetRestrictedMember makes user restricted in chat, still in it or not
// (getChatMember's is_member).
func (f *Fake) SetRestrictedMember(chatID, userID int64, isMember bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[memberKey{chatID, userID}] = memberStatus{status: "restricted", isMember: isMember}
}

func (f *Fake) getChatMember(req request) reply {
	chatID, rep, ok := checkChat(req.fields)
	if !ok {
		return rep
	}
	userID, err := strconv.ParseInt(req.fields["user_id"], 10, 64)
	if err != nil || userID <= 0 {
		rep, _ := badRequest("invalid user_id specified")
		return rep
	}
	f.mu.Lock()
	st, ok := f.members[memberKey{chatID, userID}]
	f.mu.Unlock()
	if !ok {
		st = memberStatus{status: "left"}
	}
	result := map[string]any{"status": st.status, "user": User{ID: userID, FirstName: "User " + strconv.FormatInt(userID, 10)}}
	switch st.status {
	case "restricted":
		result["is_member"] = st.isMember
		result["until_date"] = 0
	case "kicked":
		result["until_date"] = 0
	}
	return okReply(result)
}

// ---- updates of people ----

// MessageUpdate returns an update with a text message from `from` in chat
// chatID (a supergroup when negative, else the private chat with from).
// The fake remembers the message, so that replies and presses can show
// it. The update has an update_id of the fake's sequence: push it
// (PushUpdate) or post it to a webhook as it is.
func (f *Fake) MessageUpdate(chatID int64, from User, text string) map[string]any {
	return f.messageUpdate(chatID, from, 0, text)
}

// ReplyUpdate is MessageUpdate for a message answering message replyTo of
// the same chat: its reply_to_message is that message as the fake knows
// it (sent by the bot, or by a person in an earlier update), or, for a
// message it never saw, just its id and chat.
func (f *Fake) ReplyUpdate(chatID int64, from User, replyTo int64, text string) map[string]any {
	return f.messageUpdate(chatID, from, replyTo, text)
}

func (f *Fake) messageUpdate(chatID int64, from User, replyTo int64, text string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := message{MessageID: f.nextMessageID, From: &from, Date: time.Now().Unix(), Chat: chatOf(chatID), Text: text, visible: text}
	f.nextMessageID++
	if replyTo != 0 {
		orig, known := f.messages[messageKey{chatID, replyTo}]
		if !known {
			orig = message{MessageID: replyTo, Date: time.Now().Unix(), Chat: chatOf(chatID)}
		}
		m.ReplyTo = quoted(orig)
	}
	f.messages[messageKey{chatID, m.MessageID}] = m
	return map[string]any{"update_id": f.takeUpdateIDLocked(), "message": m}
}

// CallbackUpdate returns an update with a callback_query: from pressed
// the button with data under message messageID of chat chatID. The
// message is as the fake knows it now (its text, its keyboard); one it
// never saw is inaccessible (date 0), as Telegram shows old ones. data
// need not be on the keyboard: a press may come from a keyboard since
// edited away.
func (f *Fake) CallbackUpdate(chatID, messageID int64, from User, data string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, known := f.messages[messageKey{chatID, messageID}]
	if !known {
		m = message{MessageID: messageID, Chat: chatOf(chatID)}
	}
	f.nextQueryID++
	query := map[string]any{
		"id":            "cbq-" + strconv.FormatInt(f.nextQueryID, 10),
		"from":          from,
		"message":       quoted(m),
		"chat_instance": strconv.FormatInt(chatID, 10),
		"data":          data,
	}
	return map[string]any{"update_id": f.takeUpdateIDLocked(), "callback_query": query}
}

func (f *Fake) takeUpdateIDLocked() int64 {
	id := f.nextUpdateID
	f.nextUpdateID++
	return id
}
