package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Dispatcher does a chat's queued work: it processes the chat's inbox in
// arrival order, then sends its outbox in order, within the platform's
// rate limits. The job queue runs one Work per chat at a time.
type Dispatcher struct {
	engine  *Engine
	queue   Queue
	senders map[string]Sender
	clock   func() time.Time
	log     *slog.Logger
}

// NewDispatcher returns a dispatcher sending through one Sender per
// platform name.
func NewDispatcher(e *Engine, q Queue, senders map[string]Sender, log *slog.Logger) *Dispatcher {
	if log == nil {
		log = slog.Default()
	}
	return &Dispatcher{engine: e, queue: q, senders: senders, clock: time.Now, log: log}
}

// Work processes and delivers everything pending for chat. It returns nil
// when nothing is left, a *RetryAfter when the chat must wait (a 429, a
// rate-limit slot far away), and another error to be retried with backoff.
func (d *Dispatcher) Work(ctx context.Context, chat Chat) error {
	if err := d.processAll(ctx, chat); err != nil {
		return err
	}
	return d.deliverAll(ctx, chat)
}

func (d *Dispatcher) processAll(ctx context.Context, chat Chat) error {
	for {
		if err := yieldNearDeadline(ctx); err != nil {
			return err
		}
		in, ok, err := d.queue.NextInbound(ctx, chat)
		if err != nil || !ok {
			return err
		}
		err = d.process(ctx, in)
		if err == nil || errors.Is(err, ErrDuplicate) {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.log.ErrorContext(ctx, "processing an event failed", slog.String("chat", chat.String()),
			slog.Int64("inbox_id", in.InboxID), slog.Any("error", err))
		if ferr := d.queue.FailInbound(ctx, in.InboxID, err); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
}

// process steps one event; a panic is a failure of that event, recorded
// like an error, so it cannot take the chat's job down with it for ever.
func (d *Dispatcher) process(ctx context.Context, in Inbound) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic while processing: %v", r)
		}
	}()
	return d.engine.Process(ctx, in)
}

func (d *Dispatcher) deliverAll(ctx context.Context, chat Chat) error {
	sender := d.senders[chat.Platform]
	for {
		if err := yieldNearDeadline(ctx); err != nil {
			return err
		}
		dl, ok, err := d.queue.NextDelivery(ctx, chat)
		if err != nil || !ok {
			return err
		}
		if sender == nil {
			if err := d.queue.Undeliverable(ctx, dl.ID, fmt.Errorf("no sender for platform %q", chat.Platform)); err != nil {
				return err
			}
			continue
		}
		if dl.Message != nil {
			if err := d.awaitSlot(ctx, chat, sender); err != nil {
				return err
			}
		}
		if err := yieldNearDeadline(ctx); err != nil {
			return err // the wait for a slot may have used what was left
		}
		if err := d.send(ctx, sender, dl); err != nil {
			return err
		}
	}
}

// yieldNearDeadline hands the chat back to the queue when the work's time
// is nearly up, rather than start a send that the deadline would cut off.
func yieldNearDeadline(ctx context.Context) error {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < minTimeLeft {
		return &RetryAfter{}
	}
	return nil
}

// send delivers one row and settles it; the error it returns stops the
// chat's work for now. Once started, the send and its record are not cut
// off by the job's deadline or a shutdown: a message the platform took
// but the outbox did not record as sent would go out twice. The record
// has its own time, whatever the send used of its own.
func (d *Dispatcher) send(ctx context.Context, sender Sender, dl Delivery) error {
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	sent, err := sender.Send(sendCtx, dl)
	cancel()
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	log := d.log.With(slog.String("chat", dl.Chat.String()), slog.Int64("outbox_id", dl.ID))
	if err != nil {
		d.engine.obs.SendFailed(dl.Chat.Platform, sendErrorKind(err))
	}
	var later *RetryAfter
	switch {
	case err == nil && sent.More:
		// Each part takes its own send slot; a confirmed part is recorded
		// at once, so a crash never sends it twice.
		return d.queue.PartsSent(rec, dl.ID, dl.Parts+1)
	case err == nil:
		return d.delivered(rec, dl, sent.Ref)
	case errors.As(err, &later):
		log.WarnContext(ctx, "platform asks to slow down", slog.Duration("retry_after", later.After))
		return later
	case errors.Is(err, ErrUnreachable) && dl.Ticket == nil:
		log.InfoContext(ctx, "chat unreachable; its messages are set aside", slog.Any("reason", err))
		return d.queue.Unreachable(rec, dl.Chat, err)
	case errors.Is(err, ErrRejected):
		log.ErrorContext(ctx, "platform rejected a message", slog.Any("reason", err))
		return d.queue.Undeliverable(rec, dl.ID, err)
	case d.clock().Sub(dl.Created) > maxSendAge:
		log.ErrorContext(ctx, "giving up on a message", slog.Int("attempts", dl.Attempts+1),
			slog.Duration("age", d.clock().Sub(dl.Created)), slog.Any("error", err))
		return d.queue.Undeliverable(rec, dl.ID, err)
	}
	// Transient, a send that ran out of time included. A helpdesk chat
	// that refuses the bot is a setup to fix (invite the bot), not a
	// student who left: its tickets wait for it.
	if errors.Is(err, ErrUnreachable) {
		log.ErrorContext(ctx, "the helpdesk chat refuses the bot; tickets wait until it is invited", slog.Any("reason", err))
	} else {
		log.WarnContext(ctx, "send failed; will retry", slog.Int("attempt", dl.Attempts+1), slog.Any("error", err))
	}
	if rerr := d.queue.Retry(rec, dl.ID, err); rerr != nil {
		return errors.Join(err, rerr)
	}
	if dl.Ticket != nil && dl.Ticket.Kind == PostNew && dl.Attempts == 0 {
		// The student was told the helpdesk is notified: now it is late.
		if terr := d.engine.TicketDelayed(rec, dl.Ticket.ID); terr != nil {
			return errors.Join(err, terr)
		}
	}
	return err
}

// delivered records a row as sent and tells the observer how long it
// waited in the outbox.
func (d *Dispatcher) delivered(ctx context.Context, dl Delivery, ref string) error {
	if err := d.queue.Delivered(ctx, dl, ref); err != nil {
		return err
	}
	d.engine.obs.MessageSent(dl.Chat.Platform, d.clock().Sub(dl.Created))
	return nil
}

// awaitSlot takes a send slot under the chat's and the platform's limits,
// waiting in place for a near one and handing the chat back otherwise.
func (d *Dispatcher) awaitSlot(ctx context.Context, chat Chat, sender Sender) error {
	perChat, overall := sender.Limits()
	for _, l := range []struct {
		key  string
		rate Rate
	}{{chat.String(), perChat}, {chat.Platform, overall}} {
		if l.rate.Every <= 0 {
			continue
		}
		at, ok, err := d.queue.Reserve(ctx, l.key, l.rate, maxWait)
		if err != nil {
			return err
		}
		if !ok {
			return &RetryAfter{After: at.Sub(d.clock())}
		}
		if err := sleep(ctx, at.Sub(d.clock())); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
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
