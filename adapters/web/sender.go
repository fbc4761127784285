package web

import (
	"context"
	"strconv"

	"activation-bot/bot"
)

// sender "sends" to a web chat by recording the message in its mailbox and
// waking its open pages: the page is the platform.
type sender struct{ s *Server }

// Send implements bot.Sender. Acknowledgements and home views have no
// meaning on the web (the page shows the checklist itself).
func (x *sender) Send(ctx context.Context, d bot.Delivery) (bot.Sent, error) {
	if d.Message == nil {
		return bot.Sent{}, nil
	}
	id, err := x.s.chats.Sent(ctx, d.Chat.ID, d.ID, *d.Message)
	if err != nil {
		return bot.Sent{}, err
	}
	x.s.hub.notify(d.Chat.ID)
	return bot.Sent{Ref: strconv.FormatInt(id, 10)}, nil
}

// Limits implements bot.Sender: the web has no platform limits.
func (x *sender) Limits() (perChat, overall bot.Rate) { return bot.Rate{}, bot.Rate{} }
