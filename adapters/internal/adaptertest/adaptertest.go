// Package adaptertest holds what the platform adapters' tests share: the
// bot's core wired as serve wires it, the replies a conversation must
// produce, and waiting for the queue to be idle.
package adaptertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/flows"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

var references atomic.Int64

// Reference returns what words get in the terminal chat, one after the
// other, from a fresh student whose platform says locale: the texts a
// student on a platform must receive, in order.
func Reference(t testing.TB, engine *bot.Engine, locale string, words ...string) []string {
	t.Helper()
	user := fmt.Sprintf("reference-%d", references.Add(1))
	var want []string
	for _, w := range words {
		out, err := engine.Handle(context.Background(), bot.Inbound{Platform: "console", UserID: user, ChatID: user, Text: w, LocaleHint: locale})
		require.NoError(t, err)
		for _, o := range out {
			want = append(want, o.Text)
		}
	}
	return want
}

// Settle waits until the database's queue has no event to process and no
// reply to send, then a little more, so a test can assert that nothing
// else arrives.
func Settle(t testing.TB, db *storage.DB) {
	t.Helper()
	storagetest.Settle(t, db)
}

// Core is the bot behind a platform, wired as serve wires it: the
// embedded content pack, the engine and the job queue over db.
type Core struct {
	Pack   *flows.Pack
	Queue  *storage.Queue
	Engine *bot.Engine
	Log    *slog.Logger // discards: tests read what reached the platform
}

// NewCore builds the core over a migrated database.
func NewCore(t testing.TB, db *storage.DB) Core {
	t.Helper()
	c := Core{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var err error
	c.Pack, err = flows.Default()
	require.NoError(t, err)
	c.Queue, err = storage.NewQueue(db, c.Log)
	require.NoError(t, err)
	c.Engine, err = bot.NewEngine(bot.Config{Pack: c.Pack, Store: storage.NewConversations(db), Queue: c.Queue, Logger: c.Log})
	require.NoError(t, err)
	return c
}

// Start runs the queue's workers with these senders until the test ends.
func (c Core) Start(t testing.TB, senders map[string]bot.Sender) {
	t.Helper()
	d := bot.NewDispatcher(c.Engine, c.Queue, senders, c.Log)
	c.Queue.ComposeWith(c.Engine, bot.QuietHours{})
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, c.Queue.Start(ctx, d.Work))
	t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		require.NoError(t, c.Queue.Stop(stop))
		cancel()
	})
}
