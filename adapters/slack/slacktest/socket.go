package slacktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const (
	socketPath   = "/socket"
	writeTimeout = 5 * time.Second
)

// socketState is the Socket Mode part of Fake, guarded by Fake.mu.
type socketState struct {
	tickets   map[string]bool // handed out by apps.connections.open, not used yet
	conns     []*socketConn   // open websockets, oldest first
	accepted  int
	pingEvery time.Duration
	envelopes map[string]*envelope
	acks      map[string][]json.RawMessage // envelope ID -> ack payloads, in order
	received  []string                     // every frame clients sent, for dumps
}

func newSocketState() socketState {
	return socketState{
		tickets:   map[string]bool{},
		pingEvery: defaultPingInterval,
		envelopes: map[string]*envelope{},
		acks:      map[string][]json.RawMessage{},
	}
}

// envelope is a Socket Mode request as Slack sends it.
type envelope struct {
	EnvelopeID             string          `json:"envelope_id"`
	Type                   string          `json:"type"`
	Payload                json.RawMessage `json:"payload"`
	AcceptsResponsePayload bool            `json:"accepts_response_payload"`
	RetryAttempt           int             `json:"retry_attempt"`
	RetryReason            string          `json:"retry_reason"`

	deliveries int // frames written so far
}

// socketConn is one accepted websocket.
type socketConn struct {
	ws        *websocket.Conn
	writeMu   sync.Mutex    // gorilla allows one writer at a time
	ready     bool          // hello sent and no disconnect sent: Push may use it; guarded by Fake.mu
	gone      chan struct{} // closed by close
	closeOnce sync.Once
}

func (c *socketConn) write(frame []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.ws.WriteMessage(websocket.TextMessage, frame)
}

func (c *socketConn) close() {
	c.closeOnce.Do(func() {
		close(c.gone)
		_ = c.ws.Close()
	})
}

// pingLoop pings like Slack does; socketmode.Client reconnects when pings
// stop for longer than its OptionPingInterval (30 s by default).
func (c *socketConn) pingLoop(every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(writeTimeout)) != nil {
			return
		}
		select {
		case <-c.gone:
			return
		case <-tick.C:
		}
	}
}

// ---- connecting ----

func (f *Fake) openConnection(map[string]string) reply {
	f.mu.Lock()
	ticket := fmt.Sprintf("tk%d", f.nextSeqLocked())
	f.socket.tickets[ticket] = true
	f.mu.Unlock()
	url := "ws" + strings.TrimPrefix(f.URL, "http") + socketPath + "?ticket=" + ticket + "&app_id=" + AppID
	return okReply(object{"url": url})
}

// slack-go dials with "Origin: https://api.slack.com", which the default
// same-origin check would refuse.
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (f *Fake) serveSocket(w http.ResponseWriter, r *http.Request) {
	if !f.takeTicket(r.URL.Query().Get("ticket")) {
		http.Error(w, "unknown or used ticket: call apps.connections.open", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client
	}
	c := &socketConn{ws: ws, gone: make(chan struct{})}
	live, pingEvery, ok := f.addConn(c)
	if !ok {
		_ = ws.Close()
		return
	}
	defer f.wg.Done()
	defer f.dropConn(c)
	if c.write(helloFrame(live)) != nil {
		return
	}
	f.setReady(c, true)
	if pingEvery > 0 {
		f.wg.Go(func() { c.pingLoop(pingEvery) })
	}
	for {
		_, frame, err := ws.ReadMessage()
		if err != nil {
			return
		}
		f.recordFrame(frame)
	}
}

func (f *Fake) takeTicket(ticket string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	ok := f.socket.tickets[ticket]
	delete(f.socket.tickets, ticket)
	return ok
}

// addConn registers c and counts its handler in f.wg, unless the fake is
// shutting down. It returns how many connections are open and the ping
// interval to use.
func (f *Fake) addConn(c *socketConn) (live int, pingEvery time.Duration, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, 0, false
	}
	f.wg.Add(1)
	f.socket.accepted++
	f.socket.conns = append(f.socket.conns, c)
	f.notifyLocked()
	return len(f.socket.conns), f.socket.pingEvery, true
}

