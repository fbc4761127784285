package telegramtest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"activation-bot/adapters/telegram/telegramtest"
)

const group = -1001234567890

var agent = telegramtest.User{ID: 7, FirstName: "Ada", LastName: "Agent", Username: "ada"}

func TestRepliesAreRecordedAndQuoted(t *testing.T) {
	f := telegramtest.New(t)
	b := newBot(t, f)
	ctx := context.Background()
	ticket, err := send(b, group, "ticket", keyboard("ticket_claim:1"))
	require.NoError(t, err)
	assert.Equal(t, models.ChatTypeSupergroup, ticket.Chat.Type, "negative ids are groups")

	answer, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: group, Text: "answer",
		ReplyParameters: &models.ReplyParameters{MessageID: ticket.ID}})
	require.NoError(t, err)
	require.NotNil(t, answer.ReplyToMessage)
	assert.Equal(t, ticket.ID, answer.ReplyToMessage.ID)
	assert.Equal(t, "ticket", answer.ReplyToMessage.Text)
	calls := f.Calls("sendMessage")
	assert.Equal(t, int64(ticket.ID), calls[1].ReplyTo())
	assert.Zero(t, calls[0].ReplyTo())
	got, ok := f.Message(group, int64(answer.ID))
	require.True(t, ok)
	assert.Equal(t, int64(ticket.ID), got.ReplyTo)

	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: group, Text: "to nothing",
		ReplyParameters: &models.ReplyParameters{MessageID: 999}})
	assert.ErrorContains(t, err, "message to be replied not found")
	plain, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: group, Text: "to nothing, allowed",
		ReplyParameters: &models.ReplyParameters{MessageID: 999, AllowSendingWithoutReply: true}})
	require.NoError(t, err)
	assert.Nil(t, plain.ReplyToMessage)
}

func TestEditsChangeTheRememberedMessage(t *testing.T) {
	f := telegramtest.New(t)
	b := newBot(t, f)
	ctx := context.Background()
	m, err := send(b, group, "open", keyboard("ticket_claim:1", "ticket_resolve:1"))
	require.NoError(t, err)
	got, ok := f.Message(group, int64(m.ID))
	require.True(t, ok)
	assert.Equal(t, []string{"ticket_claim:1", "ticket_resolve:1"}, got.Buttons)
	assert.Equal(t, int64(telegramtest.BotID), got.From.ID)

	edit := &bot.EditMessageTextParams{ChatID: group, MessageID: m.ID, Text: "claimed", ReplyMarkup: keyboard("ticket_resolve:1")}
	_, err = b.EditMessageText(ctx, edit)
	require.NoError(t, err)
	got, _ = f.Message(group, int64(m.ID))
	assert.Equal(t, "claimed", got.Text)
	assert.Equal(t, []string{"ticket_resolve:1"}, got.Buttons)

	_, err = b.EditMessageText(ctx, edit)
	assert.ErrorIs(t, err, bot.ErrorBadRequest)
	assert.ErrorContains(t, err, "message is not modified")

	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: group, MessageID: m.ID, Text: "claimed"})
	require.NoError(t, err, "the same text without the keyboard is a change")
	got, _ = f.Message(group, int64(m.ID))
	assert.Empty(t, got.Buttons, "an edit without reply_markup removes the keyboard")

	f.MessageUpdate(group, agent, "hello")
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: group, MessageID: m.ID + 1, Text: "hijack"})
	assert.ErrorContains(t, err, "message can't be edited", "only the bot's own messages")
}

func TestGetChatMember(t *testing.T) {
	f := telegramtest.New(t)
	b := newBot(t, f)
	ctx := context.Background()
	status := func(user int64) models.ChatMember {
		t.Helper()
		m, err := b.GetChatMember(ctx, &bot.GetChatMemberParams{ChatID: group, UserID: user})
		require.NoError(t, err)
		return *m
	}
	assert.Equal(t, models.ChatMemberTypeLeft, status(7).Type, "not set: left")
	f.SetChatMember(group, 7, "administrator")
	assert.Equal(t, models.ChatMemberTypeAdministrator, status(7).Type)
	assert.Equal(t, models.ChatMemberTypeLeft, status(8).Type)
	f.SetRestrictedMember(group, 8, false)
	m := status(8)
	require.Equal(t, models.ChatMemberTypeRestricted, m.Type)
	assert.False(t, m.Restricted.IsMember)
	f.SetChatMember(group, 8, "restricted")
	assert.True(t, status(8).Restricted.IsMember)
	f.SetChatMember(group, 9, "kicked")
	assert.Equal(t, models.ChatMemberTypeBanned, status(9).Type)
	assert.Equal(t, models.ChatMemberTypeLeft, status(7+1000).Type)
	assert.Len(t, f.Calls("getChatMember"), 7)
	assert.Equal(t, "-1001234567890", f.Calls("getChatMember")[0].Fields["chat_id"])
}

