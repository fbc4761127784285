package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"activation-bot/adapters/slack"
	"activation-bot/adapters/slack/slacktest"
	"activation-bot/bot"
)

const (
	helpdesk = "C0HELP"
	agent    = "U0AGENT"
)

// recorder is the engine's side of the adapter: it keeps what was
// accepted, so a test sees exactly what the adapter read.
type recorder struct {
	mu  sync.Mutex
	got []bot.Inbound
}

func (r *recorder) Accept(_ context.Context, in bot.Inbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, in)
	return nil
}

func (r *recorder) all() []bot.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Inbound(nil), r.got...)
}

// newDesk is the adapter with a helpdesk channel, over HTTP or Socket
// Mode, handing what it reads to a recorder instead of the engine. The
// events are accepted before the 200 or the ack, so the recorder has them
// once sendEvent returns.
func newDesk(t *testing.T, socket bool) (*harness, *recorder) {
	t.Helper()
	h := &harness{t: t, fake: slacktest.New(t)}
	rec := &recorder{}
	cfg := slack.Config{BotToken: slacktest.BotToken, APIURL: h.fake.URL + "/api/", HelpdeskChannel: helpdesk,
		PerChat: fastRates, Overall: fastRates, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if socket {
		cfg.AppToken = slacktest.AppToken
	} else {
		cfg.SigningSecret = signingSecret
	}
	var err error
	h.adapter, err = slack.New(cfg)
	require.NoError(t, err)
	require.NoError(t, h.adapter.Setup(context.Background()))
	if socket {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.adapter.RunSocketMode(ctx, rec) }()
		t.Cleanup(func() {
			cancel()
			require.NoError(t, <-done)
		})
		return h, rec
	}
	mux := http.NewServeMux()
	for path, handler := range h.adapter.Routes(rec) {
		mux.Handle(path, handler)
	}
	h.server = httptest.NewServer(mux)
	t.Cleanup(h.server.Close)
	return h, rec
}

// ticketDelivery is a ticket's message for the helpdesk channel.
func ticketDelivery(kind, ref, text string, buttons ...bot.Button) bot.Delivery {
	return bot.Delivery{
		Chat:    bot.Chat{Platform: slack.Platform, ID: helpdesk},
		Message: &bot.Outbound{Text: text, Buttons: buttons, Intent: "ticket", Lang: "en"},
		Ticket:  &bot.TicketPost{ID: 12, Kind: kind, Ref: ref},
	}
}

var (
	claim   = bot.Button{ID: bot.TicketButton(bot.ActClaim, 12), Label: "Claim"}
	resolve = bot.Button{ID: bot.TicketButton(bot.ActResolve, 12), Label: "Resolve"}
)

// postTicket posts ticket #12 as the dispatcher would and returns the
// call that posted it and its ts.
func postTicket(t *testing.T, h *harness) (slacktest.Call, string) {
	t.Helper()
	sent, err := h.adapter.Sender().Send(context.Background(),
		ticketDelivery(bot.PostNew, "", "🎫 Ticket #12: no activation e-mail", claim, resolve))
	require.NoError(t, err)
	posted := h.fake.Posted(helpdesk)
	require.NotEmpty(t, posted)
	return posted[len(posted)-1], sent.Ref
}

func forEachMode(t *testing.T, fn func(t *testing.T, socket bool)) {
	for _, mode := range []string{"http", "socket"} {
		t.Run(mode, func(t *testing.T) { fn(t, mode == "socket") })
	}
}

