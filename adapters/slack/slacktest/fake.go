// Package slacktest is an in-process fake of the Slack Web API and of the
// Socket Mode websocket, served by net/http/httptest, for testing Slack
// adapters end to end with the real github.com/slack-go/slack client:
//
//	f := slacktest.New(t)
//	api := slack.New(slacktest.BotToken,
//		slack.OptionAPIURL(f.URL+"/api/"),
//		slack.OptionAppLevelToken(slacktest.AppToken))
//	client := socketmode.New(api)
//	go client.RunContext(ctx)
//	id := f.SendDM(t, "U123", "hi") // or Push, PushEvent, Click, Command
//	f.WaitAck(t, id)
//	posted := f.WaitCalls(t, 1, "chat.postMessage")
//
// Web API: every call is recorded (Calls, WaitCalls, Posted, Updated,
// Replies). The methods a bot needs are answered as Slack does
// (auth.test, chat.postMessage, chat.update, chat.delete,
// chat.postEphemeral, views.publish, users.info, conversations.open,
// conversations.members with SetMembers and SetPageSize,
// apps.connections.open); the requests Slack rejects most often are
// rejected the same way (no_text, msg_too_long, invalid_blocks for Block
// Kit limits, message_not_found, invalid_auth); Fail scripts rate limits,
// Slack errors and 5xx pages.
//
// Socket Mode: apps.connections.open hands out a one-time ws:// URL; the
// websocket greets with hello, pings, delivers envelopes (Push and its
// helpers SendDM, SendChannelMessage, Click, Command; Redeliver) and
// records the client's acks (WaitAck). Disconnect and DropConnections
// exercise reconnects.
//
// Events API over HTTP: the fake does not post to an app, but builds the
// bodies Slack would post (Callback, ChannelMessage, ClickPayload) for a
// test to sign and send.
//
// Everything is safe for concurrent use. Methods taking a testing.TB fail
// the test with t.Fatalf, so call them from the test goroutine.
package slacktest

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Identity of the fake workspace and app.
const (
	BotToken   = "xoxb-test"
	AppToken   = "xapp-test"
	TeamID     = "T0TEST"
	TeamDomain = "test"
	BotUserID  = "U0BOT"
	BotID      = "B0BOT"
	AppID      = "A0TEST"
)

const (
	waitTimeout         = 10 * time.Second
	defaultPingInterval = 500 * time.Millisecond
	maxMultipartBytes   = 32 << 20
	contentTypeJSON     = "application/json; charset=utf-8"
)

// Call is one Web API request the fake received.
type Call struct {
	// Method is the API method from the URL, e.g. "chat.postMessage", or
	// "response_url" for a POST to a response_url handed out in a payload.
	Method string
	// Fields holds the request parameters: form (and query) values; for a
	// JSON body, top-level string values unquoted and every other value as
	// its raw JSON text (e.g. views.publish's "view"). So Fields["blocks"]
	// is JSON text whichever encoding the client used. In JSON text the
	// \u003c, \u003e and \u0026 escapes Go's encoder adds are undone, so
	// it reads as sent: "<@U1>", "&amp;".
	Fields map[string]string
	// At is when the request arrived.
	At time.Time
	// Status is the HTTP status answered.
	Status int
	// Response is the body answered.
	Response string

	ok          bool   // Slack's "ok" was true
	channel, ts string // message a chat method posted or changed
}

// OK reports whether Slack would have said ok: HTTP 200 and "ok":true.
func (c Call) OK() bool { return c.ok }

func (c Call) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s -> %d", c.At.Format("15:04:05.000"), c.Method, c.Status)
	for _, k := range slices.Sorted(maps.Keys(c.Fields)) {
		fmt.Fprintf(&b, " %s=%q", k, c.Fields[k])
	}
	if !c.ok {
		fmt.Fprintf(&b, " %s", c.Response)
	}
	return b.String()
}

