package slack

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"activation-bot/bot"
)

// Roster returns who belongs to the helpdesk in Slack: the members of
// the helpdesk channel. Without a helpdesk channel nobody does.
func (a *Adapter) Roster() bot.Roster { return a.roster }

// Membership of the helpdesk channel is read from Slack at most once a
// minute: someone removed from the channel may act for that long still.
const (
	rosterTTL = time.Minute
	// membersPage is how many members one conversations.members call asks
	// for (Slack's maximum is 1000; it may answer fewer).
	membersPage = 1000
	// maxMemberPages bounds the pages read, should cursors never end.
	maxMemberPages = 200
)

// roster caches the member set of the helpdesk channel.
type roster struct {
	api     *slackapi.Client
	channel string
	now     func() time.Time
	// fetching lets one caller at a time ask Slack, so that agents pressing
	// at once cost one listing; the others wait, as long as their context
	// lets them, and use its result.
	fetching chan struct{}

	mu      sync.Mutex
	members map[string]bool // user id -> member; nil until read
	read    time.Time
}

var _ bot.Roster = (*roster)(nil)

func newRoster(api *slackapi.Client, channel string) *roster {
	return &roster{api: api, channel: channel, now: time.Now, fetching: make(chan struct{}, 1)}
}

// HelpdeskMember implements bot.Roster. userID is "<team>:<user>", as in
// the Inbound events of this adapter.
func (r *roster) HelpdeskMember(ctx context.Context, userID string) (bool, error) {
	if r.channel == "" {
		return false, nil
	}
	_, user, found := strings.Cut(userID, ":")
	if !found {
		user = userID
	}
	if user == "" {
		return false, nil
	}
	members, err := r.memberSet(ctx)
	if err != nil {
		return false, err
	}
	return members[user], nil
}

// memberSet returns the channel's members, from the cache while fresh.
func (r *roster) memberSet(ctx context.Context) (map[string]bool, error) {
	if m, ok := r.cached(); ok {
		return m, nil
	}
	select {
	case r.fetching <- struct{}{}:
		defer func() { <-r.fetching }()
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the members of helpdesk channel %s: %w", r.channel, ctx.Err())
	}
	if m, ok := r.cached(); ok {
		return m, nil // read by the caller that fetched while this one waited
	}
	m, err := r.fetch(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.members, r.read = m, r.now()
	return m, nil
}

func (r *roster) cached() (map[string]bool, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	age := r.now().Sub(r.read)
	return r.members, r.members != nil && age >= 0 && age < rosterTTL
}

// fetch lists the channel's members, page by page.
func (r *roster) fetch(ctx context.Context) (map[string]bool, error) {
	members := map[string]bool{}
	params := &slackapi.GetUsersInConversationParameters{ChannelID: r.channel, Limit: membersPage}
	for range maxMemberPages {
		ids, next, err := r.api.GetUsersInConversationContext(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("list the members of helpdesk channel %s (is the app in it?): %w", r.channel, err)
		}
		for _, id := range ids {
			members[id] = true
		}
		if next == "" {
			return members, nil
		}
		params.Cursor = next
	}
	return nil, fmt.Errorf("list the members of helpdesk channel %s: more than %d pages", r.channel, maxMemberPages)
}