// An agent's reply in a ticket's thread is the helpdesk answering the
// student: its text as the student should read it, the thread's ts as
// the ticket's message, the agent's names from users.info.
func TestHelpdeskThreadReply(t *testing.T) {
	forEachMode(t, func(t *testing.T, socket bool) {
		h, rec := newDesk(t, socket)
		_, ts := postTicket(t, h)
		h.fake.SetUser(agent, "nl-BE", "ann")
		h.fake.SetRealName(agent, "Ann Peeters")
		cb := h.fake.Callback(t, h.fake.ChannelMessage(helpdesk, ts, agent,
			"Try again &lt;tomorrow&gt; &amp; see <https://example.org/reset|the reset page> or <https://example.org/faq>; <@U0BOB> knows"))
		require.Equal(t, http.StatusOK, h.sendEvent(cb, socket))

		got := rec.all()
		require.Len(t, got, 1)
		in := got[0]
		require.Equal(t, bot.Inbound{
			Platform: slack.Platform, EventID: cb["event_id"].(string), UserID: slacktest.TeamID + ":" + agent,
			ChatID:     helpdesk,
			Text:       "Try again <tomorrow> & see the reset page (https://example.org/reset) or https://example.org/faq; <@U0BOB> knows",
			LocaleHint: "nl-BE", Name: "Ann Peeters", Handle: "ann",
			Helpdesk: &bot.HelpdeskEvent{Action: bot.ActReply, PostRef: ts},
		}, in)
	})
}

// Nothing else said in the helpdesk channel is read: not the agents'
// chatter, not a mention of the app (the twin of a reply that mentions
// it, or a question at the top level: no pointer to a DM there), not the
// app's own messages in a thread nor another bot's, not edits or joins.
// A reply also sent to the channel counts as a reply.
func TestHelpdeskIgnoresEverythingElse(t *testing.T) {
	forEachMode(t, func(t *testing.T, socket bool) {
		h, rec := newDesk(t, socket)
		_, ts := postTicket(t, h)
		msg := func(thread, user, text string, fields map[string]any) map[string]any {
			ev := h.fake.ChannelMessage(helpdesk, thread, user, text)
			for k, v := range fields {
				ev[k] = v
			}
			return ev
		}
		mention := "<@" + slacktest.BotUserID + "> can you look?"
		parent := msg("", agent, "a thread's parent", nil)
		parent["thread_ts"] = parent["ts"]
		for name, ev := range map[string]map[string]any{
			"chatter":               msg("", agent, "coffee anyone?", nil),
			"top-level mention":     msg("", agent, mention, map[string]any{"type": "app_mention"}),
			"mention in the thread": msg(ts, agent, mention, map[string]any{"type": "app_mention"}),
			"the app's own":         msg(ts, slacktest.BotUserID, "↪ Ann answered", map[string]any{"bot_id": slacktest.BotID}),
			"another bot": msg(ts, "", "beep", map[string]any{"subtype": "bot_message", "bot_id": "B0OTHER",
				"username": "other"}),
			"an edit": msg(ts, agent, "", map[string]any{"subtype": "message_changed",
				"message": map[string]any{"text": "edited", "user": agent, "thread_ts": ts}}),
			"a join":             msg("", agent, "<@U0AGENT> has joined the channel", map[string]any{"subtype": "channel_join"}),
			"an edited reply":    msg(ts, agent, "fixed typo", map[string]any{"edited": map[string]any{"user": agent, "ts": "1.2"}}),
			"a file, no caption": msg(ts, agent, "", map[string]any{"subtype": "file_share", "files": []map[string]any{{"id": "F1"}}}),
			"a blank reply":      msg(ts, agent, "  ", nil),
			"a thread's parent":  parent,
		} {
			require.Equal(t, http.StatusOK, h.sendEvent(h.fake.Callback(t, ev), socket), name)
			require.Empty(t, rec.all(), name)
		}

		broadcast := msg(ts, agent, "done, see above", map[string]any{"subtype": "thread_broadcast"})
		require.Equal(t, http.StatusOK, h.sendEvent(h.fake.Callback(t, broadcast), socket))
		got := rec.all()
		require.Len(t, got, 1, "a reply also sent to the channel")
		require.Equal(t, &bot.HelpdeskEvent{Action: bot.ActReply, PostRef: ts}, got[0].Helpdesk)

		// Elsewhere a mention is still pointed to the DM.
		elsewhere := msg("", agent, mention, map[string]any{"type": "app_mention", "channel": "C0GENERAL"})
		require.Equal(t, http.StatusOK, h.sendEvent(h.fake.Callback(t, elsewhere), socket))
		got = rec.all()
		require.Len(t, got, 2)
		require.NotEmpty(t, got[1].Group)
		require.Nil(t, got[1].Helpdesk)
		require.Len(t, h.fake.Posted(helpdesk), 1, "only the ticket: nothing was answered in the helpdesk channel")
	})
}