// Fake is a fake Slack server. Create it with New.
type Fake struct {
	// URL is the server's base URL, without trailing slash. Give the client
	// URL+"/api/".
	URL string

	done chan struct{}  // closed at cleanup: ends waits and sockets
	wg   sync.WaitGroup // socket handlers and their pingers

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change, to wake waiters
	closed   bool
	calls    []Call
	failures map[string][]reply // method -> FIFO of scripted answers
	users    map[string]user
	messages map[msgKey]*message // current state of posted messages
	views    map[string]string   // user -> last published home view
	members  map[string][]string // channel -> member user ids, for conversations.members
	pageSize int                 // most items a paginated method answers; 0: as asked
	seq      int64               // source of timestamps and ids
	socket   socketState
	// responses counts the uses of each response_url by path; -1 once
	// expired.
	responses map[string]int
}

// New starts a fake server, shut down (websockets included) when the test
// ends.
func New(t testing.TB) *Fake {
	t.Helper()
	f := &Fake{
		done:     make(chan struct{}),
		changed:  make(chan struct{}),
		failures: map[string][]reply{},
		users:    map[string]user{},
		messages: map[msgKey]*message{},
		views:    map[string]string{},
		members:  map[string][]string{},
		socket:   newSocketState(),

		responses: map[string]int{},
	}
	// URL is set before serving so handlers read it without a data race.
	srv := httptest.NewUnstartedServer(f)
	f.URL = "http://" + srv.Listener.Addr().String()
	srv.Start()
	t.Cleanup(func() {
		// Hijacked websockets are not tracked by httptest.Server.Close, so
		// they are closed and waited for here.
		f.shutdownSockets()
		srv.Close()
	})
	return f
}

// ---- inspection ----

// Calls returns the Web API calls received so far in arrival order,
// optionally only those of the given methods. A call is listed once it has
// been answered.
func (f *Fake) Calls(methods ...string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.callsLocked(methods)
}

func (f *Fake) callsLocked(methods []string) []Call {
	var out []Call
	for _, c := range f.calls {
		if len(methods) == 0 || slices.Contains(methods, c.Method) {
			c.Fields = maps.Clone(c.Fields)
			out = append(out, c)
		}
	}
	return out
}

// WaitCalls waits until Calls(methods...) lists at least n calls and returns
// them. After ~10 s it fails the test with a dump of every call.
func (f *Fake) WaitCalls(t testing.TB, n int, methods ...string) []Call {
	t.Helper()
	var got []Call
	if f.waitFor(func() bool { got = f.callsLocked(methods); return len(got) >= n }) {
		return got
	}
	t.Fatalf("slacktest: waited for %d call(s) of %v, got %d; all calls:\n%s", n, methods, len(got), f.dump())
	return nil
}

// Posted returns the successful chat.postMessage calls to channel, in
// order. channel matches the channel the client gave or the one Slack
// answered: posting to a user ID U… lands in the DM channel "D"+U….
func (f *Fake) Posted(channel string) []Call {
	var out []Call
	for _, c := range f.Calls("chat.postMessage") {
		if c.ok && (c.Fields["channel"] == channel || c.channel == channel) {
			out = append(out, c)
		}
	}
	return out
}

// Updated returns the successful chat.update calls in channel, in order.
func (f *Fake) Updated(channel string) []Call {
	var out []Call
	for _, c := range f.Calls("chat.update") {
		if c.ok && (c.Fields["channel"] == channel || c.channel == channel) {
			out = append(out, c)
		}
	}
	return out
}

// Replies returns the successful chat.postMessage calls in channel that
// were posted in the thread of the message threadTS, in order.
func (f *Fake) Replies(channel, threadTS string) []Call {
	var out []Call
	for _, c := range f.Posted(channel) {
		if c.Fields["thread_ts"] == threadTS {
			out = append(out, c)
		}
	}
	return out
}

// HomeView returns the JSON of the last view views.publish published for
// userID (as in Call.Fields["view"]), "" if none.
func (f *Fake) HomeView(userID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.views[userID]
}

