// Package telegramtest is an in-process fake of the Telegram Bot API, served
// by net/http/httptest, for testing Telegram adapters end to end.
//
// Point a client at Fake.URL with Fake.Token, e.g. for go-telegram/bot:
//
//	f := telegramtest.New(t)
//	b, _ := bot.New(f.Token, bot.WithSkipGetMe(), bot.WithServerURL(f.URL))
//
// The fake records every call (Calls, WaitCalls, Sent), queues updates for
// getUpdates (PushUpdate), can be scripted to fail (Fail, FailRaw) and
// rejects the requests real Telegram rejects most often: over-long texts,
// malformed HTML, oversized callback_data, getUpdates while a webhook is set,
// an edit that changes nothing.
//
// It remembers the messages the bot sent (and their edits: Message), so
// that tests can build the updates of people answering them: a reply
// (ReplyUpdate), a button press (CallbackUpdate), or any other text
// (MessageUpdate). getChatMember answers what SetChatMember set.
//
// Requests may be multipart/form-data (what go-telegram/bot always sends),
// application/x-www-form-urlencoded, or a JSON object; see Call.Fields.
package telegramtest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Identity of the fake bot, as reported by getMe and in sent messages.
const (
	BotID       = 1
	BotUsername = "test_bot"
	// DefaultToken is the token every Fake accepts.
	DefaultToken = "123:TEST"
)

const (
	maxTextUTF16      = 4096 // Telegram's limit, counted after entity parsing
	maxCallbackData   = 64   // bytes
	maxUpdatesPerPoll = 100
	waitCallsTimeout  = 10 * time.Second
	waitCallsTick     = 5 * time.Millisecond
	maxMultipartBytes = 32 << 20
)

// Call is one request the fake received.
type Call struct {
	// Method is the Bot API method as it appeared in the URL path.
	Method string
	// Fields holds the request parameters as strings: multipart and
	// urlencoded values verbatim; for a JSON body, string values unquoted
	// and every other value as its raw JSON text (e.g. `5`, `true`, `{...}`).
	// So the same parameter reads the same whichever encoding was used.
	Fields map[string]string
	// At is when the request arrived.
	At time.Time
	// Status is the HTTP status answered, or 0 for a long poll still
	// waiting or abandoned by its client.
	Status int
	// Response is the body answered.
	Response string
}

// OK reports whether the call succeeded.
func (c Call) OK() bool { return c.Status == http.StatusOK }

// Int returns field name parsed as an integer, 0 when absent or not a number.
// Handy for getUpdates' offset.
func (c Call) Int(name string) int64 {
	n, _ := strconv.ParseInt(c.Fields[name], 10, 64)
	return n
}

func (c Call) String() string {
	keys := slices.Sorted(maps.Keys(c.Fields))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s -> %d", c.At.Format("15:04:05.000"), c.Method, c.Status)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, c.Fields[k])
	}
	if !c.OK() {
		fmt.Fprintf(&b, " %s", c.Response)
	}
	return b.String()
}

// Fake is a fake Telegram Bot API server. All methods are safe for
// concurrent use.
type Fake struct {
	// URL is the server URL to give the client (no trailing slash).
	URL string
	// Token is the only token the fake accepts; others get 401. Read-only.
	Token string

	t    testing.TB
	done chan struct{} // closed at cleanup, releases parked long polls

	mu            sync.Mutex
	calls         []recordedCall     // in arrival order
	failures      map[string][]reply // lower-cased method -> FIFO of scripted answers
	updates       []pendingUpdate    // sorted by id
	nextUpdateID  int64
	nextMessageID int64
	webhookURL    string
	webhookSecret string
	messages      map[messageKey]message     // what was sent or injected, as edited since
	members       map[memberKey]memberStatus // set by SetChatMember
	nextQueryID   int64
	pollGen       uint64        // bumped by every getUpdates, to end the previous one
	wake          chan struct{} // closed and replaced to wake parked long polls
}

// recordedCall is hidden from Calls until visible, so that a caller who
// sees a call also sees its effects (Status, Sent, confirmed offset).
type recordedCall struct {
	Call
	visible bool
}

type pendingUpdate struct {
	id  int64
	raw json.RawMessage
}

