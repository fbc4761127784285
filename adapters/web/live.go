package web

import "sync"

// hub wakes the live pages of a chat when a line for it is recorded: in
// this process directly, by other instances through Server.Listen.
type hub struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

func newHub() *hub { return &hub{subs: map[string]map[chan struct{}]struct{}{}} }

// subscribe returns a channel that receives a value after each notify of
// chat (coalesced), and the function that ends the subscription.
func (h *hub) subscribe(chat string) (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs[chat] == nil {
		h.subs[chat] = map[chan struct{}]struct{}{}
	}
	h.subs[chat][c] = struct{}{}
	h.mu.Unlock()
	return c, func() {
		h.mu.Lock()
		delete(h.subs[chat], c)
		if len(h.subs[chat]) == 0 {
			delete(h.subs, chat)
		}
		h.mu.Unlock()
	}
}

// notify wakes the pages of chat; "" wakes every page.
func (h *hub) notify(chat string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if chat == "" {
		for _, subs := range h.subs {
			wake(subs)
		}
		return
	}
	wake(h.subs[chat])
}

func wake(subs map[chan struct{}]struct{}) {
	for c := range subs {
		select {
		case c <- struct{}{}:
		default: // already woken
		}
	}
}
