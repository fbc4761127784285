package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	slackapi "github.com/slack-go/slack"

	"activation-bot/bot"
)

// maxBodyBytes bounds a request from Slack; its payloads are a few KB.
const maxBodyBytes = 1 << 20

// Routes returns the HTTP mode's handlers by path. Each verifies the
// request's signature and its 5-minute timestamp window before reading
// the payload, stores the event in the inbox and answers 200 at once; the
// reply follows through the outbox.
func (a *Adapter) Routes(acc bot.Acceptor) map[string]http.Handler {
	return map[string]http.Handler{
		EventsPath:       a.verified(func(w http.ResponseWriter, r *http.Request, body []byte) { a.events(w, r, body, acc) }),
		InteractionsPath: a.verified(func(w http.ResponseWriter, r *http.Request, body []byte) { a.interactions(w, r, body, acc) }),
		CommandsPath:     a.verified(func(w http.ResponseWriter, r *http.Request, body []byte) { a.slashCommand(w, r, body, acc) }),
	}
}

type verifiedHandler func(w http.ResponseWriter, r *http.Request, body []byte)

func (a *Adapter) verified(next verifiedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		if err := a.verify(r.Header, body); err != nil {
			a.log.WarnContext(r.Context(), "slack request refused", slog.String("path", r.URL.Path),
				slog.String("remote", r.RemoteAddr), slog.Any("reason", err))
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next(w, r, body)
	})
}

// verify checks Slack's signature over the body and the timestamp window.
func (a *Adapter) verify(h http.Header, body []byte) error {
	sv, err := slackapi.NewSecretsVerifier(h, a.cfg.SigningSecret)
	if err != nil {
		return err
	}
	if _, err := sv.Write(body); err != nil {
		return err
	}
	return sv.Ensure()
}

func (a *Adapter) events(w http.ResponseWriter, r *http.Request, body []byte, acc bot.Acceptor) {
	in, ok, challenge, err := a.fromEvent(r.Context(), body)
	switch {
	case err != nil:
		http.Error(w, "not a Slack event", http.StatusBadRequest)
	case challenge != "":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"challenge": challenge})
	default:
		a.respond(w, r.Context(), acc, in, ok)
	}
}

func (a *Adapter) interactions(w http.ResponseWriter, r *http.Request, body []byte, acc bot.Acceptor) {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		http.Error(w, "not a Slack interaction", http.StatusBadRequest)
		return
	}
	in, ok, err := a.fromInteraction(r.Context(), []byte(form.Get("payload")))
	switch {
	case errors.Is(err, errMalformed):
		http.Error(w, "not a Slack interaction", http.StatusBadRequest)
	case err != nil:
		http.Error(w, "try again later", http.StatusServiceUnavailable)
	default:
		a.respond(w, r.Context(), acc, in, ok)
	}
}

func (a *Adapter) slashCommand(w http.ResponseWriter, r *http.Request, body []byte, acc bot.Acceptor) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "not a Slack command", http.StatusBadRequest)
		return
	}
	in, ok := a.fromCommand(r.Context(), form)
	a.respond(w, r.Context(), acc, in, ok)
}

// respond stores the event (when there is one) and answers 200; when the
// inbox cannot take it, 503 makes Slack deliver it again.
func (a *Adapter) respond(w http.ResponseWriter, ctx context.Context, acc bot.Acceptor, in bot.Inbound, ok bool) {
	if ok {
		if err := a.accept(ctx, acc, in); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// accept stores an event; one stored already (a Slack retry) is done.
func (a *Adapter) accept(ctx context.Context, acc bot.Acceptor, in bot.Inbound) error {
	err := acc.Accept(ctx, in)
	if err != nil && !errors.Is(err, bot.ErrDuplicate) {
		a.log.ErrorContext(ctx, "slack event not stored", slog.String("event_id", in.EventID), slog.Any("error", err))
		return err
	}
	return nil
}