func (f *Fake) dump() string {
	var b strings.Builder
	for i, c := range f.Calls() {
		fmt.Fprintf(&b, "  #%d %s\n", i, c)
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
}

// ---- scripting ----

// Fail queues one failure for the next call of method (FIFO: queue several
// for several calls). It is answered after the token check, instead of the
// method's normal behaviour, and recorded like any call:
//   - 429: HTTP 429 with "Retry-After: <retryAfter>" (seconds) and
//     {"ok":false,"error":"ratelimited"}; slack-go returns
//     *slack.RateLimitedError.
//   - 200: {"ok":false,"error":slackError}, e.g. "not_in_channel",
//     "account_inactive", "channel_not_found", "invalid_blocks"; slack-go
//     returns slack.SlackErrorResponse.
//   - anything else (500, 502, 503…): that status with an HTML body, as
//     Slack's front end answers; slack-go returns slack.StatusCodeError.
//
// slackError "" means "ratelimited" for 429 and "internal_error" for 200.
func (f *Fake) Fail(method string, status int, slackError string, retryAfter int) {
	var rep reply
	switch status {
	case http.StatusTooManyRequests:
		rep = errReply(cmp.Or(slackError, "ratelimited"))
		rep.status, rep.retryAfter = status, strconv.Itoa(retryAfter)
	case http.StatusOK:
		rep = errReply(cmp.Or(slackError, "internal_error"))
	default:
		rep = htmlReply(status)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[method] = append(f.failures[method], rep)
}

func (f *Fake) takeFailure(method string) (reply, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	queue := f.failures[method]
	if len(queue) == 0 {
		return reply{}, false
	}
	f.failures[method] = queue[1:]
	return queue[0], true
}

// SetUser sets what users.info answers for id: locale such as "nl-BE"
// (returned only when the client asks include_locale, as slack-go does by
// default), name as name, real_name and profile.display_name (unless
// SetRealName gave those), and time zone Europe/Brussels. Unknown users get
// locale "en-US" and name "student".
func (f *Fake) SetUser(id, locale, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id] = user{locale: locale, name: name, realName: f.users[id].realName}
}

// SetRealName sets the real_name and profile.display_name users.info
// answers for id, keeping its name (the handle) and locale; SetUser
// called later keeps it too.
func (f *Fake) SetRealName(id, realName string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.userLocked(id)
	u.realName = realName
	f.users[id] = u
}

// SetMembers sets the members conversations.members lists for channel
// (user IDs, in order), replacing those set before. A channel never set
// answers channel_not_found, as a private channel the app is not in.
func (f *Fake) SetMembers(channel string, userIDs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[channel] = slices.Clone(userIDs)
}

// SetPageSize caps how many items a paginated method (conversations.members)
// answers per call, whatever limit the client asks, as Slack may answer
// fewer: n > 0 makes clients follow next_cursor. 0 (the default) answers
// as many as asked.
func (f *Fake) SetPageSize(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pageSize = n
}

// ---- waiting ----

// notifyLocked wakes every waiter so it re-checks its condition.
func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// waitFor waits up to waitTimeout until cond, called with f.mu held, is
// true. It reports false on timeout or when the fake shuts down.
func (f *Fake) waitFor(cond func() bool) bool {
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		f.mu.Lock()
		ok, changed := cond(), f.changed
		f.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-timer.C:
			return false
		case <-f.done:
			return false
		}
	}
}

// nextSeqLocked returns a fresh positive number for ids and timestamps.
func (f *Fake) nextSeqLocked() int64 {
	f.seq++
	return f.seq
}

// nextTSLocked returns a unique, increasing Slack timestamp such as
// "1700000000.000100".
func (f *Fake) nextTSLocked() string {
	micros := f.nextSeqLocked() * 100
	return fmt.Sprintf("%d.%06d", 1_700_000_000+micros/1_000_000, micros%1_000_000)
}

// ---- HTTP ----