// A ticket's buttons are the helpdesk's: each press counts (an agent
// claims, then resolves the same message), names the ticket and its
// message, and needs no acknowledgement.
func TestHelpdeskButtonPress(t *testing.T) {
	forEachMode(t, func(t *testing.T, socket bool) {
		h, rec := newDesk(t, socket)
		post, ts := postTicket(t, h)
		h.fake.SetUser(agent, "en-GB", "ann")
		buttons := h.fake.Buttons(post)
		require.Len(t, buttons, 2)
		for _, b := range buttons {
			require.Equal(t, http.StatusOK, h.sendInteraction(h.fake.ClickPayload(t, agent, b), socket))
		}
		got := rec.all()
		require.Len(t, got, 2)
		for i, want := range []*bot.HelpdeskEvent{
			{Action: bot.ActClaim, Ticket: 12, PostRef: ts},
			{Action: bot.ActResolve, Ticket: 12, PostRef: ts},
		} {
			in := got[i]
			require.Equal(t, want, in.Helpdesk)
			require.Equal(t, slack.Platform, in.Platform)
			require.Equal(t, helpdesk, in.ChatID)
			require.Equal(t, slacktest.TeamID+":"+agent, in.UserID)
			require.Equal(t, "ann", in.Name)
			require.True(t, strings.HasPrefix(in.EventID, "press:"), in.EventID)
			require.Empty(t, in.ButtonID)
			require.Empty(t, in.Ack, "the ticket's update is the acknowledgement")
		}
		require.NotEqual(t, got[0].EventID, got[1].EventID)
	})
}

// In the helpdesk channel, a button that is not a ticket's is nobody's;
// an ephemeral answer's button (a slash command run there) is the
// student's, as anywhere.
func TestHelpdeskOtherButtons(t *testing.T) {
	h, rec := newDesk(t, false)
	ctx := context.Background()
	start := bot.Button{ID: "start_activation", Label: "Start"}
	_, err := h.adapter.Sender().Send(ctx, bot.Delivery{Chat: bot.Chat{Platform: slack.Platform, ID: helpdesk},
		Message: &bot.Outbound{Text: "not a ticket", Buttons: []bot.Button{start}}})
	require.NoError(t, err)
	stray := h.fake.Buttons(h.fake.Posted(helpdesk)[0])
	require.Equal(t, http.StatusOK, h.sendInteraction(h.fake.ClickPayload(t, agent, stray[0]), false))
	require.Empty(t, rec.all())

	_, err = h.adapter.Sender().Send(ctx, bot.Delivery{Chat: bot.Chat{Platform: slack.Platform, ID: helpdesk + "@U0STU"},
		Message: &bot.Outbound{Text: "your progress", Buttons: []bot.Button{start}}})
	require.NoError(t, err)
	ephemeral := h.fake.Buttons(h.fake.Calls("chat.postEphemeral")[0])
	require.Equal(t, http.StatusOK, h.sendInteraction(h.fake.ClickPayload(t, "U0STU", ephemeral[0]), false))
	got := rec.all()
	require.Len(t, got, 1)
	require.Nil(t, got[0].Helpdesk)
	require.Equal(t, "start_activation", got[0].ButtonID)
}

// Students' names come with their locale, in the same cached users.info.
func TestStudentNamesFromUsersInfo(t *testing.T) {
	h, rec := newDesk(t, false)
	h.fake.SetUser("U0BO", "nl-BE", "bo")
	h.fake.SetRealName("U0BO", "Bo Janssens")
	h.sendEvent(h.dm("U0BO", "hallo"), false)
	h.sendEvent(h.dm("U0BO", "status"), false)
	got := rec.all()
	require.Len(t, got, 2)
	for _, in := range got {
		require.Equal(t, "Bo Janssens", in.Name)
		require.Equal(t, "bo", in.Handle)
		require.Equal(t, "nl-BE", in.LocaleHint)
	}
	require.Len(t, h.fake.Calls("users.info"), 1)
}

