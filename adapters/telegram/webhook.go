package telegram

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	tgbot "github.com/go-telegram/bot"

	"activation-bot/bot"
)

// maxUpdateBytes bounds a webhook body. Updates the bot reads are a few
// kilobytes; a message of 4096 characters with entities stays far below.
const maxUpdateBytes = 1 << 20

// WebhookHandler serves WebhookPath: it checks the secret token before
// reading anything, stores the update's event in the inbox and answers
// 200; the work follows in the chat's job. go-telegram/bot's own handler
// is not used: it answers 200 to a wrong secret.
func (a *Adapter) WebhookHandler(acc bot.Acceptor) http.Handler {
	secret := []byte(a.cfg.WebhookSecret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := []byte(r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		if len(secret) == 0 || subtle.ConstantTimeCompare(got, secret) != 1 {
			a.log.WarnContext(r.Context(), "telegram webhook: wrong or missing secret token", slog.String("remote", r.RemoteAddr))
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "update too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		u, err := decodeUpdate(body)
		if err != nil {
			http.Error(w, "not a Telegram update", http.StatusBadRequest)
			return
		}
		if err := a.accept(r.Context(), acc, u); err != nil {
			// Telegram delivers the update again later: nothing is lost.
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// read turns an update into an event; an update that trips the reader
// is logged and ignored, never a crash or an update read again for ever.
func (a *Adapter) read(ctx context.Context, u update) (in bot.Inbound, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			a.log.ErrorContext(ctx, "telegram update could not be read; ignored", slog.Int64("update_id", u.ID), slog.Any("panic", r))
			in, ok = bot.Inbound{}, false
		}
	}()
	return a.reader.inbound(u)
}

// answerLater answers a dropped press's callback query, best effort.
func (a *Adapter) answerLater(ctx context.Context, raw string) {
	ack, err := decodeAck(raw)
	if err != nil || ack.Query == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := a.api.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: ack.Query}); err != nil {
		a.log.DebugContext(ctx, "telegram: answering a repeated press failed", slog.Any("error", err))
	}
}

// accept stores the event an update carries; an update the bot ignores,
// or one stored already, is done.
func (a *Adapter) accept(ctx context.Context, acc bot.Acceptor, u update) error {
	in, ok := a.read(ctx, u)
	if !ok {
		a.log.DebugContext(ctx, "telegram update ignored", slog.Int64("update_id", u.ID))
		return nil
	}
	err := acc.Accept(ctx, in)
	if errors.Is(err, bot.ErrDuplicate) && in.ButtonID != "" && in.Ack != "" {
		// A second tap on a keyboard already pressed is dropped, but its
		// spinner must still stop.
		go a.answerLater(context.WithoutCancel(ctx), in.Ack)
	}
	if err != nil && !errors.Is(err, bot.ErrDuplicate) {
		a.log.ErrorContext(ctx, "telegram update not stored", slog.Int64("update_id", u.ID), slog.Any("error", err))
		return err
	}
	return nil
}
