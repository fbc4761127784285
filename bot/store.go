package bot

import (
	"context"
	"errors"
	"time"
)

// ErrDuplicate is returned by Store.Converse when the event was already
// accepted: a platform redelivery, to be acknowledged and dropped.
var ErrDuplicate = errors.New("duplicate event")

// ErrNotFound is returned when a looked-up record does not exist.
var ErrNotFound = errors.New("not found")

// Store keeps conversations. The engine's step function is pure: the store
// calls it while it holds the student's conversation locked, so two messages
// of one student never interleave.
type Store interface {
	// Converse records the (already redacted) inbound event, loads the
	// conversation of its sender (creating the student on first contact)
	// under a lock, calls step, and saves the new state, the transcript and
	// the replies in the same transaction.
	Converse(ctx context.Context, in Inbound, step func(*Conversation) (Turn, error)) error
}

// Clock tells the time; tests and `chat --now` fix it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// FixedClock always returns the same instant.
type FixedClock time.Time

// Now returns the fixed instant.
func (c FixedClock) Now() time.Time { return time.Time(c) }