// reply is an HTTP answer.
type reply struct {
	status      int
	retryAfter  string // Retry-After header, "" for none
	contentType string
	body        []byte
	ok          bool
	channel, ts string // message a chat method posted or changed
}

// object is a JSON object under construction.
type object = map[string]any

func okReply(body object) reply {
	body["ok"] = true
	return reply{status: http.StatusOK, contentType: contentTypeJSON, body: marshal(body), ok: true}
}

// errReply is Slack's answer to a refused call: HTTP 200, "ok":false, the
// error code, and for Block Kit errors the details Slack gives in
// response_metadata.messages (slack-go exposes them in
// SlackErrorResponse.ResponseMetadata.Messages).
func errReply(code string, messages ...string) reply {
	body := object{"ok": false, "error": code}
	if len(messages) > 0 {
		body["response_metadata"] = object{"messages": messages}
	}
	return reply{status: http.StatusOK, contentType: contentTypeJSON, body: marshal(body)}
}

func htmlReply(status int) reply {
	title := fmt.Sprintf("%d %s", status, http.StatusText(status))
	body := "<html><head><title>" + title + "</title></head><body><h1>" + title + "</h1></body></html>\n"
	return reply{status: status, contentType: "text/html; charset=utf-8", body: []byte(body)}
}

// marshal is json.Marshal without HTML escaping, so recorded responses read
// like what was sent. Values are maps, strings and raw JSON: it cannot fail.
func marshal(v any) []byte {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("slacktest: " + err.Error())
	}
	return []byte(strings.TrimSuffix(b.String(), "\n"))
}

func (rep reply) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", rep.contentType)
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// ServeHTTP serves the Web API under /api/, response URLs under /actions/,
// /commands/ (those the fake hands out) and /response (for hand-made
// payloads), and the Socket Mode websocket at /socket.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch path := r.URL.Path; {
	case strings.HasPrefix(path, "/api/"):
		f.serveAPI(w, r, strings.TrimPrefix(path, "/api/"))
	case strings.HasPrefix(path, "/actions/"), strings.HasPrefix(path, "/commands/"), strings.HasPrefix(path, "/response"):
		f.serveResponseURL(w, r)
	case path == socketPath:
		f.serveSocket(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *Fake) serveAPI(w http.ResponseWriter, r *http.Request, method string) {
	at := time.Now()
	fields, err := parseFields(r)
	var rep reply
	if err != nil {
		rep = errReply("invalid_form_data")
	} else {
		rep = f.dispatch(method, fields, bearer(r))
	}
	// Record before answering, so a call is visible once its client has the
	// answer.
	f.record(Call{Method: method, Fields: fields, At: at}, rep)
	rep.write(w)
}

func (f *Fake) dispatch(method string, fields map[string]string, bearer string) reply {
	if rep, ok := checkToken(method, cmp.Or(bearer, fields["token"])); !ok {
		return rep
	}
	if rep, ok := f.takeFailure(method); ok {
		return rep
	}
	handle, ok := handlers[method]
	if !ok {
		return errReply("unknown_method")
	}
	return handle(f, fields)
}

// checkToken accepts the app-level token for apps.connections.open and the
// bot token for everything else, answering refusals as Slack words them.
func checkToken(method, token string) (reply, bool) {
	want, other := BotToken, AppToken
	if method == "apps.connections.open" {
		want, other = AppToken, BotToken
	}
	switch token {
	case want:
		return reply{}, true
	case "":
		return errReply("not_authed"), false
	case other:
		return errReply("not_allowed_token_type"), false
	default:
		return errReply("invalid_auth"), false
	}
}

func bearer(r *http.Request) string {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return token
}

func (f *Fake) record(c Call, rep reply) {
	c.Status, c.Response, c.ok, c.channel, c.ts = rep.status, string(rep.body), rep.ok, rep.channel, rep.ts
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	f.notifyLocked()
}

// maxResponses is how many times Slack takes a response_url.
const maxResponses = 5