// A ticket is posted with its buttons and a plain-text notification, and
// its ts comes back as the ticket's message.
func TestTicketPostNew(t *testing.T) {
	h, _ := newDesk(t, false)
	sent, err := h.adapter.Sender().Send(context.Background(),
		ticketDelivery(bot.PostNew, "", "🎫 Ticket #12 from Bo <!channel> & co", claim, resolve))
	require.NoError(t, err)
	posted := h.fake.Posted(helpdesk)
	require.Len(t, posted, 1)
	post := posted[0]
	var resp struct{ TS string }
	require.NoError(t, json.Unmarshal([]byte(post.Response), &resp))
	require.NotEmpty(t, sent.Ref)
	require.Equal(t, resp.TS, sent.Ref)
	require.Empty(t, post.Fields["thread_ts"])
	require.Equal(t, "🎫 Ticket #12 from Bo &lt;!channel&gt; &amp; co", post.Fields["text"])
	require.Contains(t, post.Fields["blocks"], "&lt;!channel&gt;")
	require.NotContains(t, post.Fields["blocks"], "<!channel>")
	var ids, values []string
	for _, b := range h.fake.Buttons(post) {
		ids, values = append(ids, b.ActionID), append(values, b.Value)
	}
	require.Equal(t, []string{"ticket_claim:12", "ticket_resolve:12"}, ids)
	require.Equal(t, ids, values)
	require.Equal(t, "primary", h.fake.Buttons(post)[0].Style)
}

// An edit updates the ticket's message in place, its buttons with it; a
// ticket never posted has nothing to update.
func TestTicketPostEdit(t *testing.T) {
	h, _ := newDesk(t, false)
	ctx := context.Background()
	post, ts := postTicket(t, h)

	sent, err := h.adapter.Sender().Send(ctx, ticketDelivery(bot.PostEdit, ts, "🎫 Ticket #12: claimed by Ann", resolve))
	require.NoError(t, err)
	require.Equal(t, bot.Sent{Ref: ts}, sent)
	updates := h.fake.Updated(helpdesk)
	require.Len(t, updates, 1)
	require.Equal(t, ts, updates[0].Fields["ts"])
	require.Contains(t, updates[0].Fields["blocks"], "claimed by Ann")
	now := h.fake.Buttons(post)
	require.Len(t, now, 1)
	require.Equal(t, "ticket_resolve:12", now[0].Value)

	_, err = h.adapter.Sender().Send(ctx, ticketDelivery(bot.PostEdit, ts, "🎫 Ticket #12: resolved"))
	require.NoError(t, err)
	require.Len(t, h.fake.Updated(helpdesk), 2)
	require.NotContains(t, h.fake.Updated(helpdesk)[1].Fields["blocks"], `"actions"`)
	require.Empty(t, h.fake.Buttons(post), "no buttons left")

	sent, err = h.adapter.Sender().Send(ctx, ticketDelivery(bot.PostEdit, "", "🎫 Ticket #13"))
	require.NoError(t, err)
	require.Equal(t, bot.Sent{}, sent)
	require.Len(t, h.fake.Calls("chat.update"), 2, "nothing sent")
	require.Len(t, h.fake.Calls("chat.postMessage"), 1)
}

// A message about a ticket goes in its thread; without a message to hang
// it on, at the top level.
func TestTicketPostThread(t *testing.T) {
	h, _ := newDesk(t, false)
	ctx := context.Background()
	_, ts := postTicket(t, h)
	sent, err := h.adapter.Sender().Send(ctx, ticketDelivery(bot.PostThread, ts, "Bo answered: it works now"))
	require.NoError(t, err)
	replies := h.fake.Replies(helpdesk, ts)
	require.Len(t, replies, 1)
	require.Contains(t, replies[0].Response, `"ts":"`+sent.Ref+`"`)
	require.NotEqual(t, ts, sent.Ref)
	require.NotContains(t, replies[0].Fields["blocks"], `"actions"`)

	sent, err = h.adapter.Sender().Send(ctx, ticketDelivery(bot.PostThread, "", "⏰ Ticket #12 is still unclaimed"))
	require.NoError(t, err)
	require.NotEmpty(t, sent.Ref)
	posted := h.fake.Posted(helpdesk)
	require.Len(t, posted, 3)
	require.Empty(t, posted[2].Fields["thread_ts"])
}