// New starts a fake server that is shut down when the test ends.
func New(t testing.TB) *Fake {
	t.Helper()
	f := &Fake{
		Token:         DefaultToken,
		t:             t,
		done:          make(chan struct{}),
		failures:      map[string][]reply{},
		nextUpdateID:  1,
		nextMessageID: 1,
		messages:      map[messageKey]message{},
		members:       map[memberKey]memberStatus{},
		wake:          make(chan struct{}),
	}
	srv := httptest.NewServer(f)
	f.URL = srv.URL
	t.Cleanup(func() {
		// httptest.Server.Close waits for in-flight requests, so parked
		// long polls must be released first or cleanup would hang.
		close(f.done)
		srv.Close()
	})
	return f
}

// ---- inspection ----

// Calls returns the calls received so far in arrival order, optionally only
// those of the given methods (compared case-insensitively, as Telegram
// treats method names). A call is listed once it has been answered, or,
// for a getUpdates long poll, once it has confirmed its offset and is
// waiting for updates (Status 0 until it is answered).
func (f *Fake) Calls(methods ...string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, rc := range f.calls {
		if rc.visible && matchesMethod(rc.Method, methods) {
			c := rc.Call
			c.Fields = maps.Clone(c.Fields)
			out = append(out, c)
		}
	}
	return out
}

func matchesMethod(method string, methods []string) bool {
	if len(methods) == 0 {
		return true
	}
	return slices.ContainsFunc(methods, func(m string) bool { return strings.EqualFold(m, method) })
}

