package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/slack-go/slack/socketmode"

	"activation-bot/bot"
)

// RunSocketMode connects to Slack (apps.connections.open, then a
// websocket) and reads envelopes until ctx ends. An envelope is
// acknowledged once its event is in the inbox; an event that cannot be
// stored is left unacknowledged, and Slack delivers it again (Slack does
// not resend interactions: those are lost with the inbox down).
func (a *Adapter) RunSocketMode(ctx context.Context, acc bot.Acceptor) error {
	client := socketmode.New(a.api)
	// The reader stops with the connection, also when slack-go gives up
	// (a refused app token): client.Events is never closed.
	readCtx, stopReading := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-readCtx.Done():
				return
			case evt := <-client.Events:
				a.handleSocketEvent(ctx, client, acc, evt)
			}
		}
	}()
	err := client.RunContext(ctx)
	stopReading()
	<-done
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("slack socket mode stopped (check SLACK_APP_TOKEN): %w", err)
}

func (a *Adapter) handleSocketEvent(ctx context.Context, client *socketmode.Client, acc bot.Acceptor, evt socketmode.Event) {
	req := evt.Request
	switch evt.Type {
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not parse the payload into its types; the bot's
		// own reading is more lenient, so try that.
		bad, ok := evt.Data.(*socketmode.ErrorBadMessage)
		if !ok {
			return
		}
		req = &socketmode.Request{}
		if json.Unmarshal(bad.Message, req) != nil || req.EnvelopeID == "" {
			a.log.WarnContext(ctx, "slack socket mode: unreadable message dropped")
			return
		}
	case socketmode.EventTypeInvalidAuth:
		a.log.ErrorContext(ctx, "slack socket mode: SLACK_APP_TOKEN refused")
		return
	case socketmode.EventTypeConnected:
		a.log.InfoContext(ctx, "slack socket mode connected")
		return
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
		a.log.WarnContext(ctx, "slack socket mode trouble; reconnecting", slog.String("event", string(evt.Type)), slog.Any("detail", evt.Data))
		return
	}
	if req == nil || req.EnvelopeID == "" {
		return
	}
	if err := a.acceptEnvelope(ctx, acc, req); err != nil {
		return // not acknowledged: Slack redelivers it
	}
	if err := client.Ack(*req); err != nil {
		a.log.WarnContext(ctx, "slack socket mode: acknowledging failed", slog.Any("error", err))
	}
}

// acceptEnvelope stores the event an envelope carries, if any.
func (a *Adapter) acceptEnvelope(ctx context.Context, acc bot.Acceptor, req *socketmode.Request) error {
	switch req.Type {
	case socketmode.RequestTypeEventsAPI:
		in, ok, _, err := a.fromEvent(ctx, req.Payload)
		if err != nil || !ok {
			return nil // nothing the bot reads: acknowledged and dropped
		}
		return a.accept(ctx, acc, in)
	case socketmode.RequestTypeInteractive:
		in, ok, err := a.fromInteraction(ctx, req.Payload)
		switch {
		case errors.Is(err, errMalformed):
			return nil
		case err != nil:
			return err // the DM could not be opened: let Slack try again
		case !ok:
			return nil
		}
		return a.accept(ctx, acc, in)
	case socketmode.RequestTypeSlashCommands:
		var fields map[string]any
		if json.Unmarshal(req.Payload, &fields) != nil {
			return nil
		}
		form := url.Values{}
		for k, v := range fields {
			if s, ok := v.(string); ok {
				form.Set(k, s)
			}
		}
		in, ok := a.fromCommand(ctx, form)
		if !ok {
			return nil
		}
		return a.accept(ctx, acc, in)
	}
	return nil
}
