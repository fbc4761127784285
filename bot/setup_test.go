package bot_test

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
	"time"

	"activation-bot/bot"
	"activation-bot/flows"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// testClock is a clock the test moves.
type testClock = storagetest.Clock

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testBundle struct {
	engine *bot.Engine
	clock  *testClock
	db     *storage.DB
	logs   *syncBuffer
	pack   *flows.Pack
}

var brussels = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		panic(err)
	}
	return loc
}()

// setup builds an engine over a fresh database of the named kind, with a
// clock fixed at 2026-09-21 15:00 Brussels time and debug logs captured.
func setup(t testing.TB, dbName string) *testBundle {
	t.Helper()
	d := storagetest.Open(t, dbName)
	pack, err := flows.Default()
	if err != nil {
		t.Fatal(err)
	}
	b := &testBundle{
		clock: storagetest.NewClock(time.Date(2026, 9, 21, 15, 0, 0, 0, brussels)),
		db:    d.DB,
		logs:  &syncBuffer{},
		pack:  pack,
	}
	b.engine, err = bot.NewEngine(bot.Config{
		Pack:     pack,
		Store:    storage.NewConversations(d.DB).SetClock(b.clock.Now),
		Clock:    b.clock,
		Location: brussels,
		Logger:   slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