func (f *Fake) setReady(c *socketConn, ready bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.ready = ready
	f.notifyLocked()
}

func (f *Fake) dropConn(c *socketConn) {
	c.close()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.socket.conns = slices.DeleteFunc(f.socket.conns, func(o *socketConn) bool { return o == c })
	f.notifyLocked()
}

// shutdownSockets ends waits, closes every websocket and waits for their
// goroutines.
func (f *Fake) shutdownSockets() {
	f.mu.Lock()
	f.closed = true
	conns := slices.Clone(f.socket.conns)
	f.mu.Unlock()
	close(f.done)
	for _, c := range conns {
		c.close()
	}
	f.wg.Wait()
}

// helloFrame is the greeting Slack sends on every new connection.
func helloFrame(numConnections int) []byte {
	return marshal(object{
		"type":            "hello",
		"num_connections": numConnections,
		"debug_info": object{
			"host": "applink-test", "build_number": 1, "approximate_connection_time": 18060,
		},
		"connection_info": object{"app_id": AppID},
	})
}

// recordFrame records what a client sent; acks are {"envelope_id":…,
// "payload":…} with the payload optional.
func (f *Fake) recordFrame(frame []byte) {
	var ack struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	_ = json.Unmarshal(frame, &ack)
	if string(ack.Payload) == "null" {
		ack.Payload = nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.socket.received = append(f.socket.received, string(frame))
	if ack.EnvelopeID != "" {
		f.socket.acks[ack.EnvelopeID] = append(f.socket.acks[ack.EnvelopeID], ack.Payload)
	}
	f.notifyLocked()
}

// ---- inspection and control ----

// Connections returns how many websockets the fake has accepted so far, so
// 2 after one reconnect. len(Calls("apps.connections.open")) counts the
// URLs handed out.
func (f *Fake) Connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.socket.accepted
}

// SetPingInterval sets how often websockets accepted from now on are
// pinged (default 500 ms). 0 stops pinging, so that socketmode.Client
// detects a dead connection after its OptionPingInterval and reconnects.
func (f *Fake) SetPingInterval(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.socket.pingEvery = d
}

// Disconnect sends Slack's {"type":"disconnect","reason":reason} to the
// current connection ("refresh_requested" and "warning" are what Slack
// sends), waiting up to ~10 s for one. socketmode.Client then closes it and
// reconnects; later Pushes wait for the new connection.
func (f *Fake) Disconnect(t testing.TB, reason string) {
	t.Helper()
	c := f.waitConn(t, "send disconnect")
	f.setReady(c, false)
	frame := marshal(object{"type": "disconnect", "reason": reason, "debug_info": object{"host": "applink-test"}})
	if err := c.write(frame); err != nil {
		f.dropConn(c)
	}
}

// DropConnections closes every open websocket abruptly, as a network
// failure would. socketmode.Client reconnects at once.
func (f *Fake) DropConnections() {
	f.mu.Lock()
	conns := slices.Clone(f.socket.conns)
	f.mu.Unlock()
	for _, c := range conns {
		f.dropConn(c)
	}
}

// waitConn returns the most recent ready connection, waiting up to ~10 s.
func (f *Fake) waitConn(t testing.TB, what string) *socketConn {
	t.Helper()
	var c *socketConn
	if !f.waitFor(func() bool { c = f.liveConnLocked(); return c != nil }) {
		t.Fatalf("slacktest: no Socket Mode client connected to %s (websockets accepted so far: %d)", what, f.Connections())
	}
	return c
}

func (f *Fake) liveConnLocked() *socketConn {
	for _, c := range slices.Backward(f.socket.conns) {
		if c.ready {
			return c
		}
	}
	return nil
}

// ---- envelopes ----