// WaitCalls waits until Calls(methods...) lists at least n calls and returns
// them. After ~10s it fails
// the test with a dump of every call; like t.Fatal it must then be called
// from the test goroutine.
func (f *Fake) WaitCalls(t testing.TB, n int, methods ...string) []Call {
	t.Helper()
	deadline := time.Now().Add(waitCallsTimeout)
	for {
		if calls := f.Calls(methods...); len(calls) >= n {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("telegramtest: waited %v for %d call(s) of %v, got %d; all calls:\n%s",
				waitCallsTimeout, n, methods, len(f.Calls(methods...)), f.dump())
		}
		time.Sleep(waitCallsTick)
	}
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

// Sent returns the texts of the successful sendMessage calls to chatID, in
// order, as the client sent them (HTML tags included).
func (f *Fake) Sent(chatID int64) []string {
	want := strconv.FormatInt(chatID, 10)
	var out []string
	for _, c := range f.Calls("sendMessage") {
		if c.OK() && c.Fields["chat_id"] == want {
			out = append(out, c.Fields["text"])
		}
	}
	return out
}

// WebhookInfo returns the webhook URL and secret token registered by
// setWebhook (or SetWebhook); both empty when none is set.
func (f *Fake) WebhookInfo() (url, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.webhookURL, f.webhookSecret
}

// ---- scripting ----

// SetWebhook pretends a webhook is registered (as if by an earlier run), so
// getWebhookInfo reports it and getUpdates answers 409. "" removes it.
func (f *Fake) SetWebhook(url string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.webhookURL, f.webhookSecret = url, ""
}

// Fail queues one failure for the next call of method (FIFO: queue several
// for several calls). It takes precedence over the method's normal behaviour
// and is recorded like any call. The answer is Telegram's JSON error
// {"ok":false,"error_code":status,"description":...}; for 429 it carries
// parameters.retry_after = retryAfter. description "" picks Telegram's usual
// text (403: "Forbidden: bot was blocked by the user"). Status 502 instead
// answers an nginx HTML page, as Telegram's front end does when the Bot API
// is down; use FailRaw for any other non-JSON answer.
func (f *Fake) Fail(method string, status int, description string, retryAfter int) {
	rep := errorReply(status, description, retryAfter)
	if status == http.StatusBadGateway {
		rep = htmlReply(status)
	}
	f.queueFailure(method, rep)
}

// FailRaw queues one arbitrary answer for the next call of method, like
// Fail, for bodies Fail cannot express (migrate_to_chat_id, garbage, ...).
func (f *Fake) FailRaw(method string, status int, contentType, body string) {
	f.queueFailure(method, reply{status: status, contentType: contentType, body: []byte(body)})
}

func (f *Fake) queueFailure(method string, rep reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := strings.ToLower(method)
	f.failures[key] = append(f.failures[key], rep)
}

func (f *Fake) takeFailure(method string) (reply, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := strings.ToLower(method)
	queue := f.failures[key]
	if len(queue) == 0 {
		return reply{}, false
	}
	f.failures[key] = queue[1:]
	return queue[0], true
}

// PushUpdate queues an update for getUpdates and wakes waiting long polls.
// update is anything that marshals to a JSON object (a map, models.Update)
// or raw JSON (json.RawMessage, []byte, string). A missing or zero
// update_id is assigned, increasing; an explicit one is kept and later
// assigned ids continue above it.
func (f *Fake) PushUpdate(update any) {
	obj, err := updateObject(update)
	if err != nil {
		f.t.Errorf("telegramtest: PushUpdate(%T): %v", update, err)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var id int64
	if raw, ok := obj["update_id"]; ok {
		_ = json.Unmarshal(raw, &id) // non-numbers count as absent
	}
	if id == 0 {
		id = f.nextUpdateID
		obj["update_id"] = json.RawMessage(strconv.FormatInt(id, 10))
	}
	f.nextUpdateID = max(f.nextUpdateID, id+1)
	raw, _ := json.Marshal(obj) // cannot fail: every value is valid raw JSON
	f.updates = append(f.updates, pendingUpdate{id: id, raw: raw})
	slices.SortStableFunc(f.updates, func(a, b pendingUpdate) int { return cmp.Compare(a.id, b.id) })
	f.wakeLocked()
}

func updateObject(update any) (map[string]json.RawMessage, error) {
	var raw []byte
	switch u := update.(type) {
	case json.RawMessage:
		raw = u
	case []byte:
		raw = u
	case string:
		raw = []byte(u)
	default:
		var err error
		if raw, err = json.Marshal(update); err != nil {
			return nil, err
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if obj == nil { // JSON null
		return nil, errors.New("not a JSON object: null")
	}
	return obj, nil
}

// wakeLocked releases every parked long poll; they re-check their state.
func (f *Fake) wakeLocked() {
	close(f.wake)
	f.wake = make(chan struct{})
}

// ---- HTTP ----

// reply is an HTTP answer; status 0 means "write nothing" (client gone).
type reply struct {
	status      int
	contentType string
	body        []byte
}

type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result,omitempty"`
	ErrorCode   int             `json:"error_code,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  *apiParameters  `json:"parameters,omitempty"`
}

type apiParameters struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

func okReply(result any) reply {
	raw, err := marshal(result)
	if err != nil {
		return errorReply(http.StatusInternalServerError, "telegramtest: "+err.Error(), 0)
	}
	return jsonReply(http.StatusOK, apiResponse{OK: true, Result: raw})
}

func errorReply(status int, description string, retryAfter int) reply {
	if description == "" {
		description = defaultDescription(status, retryAfter)
	}
	resp := apiResponse{ErrorCode: status, Description: description}
	if status == http.StatusTooManyRequests {
		resp.Parameters = &apiParameters{RetryAfter: retryAfter}
	}
	return jsonReply(status, resp)
}

func defaultDescription(status, retryAfter int) string {
	switch status {
	case http.StatusBadRequest:
		return "Bad Request"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden: bot was blocked by the user"
	case http.StatusNotFound:
		return "Not Found"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusTooManyRequests:
		return fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
	case http.StatusInternalServerError:
		return "Internal Server Error"
	}
	return http.StatusText(status)
}

func jsonReply(status int, resp apiResponse) reply {
	body, _ := marshal(resp) // cannot fail: plain struct, result already raw JSON
	return reply{status: status, contentType: "application/json", body: body}
}

func htmlReply(status int) reply {
	title := fmt.Sprintf("%d %s", status, http.StatusText(status))
	body := "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" +
		title + "</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
	return reply{status: status, contentType: "text/html", body: []byte(body)}
}

// marshal is json.Marshal without HTML escaping, so recorded responses read
// like the texts that were sent.
func marshal(v any) (json.RawMessage, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(strings.TrimSuffix(b.String(), "\n")), nil
}

func (rep reply) write(w http.ResponseWriter) {
	if rep.status == 0 {
		return
	}
	w.Header().Set("Content-Type", rep.contentType)
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// ServeHTTP answers POST (or GET) <URL>/bot<token>/<method>.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	token, method, pathOK := splitPath(r.URL.Path)
	fields, parseErr := parseFields(r)
	i := f.begin(Call{Method: method, Fields: fields, At: at})
	req := request{ctx: r.Context(), fields: fields, parked: func() { f.show(i) }}
	var rep reply
	switch {
	case !pathOK:
		rep = errorReply(http.StatusNotFound, "Not Found", 0)
	case token != f.Token:
		rep = errorReply(http.StatusUnauthorized, "Unauthorized", 0)
	case parseErr != nil:
		rep = errorReply(http.StatusBadRequest, "Bad Request: "+parseErr.Error(), 0)
	default:
		rep = f.dispatch(method, req)
	}
	// Record before answering, so the call is visible once the client has
	// its response.
	f.finish(i, rep)
	rep.write(w)
}

func (f *Fake) dispatch(method string, req request) reply {
	if rep, ok := f.takeFailure(method); ok {
		return rep
	}
	handle, ok := handlers[strings.ToLower(method)]
	if !ok {
		return errorReply(http.StatusNotFound, "Not Found", 0)
	}
	return handle(f, req)
}

func (f *Fake) begin(c Call) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, recordedCall{Call: c})
	return len(f.calls) - 1
}

func (f *Fake) show(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[i].visible = true
}

func (f *Fake) finish(i int, rep reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[i].Status, f.calls[i].Response, f.calls[i].visible = rep.status, string(rep.body), true
}

// splitPath splits "/bot<token>/<method>".
func splitPath(path string) (token, method string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/bot")
	if !ok {
		return "", path, false
	}
	token, method, ok = strings.Cut(rest, "/")
	return token, method, ok && method != "" && !strings.Contains(method, "/")
}

// parseFields reads the parameters from the query string and the body.
func parseFields(r *http.Request) (map[string]string, error) {
	fields := map[string]string{}
	for k, v := range r.URL.Query() {
		fields[k] = v[0]
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "multipart/form-data":
		return fields, parseMultipart(r, fields)
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return fields, fmt.Errorf("can't parse form: %w", err)
		}
		for k, v := range r.PostForm {
			fields[k] = v[0]
		}
	case "application/json":
		return fields, parseJSONObject(r.Body, fields)
	}
	return fields, nil
}

func parseMultipart(r *http.Request, fields map[string]string) error {
	err := r.ParseMultipartForm(maxMultipartBytes)
	if errors.Is(err, io.EOF) {
		// go-telegram/bot sends an empty body (no closing boundary) for
		// methods without parameters, e.g. getMe.
		return nil
	}
	if err != nil {
		return fmt.Errorf("can't parse multipart body: %w", err)
	}
	for k, v := range r.MultipartForm.Value {
		fields[k] = v[0]
	}
	return nil
}

func parseJSONObject(body io.Reader, fields map[string]string) error {
	raw, err := io.ReadAll(body)
	if err != nil || len(strings.TrimSpace(string(raw))) == 0 {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return fmt.Errorf("can't parse JSON body: %w", err)
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

// ---- methods ----

// request is what a method handler gets.
type request struct {
	ctx    context.Context
	fields map[string]string
	parked func() // a long poll calls it when it starts waiting
}

type handlerFunc func(f *Fake, req request) reply

// handlers is keyed by lower-cased method: Telegram's method names are
// case-insensitive.
var handlers = map[string]handlerFunc{
	"getme":                  (*Fake).getMe,
	"sendmessage":            (*Fake).sendMessage,
	"editmessagetext":        (*Fake).editMessageText,
	"editmessagereplymarkup": (*Fake).editMessageReplyMarkup,
	"answercallbackquery":    returnTrue,
	"setmycommands":          returnTrue,
	"deletemycommands":       returnTrue,
	"setwebhook":             (*Fake).setWebhook,
	"deletewebhook":          (*Fake).deleteWebhook,
	"getwebhookinfo":         (*Fake).getWebhookInfo,
	"getupdates":             (*Fake).getUpdates,
	"getchatmember":          (*Fake).getChatMember,
}

func returnTrue(*Fake, request) reply { return okReply(true) }

func (f *Fake) getMe(request) reply { return okReply(botUser) }

func (f *Fake) setWebhook(req request) reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.webhookURL, f.webhookSecret = req.fields["url"], req.fields["secret_token"]
	if f.webhookURL == "" { // Telegram: an empty url removes the webhook
		f.webhookSecret = ""
	}
	f.dropPendingLocked(req.fields)
	return okReply(true)
}

func (f *Fake) deleteWebhook(req request) reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.webhookURL, f.webhookSecret = "", ""
	f.dropPendingLocked(req.fields)
	return okReply(true)
}

func (f *Fake) dropPendingLocked(fields map[string]string) {
	if fields["drop_pending_updates"] == "true" {
		f.updates = nil
	}
}

func (f *Fake) getWebhookInfo(request) reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	return okReply(map[string]any{
		"url":                    f.webhookURL,
		"has_custom_certificate": false,
		"pending_update_count":   len(f.updates),
	})
}

// ---- getUpdates ----

const (
	conflictWebhook = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	conflictPoller  = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)

// getUpdates confirms updates below offset, then answers at most limit
// pending updates, long polling up to timeout seconds while there are none.
// Like Telegram, a newer getUpdates ends a parked one with 409.
func (f *Fake) getUpdates(req request) reply {
	ctx, fields := req.ctx, req.fields
	offset := intField(fields, "offset", 0)
	limit := min(max(intField(fields, "limit", maxUpdatesPerPoll), 1), maxUpdatesPerPoll)
	timeout := max(intField(fields, "timeout", 0), 0)
	timer := time.NewTimer(time.Duration(timeout) * time.Second)
	defer timer.Stop()

	f.mu.Lock()
	if f.webhookURL != "" {
		f.mu.Unlock()
		return errorReply(http.StatusConflict, conflictWebhook, 0)
	}
	f.confirmLocked(offset)
	f.pollGen++
	gen := f.pollGen
	f.wakeLocked() // so an older parked poll notices it was superseded
	f.mu.Unlock()

	expired := timeout == 0
	for {
		f.mu.Lock()
		if f.pollGen != gen {
			f.mu.Unlock()
			if ctx.Err() != nil { // superseded because its client gave up
				return reply{}
			}
			return errorReply(http.StatusConflict, conflictPoller, 0)
		}
		if len(f.updates) > 0 || expired {
			batch := f.batchLocked(int(limit))
			f.mu.Unlock()
			return okReply(batch)
		}
		wake := f.wake
		f.mu.Unlock()
		req.parked()

		select {
		case <-wake:
		case <-timer.C:
			expired = true
		case <-f.done:
			expired = true
		case <-ctx.Done():
			return reply{} // client gone: nothing to answer
		}
	}
}

// confirmLocked forgets updates below offset; a negative offset keeps only
// the last -offset updates, as Telegram documents.
func (f *Fake) confirmLocked(offset int64) {
	if offset < 0 {
		f.updates = f.updates[max(len(f.updates)+int(offset), 0):]
		return
	}
	i := 0
	for i < len(f.updates) && f.updates[i].id < offset {
		i++
	}
	f.updates = f.updates[i:]
}

func (f *Fake) batchLocked(limit int) []json.RawMessage {
	batch := make([]json.RawMessage, 0, min(limit, len(f.updates)))
	for _, u := range f.updates[:min(limit, len(f.updates))] {
		batch = append(batch, u.raw)
	}
	return batch
}

func intField(fields map[string]string, name string, def int64) int64 {
	n, err := strconv.ParseInt(fields[name], 10, 64)
	if err != nil {
		return def
	}
	return n
}

// ---- validation ----

func badRequest(description string) (reply, bool) {
	return errorReply(http.StatusBadRequest, "Bad Request: "+description, 0), false
}

// checkChat accepts numeric chat ids only: the fake knows no @usernames.
func checkChat(fields map[string]string) (int64, reply, bool) {
	raw, ok := fields["chat_id"]
	if !ok || raw == "" {
		rep, _ := badRequest("chat_id is empty")
		return 0, rep, false
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		rep, _ := badRequest("chat not found")
		return 0, rep, false
	}
	return id, reply{}, true
}

// checkText validates text the way Telegram does: entities parsed first,
// then the length of the visible text counted in UTF-16 code units. Only
// parse_mode HTML is parsed; other text (MarkdownV2 too) is measured as is.
func checkText(fields map[string]string) (reply, bool) {
	text := fields["text"]
	if strings.EqualFold(fields["parse_mode"], "HTML") {
		plain, err := parseHTML(text)
		if err != nil {
			return badRequest("can't parse entities: " + err.Error())
		}
		text = plain
	}
	if strings.TrimSpace(text) == "" {
		return badRequest("message text is empty")
	}
	if utf16Len(text) > maxTextUTF16 {
		return badRequest("message is too long")
	}
	return reply{}, true
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// allowedTags are the tags of Telegram's HTML parse mode.
var allowedTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "a": true, "code": true, "pre": true,
	"tg-spoiler": true, "span": true, "blockquote": true, "tg-emoji": true,
}

// parseHTML checks text against a simplified Telegram HTML grammar (allowed
// tags, properly nested; entities &lt; &gt; &amp; &quot; &#N; &#xH;) and
// returns the visible text. Attributes are not checked.
func parseHTML(s string) (string, error) {
	var plain strings.Builder
	var open []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			name, closing, n, err := scanTag(s[i:])
			if err != nil {
				return "", fmt.Errorf("%v at byte offset %d", err, i)
			}
			if open, err = nest(open, name, closing); err != nil {
				return "", fmt.Errorf("%v at byte offset %d", err, i)
			}
			i += n
		case '&':
			r, n, ok := scanEntity(s[i:])
			if !ok {
				return "", fmt.Errorf("unsupported HTML entity at byte offset %d", i)
			}
			plain.WriteRune(r)
			i += n
		default:
			plain.WriteByte(s[i])
			i++
		}
	}
	if len(open) > 0 {
		return "", fmt.Errorf("can't find end tag corresponding to start tag %q", open[len(open)-1])
	}
	return plain.String(), nil
}

// nest pushes an opening tag or pops the matching closing one.
func nest(open []string, name string, closing bool) ([]string, error) {
	if !closing {
		return append(open, name), nil
	}
	if len(open) == 0 || open[len(open)-1] != name {
		return nil, fmt.Errorf("unmatched end tag %q", name)
	}
	return open[:len(open)-1], nil
}

// scanTag reads the tag at the start of s ("<b>", "</b>",
// `<a href="...">`) and returns its lower-cased name and length.
func scanTag(s string) (name string, closing bool, n int, err error) {
	i := 1
	if i < len(s) && s[i] == '/' {
		closing = true
		i++
	}
	start := i
	for i < len(s) && (isASCIILetter(s[i]) || s[i] == '-') {
		i++
	}
	name = strings.ToLower(s[start:i])
	if name == "" {
		return "", false, 0, errors.New("unexpected \"<\"")
	}
	if !allowedTags[name] {
		return "", false, 0, fmt.Errorf("unsupported tag %q", name)
	}
	end := tagEnd(s, i, closing)
	if end < 0 {
		return "", false, 0, fmt.Errorf("unclosed tag %q", name)
	}
	return name, closing, end + 1, nil
}

// tagEnd returns the index of the '>' ending a tag whose name ends at i:
// end tags allow only spaces before it, start tags attributes with quoted
// values (which may contain '>').
func tagEnd(s string, i int, closing bool) int {
	var quote byte
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '>':
			return i
		case closing && c != ' ':
			return -1
		case c == '"' || c == '\'':
			quote = c
		}
	}
	return -1
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

var namedEntities = map[string]rune{"lt": '<', "gt": '>', "amp": '&', "quot": '"'}

// scanEntity reads the entity at the start of s ("&amp;", "&#38;",
// "&#x26;") and returns its rune and length.
func scanEntity(s string) (rune, int, bool) {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 10 {
		return 0, 0, false
	}
	body := s[1:end]
	if r, ok := namedEntities[body]; ok {
		return r, end + 1, true
	}
	num, ok := strings.CutPrefix(body, "#")
	if !ok {
		return 0, 0, false
	}
	base := 10
	if hex, ok := strings.CutPrefix(strings.ToLower(num), "x"); ok {
		num, base = hex, 16
	}
	n, err := strconv.ParseUint(num, base, 32)
	if err != nil || !utf8.ValidRune(rune(n)) {
		return 0, 0, false
	}
	return rune(n), end + 1, true
}
