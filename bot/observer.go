package bot

import (
	"errors"
	"time"
)

// Observer is told what the bot does, for metrics. It is called on the
// path of every message: implementations must be fast and safe for
// concurrent use, and never fail.
type Observer interface {
	// EventAccepted: an event of the platform was stored in the inbox.
	EventAccepted(platform string)
	// MessageSent: an outbox row was delivered, latency after it was written.
	MessageSent(platform string, latency time.Duration)
	// SendFailed: a send failed; kind is one of the Send* kinds.
	SendFailed(platform, kind string)
}

// Kinds of failed sends, as Observer.SendFailed gets them.
const (
	SendRetryAfter  = "retry_after" // the platform asked to slow down
	SendUnreachable = "unreachable" // the chat refuses the bot
	SendRejected    = "rejected"    // the platform refused this message
	SendTransient   = "transient"   // anything else: retried with backoff
)

// NopObserver observes nothing: the default.
type NopObserver struct{}

// EventAccepted implements Observer.
func (NopObserver) EventAccepted(string) {}

// MessageSent implements Observer.
func (NopObserver) MessageSent(string, time.Duration) {}

// SendFailed implements Observer.
func (NopObserver) SendFailed(string, string) {}

// sendErrorKind classifies a send's error for the Observer.
func sendErrorKind(err error) string {
	var later *RetryAfter
	switch {
	case errors.As(err, &later):
		return SendRetryAfter
	case errors.Is(err, ErrUnreachable):
		return SendUnreachable
	case errors.Is(err, ErrRejected):
		return SendRejected
	}
	return SendTransient
}