// ExpireResponseURL makes a response_url expired, as Slack does 30
// minutes after handing it out.
func (f *Fake) ExpireResponseURL(t testing.TB, responseURL string) {
	t.Helper()
	u, err := url.Parse(responseURL)
	if err != nil || !strings.HasPrefix(responseURL, f.URL) {
		t.Fatalf("%q is not a response_url of the fake", responseURL)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.responses[u.Path] = -1
}

// serveResponseURL accepts what an app POSTs to a response_url from an
// interactive or slash command payload, records it as method "response_url"
// with Fields["response_url"] the URL, and answers {"ok":true} as Slack
// does; like Slack, HTTP 404 with "used_url" after five uses and
// "expired_url" once expired.
func (f *Fake) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	fields, err := parseFields(r)
	rep := okReply(object{})
	if err != nil {
		rep = errReply("invalid_payload")
	}
	switch f.useResponseURL(r.URL.Path) {
	case "expired":
		rep = errReply("expired_url")
		rep.status = http.StatusNotFound
	case "used":
		rep = errReply("used_url")
		rep.status = http.StatusNotFound
	}
	fields["response_url"] = f.URL + r.URL.Path
	f.record(Call{Method: "response_url", Fields: fields, At: at}, rep)
	rep.write(w)
}

// useResponseURL counts a use of the response_url at path: "" when it may
// be used, else "expired" or "used".
func (f *Fake) useResponseURL(path string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.responses[path]
	switch {
	case n < 0:
		return "expired"
	case n >= maxResponses:
		return "used"
	}
	f.responses[path] = n + 1
	return ""
}

// parseFields reads the parameters from the query string and the body,
// which slack-go sends form-encoded for most methods and as JSON for some
// (views.*, apps.connections.open, response URLs).
func parseFields(r *http.Request) (map[string]string, error) {
	fields, err := parseRawFields(r)
	for k, v := range fields {
		if looksLikeJSON(v) {
			fields[k] = unescapeHTML(v)
		}
	}
	return fields, err
}

func parseRawFields(r *http.Request) (map[string]string, error) {
	fields := map[string]string{}
	for k, v := range r.URL.Query() {
		fields[k] = v[0]
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "application/json":
		return fields, parseJSONObject(r.Body, fields)
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxMultipartBytes); err != nil {
			return fields, err
		}
		for k, v := range r.MultipartForm.Value {
			fields[k] = v[0]
		}
	default:
		if err := r.ParseForm(); err != nil {
			return fields, err
		}
		for k, v := range r.PostForm {
			fields[k] = v[0]
		}
	}
	return fields, nil
}

func parseJSONObject(body io.Reader, fields map[string]string) error {
	raw, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil // apps.connections.open sends no body
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return err
	}
	if obj == nil {
		return errors.New("JSON body is not an object")
	}
	for k, v := range obj {
		var s string
		if json.Unmarshal(v, &s) == nil {
			fields[k] = s
		} else {
			fields[k] = string(v)
		}
	}
	return nil
}

func looksLikeJSON(v string) bool {
	v = strings.TrimSpace(v)
	return (strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[")) && json.Valid([]byte(v))
}

// unescapeHTML undoes the \u003c, \u003e and \u0026 escapes Go's JSON
// encoder (so slack-go) puts in strings, so that recorded blocks read as
// sent ("<@U1>", "&amp;") and substring assertions work. The JSON means the
// same.
func unescapeHTML(s string) string {
	if !strings.Contains(s, `\u00`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		if r, ok := htmlEscapes[s[i+1:min(i+6, len(s))]]; ok {
			b.WriteByte(r)
			i += 5
			continue
		}
		b.WriteString(s[i : i+2]) // any other escape, e.g. \\, stays as is
		i++
	}
	return b.String()
}

var htmlEscapes = map[string]byte{
	"u003c": '<', "u003e": '>', "u0026": '&',
	"u003C": '<', "u003E": '>',
}
