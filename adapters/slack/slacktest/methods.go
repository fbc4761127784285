package slacktest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Slack's limits, in characters.
const (
	maxTextChars        = 40000 // top-level text; beyond it msg_too_long
	maxMessageBlocks    = 50
	maxViewBlocks       = 100
	maxSectionText      = 3000
	maxSectionFields    = 10
	maxSectionFieldText = 2000
	maxHeaderText       = 150
	maxActionsElements  = 25
	maxContextElements  = 10
	maxButtonText       = 75
	maxButtonValue      = 2000
	maxButtonURL        = 3000
	maxID               = 255 // block_id, action_id
)

// handlers answer the Web API methods, keyed by method name. They run after
// the token check and any scripted failure.
var handlers = map[string]func(*Fake, map[string]string) reply{
	"auth.test":             (*Fake).authTest,
	"chat.postMessage":      (*Fake).postMessage,
	"chat.update":           (*Fake).updateMessage,
	"chat.delete":           (*Fake).deleteMessage,
	"chat.postEphemeral":    (*Fake).postEphemeral,
	"views.publish":         (*Fake).publishView,
	"users.info":            (*Fake).userInfo,
	"conversations.open":    (*Fake).openConversation,
	"conversations.members": (*Fake).conversationMembers,
	"apps.connections.open": (*Fake).openConnection,
}

func (f *Fake) authTest(map[string]string) reply {
	return okReply(object{
		"url": "https://" + TeamDomain + ".slack.com/", "team": "Test", "user": "bot",
		"team_id": TeamID, "user_id": BotUserID, "bot_id": BotID,
	})
}

// ---- messages ----

type msgKey struct{ channel, ts string }

// message is the current state of a posted message.
type message struct {
	text      string
	blocks    json.RawMessage // with every block_id filled in; nil for none
	threadTS  string
	ephemeral bool
}

// object renders m as Slack's message object.
func (m *message) object(ts string) object {
	obj := object{
		"type": "message", "text": m.text, "ts": ts,
		"user": BotUserID, "bot_id": BotID, "app_id": AppID, "team": TeamID,
	}
	if m.blocks != nil {
		obj["blocks"] = m.blocks
	}
	if m.threadTS != "" {
		obj["thread_ts"] = m.threadTS
	}
	return obj
}

// dmChannel maps a user ID to the DM channel Slack posts to when given one,
// consistently with conversations.open.
func dmChannel(channel string) string {
	if strings.HasPrefix(channel, "U") || strings.HasPrefix(channel, "W") {
		return "D" + channel
	}
	return channel
}

func (f *Fake) postMessage(fields map[string]string) reply {
	channel := dmChannel(fields["channel"])
	if channel == "" {
		return errReply("channel_not_found")
	}
	m, rep, ok := newMessage(fields)
	if !ok {
		return rep
	}
	f.mu.Lock()
	ts := f.nextTSLocked()
	f.messages[msgKey{channel, ts}] = m
	f.mu.Unlock()
	return messageReply(object{"channel": channel, "ts": ts, "message": m.object(ts)}, channel, ts)
}

func messageReply(body object, channel, ts string) reply {
	rep := okReply(body)
	rep.channel, rep.ts = channel, ts
	return rep
}

func (f *Fake) postEphemeral(fields map[string]string) reply {
	channel := dmChannel(fields["channel"])
	if channel == "" {
		return errReply("channel_not_found")
	}
	if fields["user"] == "" {
		return errReply("user_not_found")
	}
	m, rep, ok := newMessage(fields)
	if !ok {
		return rep
	}
	m.ephemeral = true
	f.mu.Lock()
	ts := f.nextTSLocked()
	f.messages[msgKey{channel, ts}] = m
	f.mu.Unlock()
	return messageReply(object{"message_ts": ts}, channel, ts)
}