func TestUpdatesOfPeople(t *testing.T) {
	f := telegramtest.New(t)
	b := newBot(t, f)
	ticket, err := send(b, group, "ticket #1", keyboard("ticket_claim:1"))
	require.NoError(t, err)

	decode := func(u map[string]any) models.Update {
		t.Helper()
		raw, err := json.Marshal(u)
		require.NoError(t, err)
		var out models.Update
		require.NoError(t, json.Unmarshal(raw, &out))
		require.NotZero(t, out.ID)
		return out
	}
	reply := decode(f.ReplyUpdate(group, agent, int64(ticket.ID), "we fixed it"))
	require.NotNil(t, reply.Message)
	assert.Equal(t, "we fixed it", reply.Message.Text)
	assert.Equal(t, "ada", reply.Message.From.Username)
	require.NotNil(t, reply.Message.ReplyToMessage)
	assert.Equal(t, ticket.ID, reply.Message.ReplyToMessage.ID)
	assert.Equal(t, int64(telegramtest.BotID), reply.Message.ReplyToMessage.From.ID)

	chatter := decode(f.MessageUpdate(group, agent, "coffee?"))
	answer := decode(f.ReplyUpdate(group, telegramtest.User{ID: 8, FirstName: "Bo"}, int64(chatter.Message.ID), "yes"))
	assert.Equal(t, agent.ID, answer.Message.ReplyToMessage.From.ID, "a reply to a person quotes the person")
	assert.Greater(t, answer.ID, chatter.ID)

	press := decode(f.CallbackUpdate(group, int64(ticket.ID), agent, "ticket_claim:1"))
	require.NotNil(t, press.CallbackQuery)
	assert.Equal(t, "ticket_claim:1", press.CallbackQuery.Data)
	assert.NotEmpty(t, press.CallbackQuery.ID)
	require.NotNil(t, press.CallbackQuery.Message.Message)
	assert.Equal(t, "ticket #1", press.CallbackQuery.Message.Message.Text)
	assert.Equal(t, "ticket_claim:1", press.CallbackQuery.Message.Message.ReplyMarkup.InlineKeyboard[0][0].CallbackData)

	old := decode(f.CallbackUpdate(group, 4242, agent, "ticket_claim:1"))
	assert.Equal(t, models.MaybeInaccessibleMessageTypeInaccessibleMessage, old.CallbackQuery.Message.Type, "an unknown message is inaccessible")

	// They can be polled too.
	f.PushUpdate(f.ReplyUpdate(group, agent, int64(ticket.ID), "polled"))
	status, res := getUpdatesJSON(t, f, map[string]any{"timeout": 0})
	require.Equal(t, 200, status)
	require.Len(t, res.Result, 1)
	assert.Contains(t, string(res.Result[0]), `"reply_to_message"`)
}

// Updates show a message's text as Telegram does: parsed, not as sent.
func TestUpdatesShowTheVisibleText(t *testing.T) {
	f := telegramtest.New(t)
	b := newBot(t, f)
	m, err := send(b, group, "<b>Ticket</b> &amp; I&#39;m", keyboard("ticket_claim:1"))
	require.NoError(t, err)
	got, _ := f.Message(group, int64(m.ID))
	assert.Equal(t, "<b>Ticket</b> &amp; I&#39;m", got.Text, "as sent")
	raw, err := json.Marshal(f.CallbackUpdate(group, int64(m.ID), agent, "ticket_claim:1"))
	require.NoError(t, err)
	var u models.Update
	require.NoError(t, json.Unmarshal(raw, &u))
	assert.Equal(t, "Ticket & I'm", u.CallbackQuery.Message.Message.Text)
	raw, err = json.Marshal(f.ReplyUpdate(group, agent, int64(m.ID), "a <b> b"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &u))
	assert.Equal(t, "Ticket & I'm", u.Message.ReplyToMessage.Text)
	assert.Equal(t, "a <b> b", u.Message.Text, "people's text is plain")
}