// Push sends an envelope of envelopeType ("events_api", "interactive" or
// "slash_commands") carrying payload to the most recent connection, waiting
// up to ~10 s for a client to connect, and returns its envelope_id.
// payload is raw JSON (json.RawMessage or []byte) or any value to marshal.
// accepts_response_payload is true for slash commands and for interactive
// payloads that accept one (view_submission, block_suggestion), as on Slack.
func (f *Fake) Push(t testing.TB, envelopeType string, payload any) (envelopeID string) {
	t.Helper()
	raw, err := rawJSON(payload)
	if err != nil {
		t.Fatalf("slacktest: Push(%s, %T): %v", envelopeType, payload, err)
	}
	f.mu.Lock()
	seq := f.nextSeqLocked()
	env := &envelope{
		EnvelopeID:             fmt.Sprintf("%08x-0000-4000-8000-%012x", seq, seq),
		Type:                   envelopeType,
		Payload:                raw,
		AcceptsResponsePayload: acceptsResponsePayload(envelopeType, raw),
	}
	f.socket.envelopes[env.EnvelopeID] = env
	f.mu.Unlock()
	f.deliver(t, env)
	return env.EnvelopeID
}

func rawJSON(payload any) (json.RawMessage, error) {
	var raw []byte
	switch p := payload.(type) {
	case json.RawMessage:
		raw = p
	case []byte:
		raw = p
	default:
		return marshal(payload), nil
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("payload is not valid JSON: %.80q", raw)
	}
	return raw, nil
}

func acceptsResponsePayload(envelopeType string, payload json.RawMessage) bool {
	switch envelopeType {
	case "slash_commands":
		return true
	case "interactive":
		var p struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(payload, &p)
		return p.Type == "view_submission" || p.Type == "block_suggestion"
	}
	return false
}

// Redeliver sends envelopeID again with retry_attempt increased and
// retry_reason "timeout", as Slack does when an envelope is not acked in
// time. WaitAck then waits for the client to ack this delivery too.
func (f *Fake) Redeliver(t testing.TB, envelopeID string) {
	t.Helper()
	f.mu.Lock()
	env := f.socket.envelopes[envelopeID]
	if env != nil {
		env.RetryAttempt++
		env.RetryReason = "timeout"
	}
	f.mu.Unlock()
	if env == nil {
		t.Fatalf("slacktest: Redeliver: no envelope %q was pushed", envelopeID)
	}
	f.deliver(t, env)
}

// PushRaw sends frame verbatim to the most recent connection, e.g. to see
// how a client copes with a malformed envelope.
func (f *Fake) PushRaw(t testing.TB, frame string) {
	t.Helper()
	if err := f.waitConn(t, "push a raw frame").write([]byte(frame)); err != nil {
		t.Fatalf("slacktest: PushRaw: %v", err)
	}
}

// deliver writes env to the most recent connection. When that connection
// turns out to be dead it waits for the client to reconnect and tries again.
func (f *Fake) deliver(t testing.TB, env *envelope) {
	t.Helper()
	for {
		c := f.waitConn(t, "deliver envelope "+env.EnvelopeID)
		f.mu.Lock()
		env.deliveries++ // before writing: the ack may come back at once
		frame := marshal(env)
		f.mu.Unlock()
		if c.write(frame) == nil {
			return
		}
		f.mu.Lock()
		env.deliveries--
		f.mu.Unlock()
		f.dropConn(c)
	}
}

// WaitAck waits up to ~10 s until the client has acknowledged every
// delivery of envelopeID (so after Redeliver, the redelivery too) and
// returns the payload of the latest ack: nil when the ack had none, as
// after client.Ack(req).
func (f *Fake) WaitAck(t testing.TB, envelopeID string) json.RawMessage {
	t.Helper()
	var last json.RawMessage
	acked := f.waitFor(func() bool {
		acks := f.socket.acks[envelopeID]
		want := 1
		if env := f.socket.envelopes[envelopeID]; env != nil {
			want = max(want, env.deliveries)
		}
		if len(acks) < want {
			return false
		}
		last = acks[len(acks)-1]
		return true
	})
	if !acked {
		t.Fatalf("slacktest: envelope %s not acknowledged; frames received from clients:\n%s", envelopeID, f.framesDump())
	}
	return last
}

func (f *Fake) framesDump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.socket.received) == 0 {
		return "  (none)\n"
	}
	var b strings.Builder
	for _, frame := range f.socket.received {
		fmt.Fprintf(&b, "  %s\n", frame)
	}
	return b.String()
}