// Slack's refusals of a ticket's message are classified as any other's.
func TestTicketSendErrors(t *testing.T) {
	h, _ := newDesk(t, false)
	ctx := context.Background()
	h.fake.Fail("chat.update", http.StatusOK, "message_not_found", 0)
	_, err := h.adapter.Sender().Send(ctx, ticketDelivery(bot.PostEdit, "1.1", "gone", resolve))
	require.ErrorIs(t, err, bot.ErrRejected)
	h.fake.Fail("chat.postMessage", http.StatusOK, "not_in_channel", 0)
	_, err = h.adapter.Sender().Send(ctx, ticketDelivery(bot.PostNew, "", "new", claim))
	require.ErrorIs(t, err, bot.ErrUnreachable)
	h.fake.Fail("chat.postMessage", http.StatusTooManyRequests, "", 2)
	_, err = h.adapter.Sender().Send(ctx, ticketDelivery(bot.PostThread, "1.1", "later"))
	var retry *bot.RetryAfter
	require.ErrorAs(t, err, &retry)
	require.Equal(t, 2*time.Second, retry.After)
}

// The helpdesk's members are the channel's, read page by page and kept
// for a minute.
func TestRoster(t *testing.T) {
	h, _ := newDesk(t, false)
	ctx := context.Background()
	var members []string
	for i := range 250 {
		members = append(members, fmt.Sprintf("U%04d", i))
	}
	h.fake.SetMembers(helpdesk, append(members, agent)...)
	h.fake.SetPageSize(100)
	now := time.Now()
	roster := h.adapter.Roster()
	slack.SetRosterClock(roster, func() time.Time { return now })

	ok, err := roster.HelpdeskMember(ctx, slacktest.TeamID+":"+agent)
	require.NoError(t, err)
	require.True(t, ok, "a member")
	require.Len(t, h.fake.Calls("conversations.members"), 3, "every page")
	ok, err = roster.HelpdeskMember(ctx, slacktest.TeamID+":U0STRANGER")
	require.NoError(t, err)
	require.False(t, ok, "not a member")
	ok, err = roster.HelpdeskMember(ctx, slacktest.TeamID+":U0001")
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, h.fake.Calls("conversations.members"), 3, "cached")

	h.fake.SetMembers(helpdesk, "U0NEW")
	now = now.Add(59 * time.Second)
	ok, _ = roster.HelpdeskMember(ctx, slacktest.TeamID+":"+agent)
	require.True(t, ok, "still cached")
	now = now.Add(2 * time.Second)
	ok, err = roster.HelpdeskMember(ctx, slacktest.TeamID+":"+agent)
	require.NoError(t, err)
	require.False(t, ok, "read again after a minute")
	ok, _ = roster.HelpdeskMember(ctx, slacktest.TeamID+":U0NEW")
	require.True(t, ok)
	require.Len(t, h.fake.Calls("conversations.members"), 4)
}

// Agents pressing at once cost one listing.
func TestRosterConcurrent(t *testing.T) {
	h, _ := newDesk(t, false)
	h.fake.SetMembers(helpdesk, agent)
	roster := h.adapter.Roster()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ok, err := roster.HelpdeskMember(context.Background(), slacktest.TeamID+":"+agent)
			require.NoError(t, err)
			require.True(t, ok)
		})
	}
	wg.Wait()
	require.Len(t, h.fake.Calls("conversations.members"), 1)
}

