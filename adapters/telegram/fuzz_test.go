package telegram_test

import (
	"net/http"
	"testing"
)

// FuzzWebhook: whatever body reaches the webhook with the right secret,
// the answer is 200 (an update, read or ignored) or a 4xx, never a panic
// or a 5xx.
func FuzzWebhook(f *testing.F) {
	for _, s := range []string{
		`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"from":{"id":5,"is_bot":false},"text":"hi"}}`,
		`{"update_id":2,"callback_query":{"id":"q","from":{"id":5,"is_bot":false},"data":"start_activation"}}`,
		`{"update_id":3,"callback_query":{"id":"q","from":{"id":5},"message":{"message_id":1,"date":0,"chat":{"id":5,"type":"private"}},"data":"` + string(make([]byte, 70)) + `"}}`,
		`{"update_id":4,"message":{"chat":{"id":-1,"type":"group"},"from":{"id":5},"text":"/start@test_bot","entities":[{"type":"bot_command","offset":0,"length":99}]}}`,
		`{"update_id":5,"my_chat_member":{"chat":{"id":5,"type":"private"},"from":{"id":5},"new_chat_member":{"status":"kicked"}}}`,
		`{"update_id":6,"edited_message":{"chat":{"id":5,"type":"private"},"from":{"id":5},"text":"x"}}`,
		`{"update_id":-1}`, `{"update_id":1e99}`, `{"update_id":null}`, `{}`, `null`, `"x"`, ``, `{"update_id":7,"message":null}`,
		`{"update_id":8,"message":{"chat":{"id":"5"},"text":5}}`,
		`{"update_id":9,"message":{"chat":{"id":-1,"type":"group"},"from":{"id":5},"text":"/x","entities":[{"type":"bot_command","offset":1,"length":9223372036854775807}]}}`,
		// The helpdesk group: a ticket button, a reply to the bot, odd shapes of both.
		`{"update_id":10,"callback_query":{"id":"q","from":{"id":5,"is_bot":false},"message":{"message_id":3,"date":1,"chat":{"id":-100,"type":"supergroup"}},"data":"ticket_claim:12"}}`,
		`{"update_id":11,"callback_query":{"id":"q","from":{"id":5},"message":{"message_id":-3,"date":0,"chat":{"id":-100}},"data":"ticket_resolve:99999999999999999999"}}`,
		`{"update_id":12,"message":{"message_id":4,"chat":{"id":-100,"type":"supergroup"},"from":{"id":5},"text":"ok","reply_to_message":{"message_id":3,"chat":{"id":-100},"from":{"id":1,"is_bot":true}}}}`,
		`{"update_id":13,"message":{"message_id":4,"chat":{"id":-100},"from":{"id":5},"text":"ok","reply_to_message":{"message_id":"3","reply_to_message":null}}}`,
		`{"update_id":14,"edited_message":{"chat":{"id":-100},"from":{"id":5},"text":"x","reply_to_message":{"message_id":3}}}`,
	} {
		f.Add([]byte(s))
	}
	h := newHarness(f, "sqlite", options{noQueue: true, helpdesk: -100})
	f.Fuzz(func(t *testing.T, body []byte) {
		status := h.postAs(t, body, secret)
		if status != http.StatusOK && (status < 400 || status > 499) {
			t.Fatalf("webhook answered %d to %q", status, body)
		}
	})
}