// updateMessage keeps the message's blocks when the request has none, as
// Slack documents; an empty array removes them.
func (f *Fake) updateMessage(fields map[string]string) reply {
	key := msgKey{dmChannel(fields["channel"]), fields["ts"]}
	if key.channel == "" {
		return errReply("channel_not_found")
	}
	m, rep, ok := newMessage(fields)
	if !ok {
		return rep
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	old, found := f.messages[key]
	if !found || old.ephemeral {
		return errReply("message_not_found")
	}
	if _, sent := fields["blocks"]; !sent {
		m.blocks = old.blocks
	}
	m.threadTS = old.threadTS
	f.messages[key] = m
	return messageReply(object{"channel": key.channel, "ts": key.ts, "text": m.text, "message": m.object(key.ts)}, key.channel, key.ts)
}

func (f *Fake) deleteMessage(fields map[string]string) reply {
	key := msgKey{dmChannel(fields["channel"]), fields["ts"]}
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, found := f.messages[key]; !found || m.ephemeral {
		return errReply("message_not_found")
	}
	delete(f.messages, key)
	return messageReply(object{"channel": key.channel, "ts": key.ts}, key.channel, key.ts)
}

// newMessage validates the text and blocks of a chat.* request.
func newMessage(fields map[string]string) (*message, reply, bool) {
	text, blocks := fields["text"], fields["blocks"]
	if utf8.RuneCountInString(text) > maxTextChars {
		return nil, errReply("msg_too_long"), false
	}
	var list []json.RawMessage
	if blocks != "" {
		var code string
		var problems []string
		if list, code, problems = checkBlocks(blocks, maxMessageBlocks, "/blocks"); code != "" {
			return nil, errReply(code, problems...), false
		}
	}
	if text == "" && len(list) == 0 && fields["attachments"] == "" {
		return nil, errReply("no_text"), false
	}
	m := &message{text: text, threadTS: fields["thread_ts"]}
	if blocks != "" {
		m.blocks = withBlockIDs(list)
	}
	return m, reply{}, true
}

// withBlockIDs gives every block without one a block_id, as Slack does, so
// that clicks carry the block_id Slack would send.
func withBlockIDs(list []json.RawMessage) json.RawMessage {
	objs := make([]map[string]json.RawMessage, len(list))
	taken := map[string]bool{}
	for i, raw := range list {
		_ = json.Unmarshal(raw, &objs[i]) // checkBlocks made sure they are objects
		var id string
		_ = json.Unmarshal(objs[i]["block_id"], &id)
		taken[id] = true
	}
	for i, obj := range objs {
		if _, ok := obj["block_id"]; ok {
			continue
		}
		id := fmt.Sprintf("blk%d", i)
		for taken[id] {
			id += "x"
		}
		taken[id] = true
		obj["block_id"] = marshal(id)
	}
	return marshal(objs)
}

// ---- views, users, conversations ----

func (f *Fake) publishView(fields map[string]string) reply {
	userID, view := fields["user_id"], fields["view"]
	if userID == "" {
		return errReply("invalid_arguments", "[ERROR] missing required field: user_id [json-pointer:/user_id]")
	}
	var v struct {
		Type   string          `json:"type"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(view), &v); err != nil {
		return errReply("invalid_arguments", "[ERROR] must be a view object [json-pointer:/view]")
	}
	if v.Type != "home" {
		return errReply("invalid_arguments", "[ERROR] must be home [json-pointer:/view/type]")
	}
	if _, code, problems := checkBlocks(string(v.Blocks), maxViewBlocks, "/view/blocks"); code != "" {
		return errReply("invalid_arguments", problems...)
	}
	f.mu.Lock()
	f.views[userID] = view
	f.mu.Unlock()
	return okReply(object{"view": viewObject(userID, view)})
}

// viewObject renders a published view as Slack returns it, with its ids.
func viewObject(userID, view string) map[string]json.RawMessage {
	var obj map[string]json.RawMessage
	_ = json.Unmarshal([]byte(view), &obj) // publishView checked it
	if obj == nil {
		obj = map[string]json.RawMessage{}
	}
	for k, v := range map[string]string{"id": viewID(userID), "team_id": TeamID, "app_id": AppID, "bot_id": BotID} {
		obj[k] = marshal(v)
	}
	return obj
}

func viewID(userID string) string { return "V" + userID }

// user is what SetUser and SetRealName set.
type user struct{ locale, name, realName string }

func (f *Fake) userLocked(id string) user {
	if u, ok := f.users[id]; ok {
		return u
	}
	return user{locale: "en-US", name: "student"}
}

func (f *Fake) userInfo(fields map[string]string) reply {
	id := fields["user"]
	if id == "" {
		return errReply("user_not_found")
	}
	f.mu.Lock()
	u := f.userLocked(id)
	f.mu.Unlock()
	label, offset := brusselsZone()
	real := cmp.Or(u.realName, u.name)
	obj := object{
		"id": id, "team_id": TeamID, "name": u.name, "real_name": real,
		"deleted": false, "is_bot": false, "is_app_user": false, "updated": 1_700_000_000,
		"tz": "Europe/Brussels", "tz_label": label, "tz_offset": offset,
		"profile": object{
			"real_name": real, "real_name_normalized": real,
			"display_name": real, "display_name_normalized": real, "team": TeamID,
		},
	}
	// Slack only tells the locale to who asks for it.
	if fields["include_locale"] == "true" {
		obj["locale"] = u.locale
	}
	return okReply(object{"user": obj})
}

// brusselsZone returns the current label and UTC offset (seconds) of
// Europe/Brussels, assuming winter time if the tz database is missing.
func brusselsZone() (string, int) {
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		return "Central European Time", 3600
	}
	if _, offset := time.Now().In(loc).Zone(); offset != 3600 {
		return "Central European Summer Time", offset
	}
	return "Central European Time", 3600
}

func (f *Fake) openConversation(fields map[string]string) reply {
	if channel := fields["channel"]; channel != "" {
		return okReply(object{"channel": object{"id": channel}, "no_op": true, "already_open": true})
	}
	if fields["users"] == "" {
		return errReply("users_list_not_supplied")
	}
	users := strings.Split(fields["users"], ",")
	channel := object{"id": "D" + users[0], "is_im": true, "user": users[0]}
	if len(users) > 1 {
		channel = object{"id": "G" + strings.Join(users, ""), "is_mpim": true}
	}
	return okReply(object{"channel": channel})
}

// conversationMembers pages through what SetMembers set. The cursor is
// opaque to clients, as Slack's: here the base64 of the next offset.
func (f *Fake) conversationMembers(fields map[string]string) reply {
	f.mu.Lock()
	members, found := f.members[fields["channel"]]
	pageSize := f.pageSize
	f.mu.Unlock()
	if !found {
		return errReply("channel_not_found")
	}
	limit := defaultMembersLimit
	if s := fields["limit"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return errReply("invalid_limit")
		}
		limit = min(n, maxMembersLimit)
	}
	if pageSize > 0 {
		limit = min(limit, pageSize)
	}
	start, ok := decodeCursor(fields["cursor"])
	if !ok || start > len(members) {
		return errReply("invalid_cursor")
	}
	end := min(start+limit, len(members))
	next := ""
	if end < len(members) {
		next = encodeCursor(end)
	}
	page := append([]string{}, members[start:end]...) // [] rather than null when empty
	return okReply(object{"members": page, "response_metadata": object{"next_cursor": next}})
}

// Slack's default and largest page of conversations.members.
const (
	defaultMembersLimit = 100
	maxMembersLimit     = 1000
)

func encodeCursor(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func decodeCursor(cursor string) (int, bool) {
	if cursor == "" {
		return 0, true
	}
	raw, err := base64.StdEncoding.DecodeString(cursor)
	if err != nil {
		return 0, false
	}
	num, ok := strings.CutPrefix(string(raw), "offset:")
	n, err := strconv.Atoi(num)
	return n, ok && err == nil && n >= 0
}