// When Slack cannot tell, the roster says so instead of guessing; the
// failure is not kept.
func TestRosterAPIError(t *testing.T) {
	h, _ := newDesk(t, false)
	ctx := context.Background()
	roster := h.adapter.Roster()
	_, err := roster.HelpdeskMember(ctx, slacktest.TeamID+":"+agent) // the app is not in the channel
	var slackErr slackapi.SlackErrorResponse
	require.ErrorAs(t, err, &slackErr)
	require.Equal(t, "channel_not_found", slackErr.Err)
	require.ErrorContains(t, err, helpdesk)

	h.fake.SetMembers(helpdesk, agent)
	h.fake.Fail("conversations.members", http.StatusInternalServerError, "", 0)
	_, err = roster.HelpdeskMember(ctx, slacktest.TeamID+":"+agent)
	require.Error(t, err)
	ok, err := roster.HelpdeskMember(ctx, slacktest.TeamID+":"+agent)
	require.NoError(t, err)
	require.True(t, ok)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	slack.SetRosterClock(roster, func() time.Time { return time.Now().Add(time.Hour) })
	_, err = roster.HelpdeskMember(canceled, slacktest.TeamID+":"+agent)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
}

// Without a helpdesk channel nobody is a member, and Slack is not asked.
func TestRosterWithoutHelpdesk(t *testing.T) {
	fake := slacktest.New(t)
	a, err := slack.New(slack.Config{BotToken: slacktest.BotToken, SigningSecret: signingSecret, APIURL: fake.URL + "/api/"})
	require.NoError(t, err)
	ok, err := a.Roster().HelpdeskMember(context.Background(), slacktest.TeamID+":"+agent)
	require.NoError(t, err)
	require.False(t, ok)
	require.Empty(t, fake.Calls())
}

func TestHelpdeskChannelMustBeAChannelID(t *testing.T) {
	for _, bad := range []string{"#helpdesk", "helpdesk", "D0123ABCD", "U0123ABCD", "c0123abcd"} {
		_, err := slack.New(slack.Config{BotToken: slacktest.BotToken, SigningSecret: signingSecret, HelpdeskChannel: bad})
		require.ErrorContains(t, err, "HELPDESK_SLACK_CHANNEL", bad)
	}
	for _, good := range []string{"C0123ABCD", " G0123ABCD "} {
		_, err := slack.New(slack.Config{BotToken: slacktest.BotToken, SigningSecret: signingSecret, HelpdeskChannel: good})
		require.NoError(t, err, good)
	}
}

// pressLatest presses button id under the newest message of user's DM
// that shows it.
func (h *harness) pressLatest(user, id string, socket bool) {
	h.t.Helper()
	posted := h.fake.Posted("D" + user)
	for i := len(posted) - 1; i >= 0; i-- {
		if slices.Contains(values(buttonsOf(h.t, posted[i])), id) {
			require.Equal(h.t, http.StatusOK, h.sendInteraction(h.press(user, posted[i], id), socket))
			h.settle()
			return
		}
	}
	h.t.Fatalf("no message of %s shows button %s", user, id)
}

// say is user writing text in their DM with the app.
func (h *harness) say(user, text string, socket bool) {
	h.t.Helper()
	require.Equal(h.t, http.StatusOK, h.sendEvent(h.dm(user, text), socket))
	h.settle()
}

func lastText(calls []slacktest.Call) string {
	if len(calls) == 0 {
		return ""
	}
	return calls[len(calls)-1].Fields["text"]
}

func buttonValues(bs []slacktest.Button) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Value)
	}
	return out
}

