package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"activation-bot/bot"
)

// Poll reads updates with getUpdates until ctx ends, for development and a
// single instance. An update is confirmed to Telegram (by asking for the
// next offset) only once it is in the inbox, so a crash never loses one;
// the inbox drops those a restart reads twice. The library's own polling
// is not used: it confirms updates as soon as it has read them.
func (a *Adapter) Poll(ctx context.Context, acc bot.Acceptor) error {
	var offset int64
	backoff := time.Duration(0)
	conflicts := 0
	for {
		if err := sleepCtx(ctx, backoff); err != nil {
			return nil
		}
		next, err := a.pollOnce(ctx, acc, offset)
		if ctx.Err() != nil {
			return nil
		}
		var conflict errConflict
		var wait errRetryAfter
		if errors.As(err, &conflict) {
			conflicts++
		} else {
			conflicts = 0
		}
		switch {
		case conflicts >= maxConflicts:
			return fmt.Errorf("telegram long polling stopped: %w", err)
		case conflicts > 0:
			// A previous instance's last poll may still be open for a
			// moment after a restart: wait it out before giving up.
			backoff = time.Duration(conflicts) * a.cfg.ConflictWait
			a.log.WarnContext(ctx, "telegram getUpdates conflict; retrying", slog.Any("error", err), slog.Duration("retry_in", backoff))
		case errors.As(err, &wait):
			backoff = time.Duration(wait)
		case err != nil:
			backoff = min(max(2*backoff, time.Second), time.Minute)
			a.log.WarnContext(ctx, "telegram getUpdates failed", slog.Any("error", err), slog.Duration("retry_in", backoff))
		default:
			backoff = 0
		}
		offset = next
	}
}

// maxConflicts is how many conflicts in a row stop the polling: then
// another process, or a webhook, really uses the token.
const maxConflicts = 5

type errConflict struct{ description string }

func (e errConflict) Error() string {
	return "another getUpdates or a webhook uses this token (" + e.description + ")"
}

type errRetryAfter time.Duration

func (e errRetryAfter) Error() string { return fmt.Sprintf("retry after %s", time.Duration(e)) }

// pollOnce asks for the updates from offset on, stores them, and returns
// the offset that confirms what was stored.
func (a *Adapter) pollOnce(ctx context.Context, acc bot.Acceptor, offset int64) (int64, error) {
	updates, err := a.getUpdates(ctx, offset)
	if err != nil {
		return offset, err
	}
	for _, raw := range updates {
		u, err := decodeUpdate(raw)
		if err != nil {
			// Not an update at all: nothing to store, and its id unknown.
			a.log.ErrorContext(ctx, "telegram sent something that is not an update", slog.Any("error", err))
			continue
		}
		if u.ID < offset {
			continue
		}
		if err := a.accept(ctx, acc, u); err != nil {
			return offset, err // not confirmed: read again next time
		}
		offset = u.ID + 1
	}
	return offset, nil
}

// getUpdates is one long poll, as a plain JSON request: go-telegram/bot
// exports no getUpdates, and its decoding would fail on update kinds it
// does not know.
func (a *Adapter) getUpdates(ctx context.Context, offset int64) ([]json.RawMessage, error) {
	r, err := a.callJSON(ctx, "getUpdates", map[string]any{
		"offset":          offset,
		"timeout":         int(a.cfg.PollTimeout / time.Second),
		"allowed_updates": allowedUpdates,
	})
	if err != nil {
		return nil, err
	}
	switch {
	case r.OK:
		var updates []json.RawMessage
		if err := json.Unmarshal(r.Result, &updates); err != nil {
			return nil, fmt.Errorf("getUpdates: unreadable result: %w", err)
		}
		return updates, nil
	case r.ErrorCode == http.StatusConflict:
		return nil, errConflict{r.Description}
	case r.ErrorCode == http.StatusUnauthorized:
		return nil, errConflict{"TELEGRAM_BOT_TOKEN refused: " + r.Description}
	case r.ErrorCode == http.StatusTooManyRequests:
		return nil, errRetryAfter(time.Duration(max(r.Parameters.RetryAfter, 1)) * time.Second)
	}
	return nil, fmt.Errorf("getUpdates: error %d: %s", r.ErrorCode, r.Description)
}

// redactToken keeps the bot token, which is in the request path, out of
// error messages and logs.
func redactToken(s, token string) string {
	if token == "" {
		return s
	}
	return string(bytes.ReplaceAll([]byte(s), []byte(token), []byte("***")))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
