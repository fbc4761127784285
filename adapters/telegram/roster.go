package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"activation-bot/bot"
)

// Roster returns who belongs to the helpdesk on Telegram: the members of
// the helpdesk group. Without a helpdesk group nobody does.
func (a *Adapter) Roster() bot.Roster { return a.roster }

// A member's answer is kept a minute: agents pressing and replying in a
// row cost one getChatMember, and someone removed from the group may act
// for that long still. The cache is bounded: anyone in the group can
// press, members or not.
const (
	rosterTTL        = time.Minute
	maxRosterEntries = 1024
)

// roster answers bot.Roster from getChatMember in the helpdesk group.
type roster struct {
	chat   int64
	lookup func(ctx context.Context, chat, user int64) (bool, error)
	now    func() time.Time

	mu    sync.Mutex
	known map[int64]rosterEntry
}

type rosterEntry struct {
	member bool
	at     time.Time
}

var _ bot.Roster = (*roster)(nil)

func newRoster(chat int64, lookup func(ctx context.Context, chat, user int64) (bool, error)) *roster {
	return &roster{chat: chat, lookup: lookup, now: time.Now, known: map[int64]rosterEntry{}}
}

// HelpdeskMember implements bot.Roster; userID is a Telegram user id, as
// in this adapter's events.
func (r *roster) HelpdeskMember(ctx context.Context, userID string) (bool, error) {
	user, err := strconv.ParseInt(userID, 10, 64)
	if r.chat == 0 || err != nil || user <= 0 {
		return false, nil
	}
	if member, ok := r.cached(user); ok {
		return member, nil
	}
	member, err := r.lookup(ctx, r.chat, user)
	if err != nil {
		return false, fmt.Errorf("is user %d a member of the helpdesk group %d: %w", user, r.chat, err)
	}
	r.remember(user, member)
	return member, nil
}

func (r *roster) cached(user int64) (member, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, found := r.known[user]
	age := r.now().Sub(e.at)
	return e.member, found && age >= 0 && age < rosterTTL
}

// remember keeps an answer, making room first: expired answers go, and
// when none has expired an arbitrary one does.
func (r *roster) remember(user int64, member bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if _, found := r.known[user]; !found && len(r.known) >= maxRosterEntries {
		for u, e := range r.known {
			if now.Sub(e.at) >= rosterTTL {
				delete(r.known, u)
			}
		}
		for u := range r.known {
			if len(r.known) < maxRosterEntries {
				break
			}
			delete(r.known, u)
		}
	}
	r.known[user] = rosterEntry{member: member, at: now}
}

// chatMember is the part of a ChatMember the roster reads.
type chatMember struct {
	Status   string `json:"status"`
	IsMember bool   `json:"is_member"` // restricted members only
}

// getChatMember asks Telegram whether user belongs to chat. It is a plain
// JSON call: go-telegram/bot refuses to decode a status it does not know,
// which must mean "not a member", not an error retried for ever.
func (a *Adapter) getChatMember(ctx context.Context, chat, user int64) (bool, error) {
	r, err := a.callJSON(ctx, "getChatMember", map[string]int64{"chat_id": chat, "user_id": user})
	if err != nil {
		return false, err
	}
	if !r.OK {
		if r.ErrorCode == http.StatusBadRequest && unknownUser(r.Description) {
			return false, nil // a definite answer: not someone in the group
		}
		return false, fmt.Errorf("getChatMember: error %d: %s", r.ErrorCode, r.Description)
	}
	var m chatMember
	if err := json.Unmarshal(r.Result, &m); err != nil {
		return false, fmt.Errorf("getChatMember: unreadable result: %w", err)
	}
	switch m.Status {
	case "creator", "administrator", "member":
		return true, nil
	case "restricted":
		return m.IsMember, nil
	}
	return false, nil // left, kicked, or a status newer than this code
}

// unknownUser: Telegram's 400 for a user it cannot find in the chat.
func unknownUser(description string) bool {
	d := strings.ToLower(description)
	return strings.Contains(d, "user not found") || strings.Contains(d, "participant_id_invalid")
}