// A ticket's whole trip through Slack, with the engine and the database
// as serve wires them: the student reports in their DM, the ticket shows
// in the helpdesk channel, a stranger's press is refused in its thread,
// an agent's reply in the thread reaches the student and claims it, the
// student's answer comes back into the thread, Resolve closes it.
func TestHelpdeskRoundTrip(t *testing.T) {
	forEachMode(t, func(t *testing.T, socket bool) {
		h := newHarness(t, "sqlite", options{socket: socket, helpdesk: true})
		const stu = "U0STU"
		h.fake.SetMembers(helpdesk, slacktest.BotUserID, agent)
		h.fake.SetUser(stu, "en-US", "anna")
		h.fake.SetRealName(stu, "Anna Peeters")
		h.fake.SetUser(agent, "en-US", "ann")
		h.fake.SetRealName(agent, "Ann Agent")

		h.say(stu, "hi", socket)
		h.pressLatest(stu, "start_activation", socket)
		h.pressLatest(stu, "emails_both", socket)
		h.say(stu, "20 minutes ago", socket)
		h.pressLatest(stu, bot.ButtonReport, socket)
		h.pressLatest(stu, "problem:not_ready", socket)
		h.say(stu, "The page says my account is not ready", socket)
		ticket := h.waitPosted(helpdesk, 1)[0]
		require.Contains(t, ticket.Fields["text"], "Ticket #1")
		require.Contains(t, ticket.Fields["text"], "Anna Peeters (@anna)")
		require.Equal(t, []string{"ticket_claim:1", "ticket_resolve:1"}, buttonValues(h.fake.Buttons(ticket)))
		var resp struct{ TS string }
		require.NoError(t, json.Unmarshal([]byte(ticket.Response), &resp))
		ts := resp.TS

		h.sendInteraction(h.fake.ClickPayload(t, "U0NOPE", h.fake.Buttons(ticket)[0]), socket)
		h.settle()
		require.Contains(t, lastText(h.fake.Replies(helpdesk, ts)), "only helpdesk members")
		require.Empty(t, h.fake.Updated(helpdesk), "a stranger changes nothing")

		reply := h.fake.ChannelMessage(helpdesk, ts, agent, "Wait until the time shown &amp; try again")
		require.Equal(t, http.StatusOK, h.sendEvent(h.fake.Callback(t, reply), socket))
		h.settle()
		require.Contains(t, lastText(h.fake.Posted("D"+stu)), "Wait until the time shown &amp; try again")
		updated := h.fake.Updated(helpdesk)
		require.NotEmpty(t, updated)
		require.Equal(t, ts, updated[len(updated)-1].Fields["ts"])
		require.Contains(t, lastText(updated), "claimed by Ann Agent", "answering claims it")
		require.Equal(t, []string{"ticket_resolve:1"}, buttonValues(h.fake.Buttons(ticket)))

		h.pressLatest(stu, bot.ReplyButton(1), socket)
		h.say(stu, "It works now, thanks!", socket)
		require.Contains(t, lastText(h.fake.Replies(helpdesk, ts)), "Anna Peeters: It works now, thanks!")

		h.sendInteraction(h.fake.ClickPayload(t, agent, h.fake.Buttons(ticket)[0]), socket)
		h.settle()
		require.Equal(t, []string{"ticket_reopen:1"}, buttonValues(h.fake.Buttons(ticket)))
		require.Contains(t, lastText(h.fake.Updated(helpdesk)), "resolved")
		require.Contains(t, lastText(h.fake.Posted("D"+stu)), "solved")
		require.Len(t, h.fake.Posted(helpdesk), 1+len(h.fake.Replies(helpdesk, ts)), "everything else in the thread")
	})
}

// A reminder or broadcast to a student who first wrote with a slash
// command in a channel goes to their DM, not to the expired response_url
// or the channel.
func TestProactiveMessagesGoToTheDM(t *testing.T) {
	h, _ := newDesk(t, false)
	chat := bot.Chat{Platform: slack.Platform, ID: "C0GENERAL@U0STU#https://hooks.slack.com/commands/T0/1/x"}
	_, err := h.adapter.Sender().Send(context.Background(), bot.Delivery{Chat: chat, Proactive: true,
		Message: &bot.Outbound{Text: "⏰ The wait is over", Buttons: []bot.Button{{ID: "wait_check", Label: "Continue"}}}})
	require.NoError(t, err)
	require.Len(t, h.fake.Posted("DU0STU"), 1)
	require.Equal(t, "⏰ The wait is over", h.fake.Posted("DU0STU")[0].Fields["text"])
	require.Empty(t, h.fake.Posted("C0GENERAL"))
	require.Empty(t, h.fake.Calls("chat.postEphemeral"))
}
