package slack_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"activation-bot/adapters/slack"
)

// FuzzEvents: any signed body on the events endpoint gets 200 or a 4xx,
// never a panic or a 5xx.
func FuzzEvents(f *testing.F) {
	for _, s := range []string{
		`{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"message","channel_type":"im","channel":"D1","user":"U1","text":"hi","ts":"1.1"}}`,
		`{"type":"event_callback","team_id":"T1","event_id":"Ev2","event":{"type":"app_mention","channel":"C1","user":"U1","text":"<@U0BOT>","ts":"1.1"}}`,
		`{"type":"event_callback","team_id":"T1","event_id":"Ev3","event":{"type":"app_home_opened","channel":"D1","user":"U1","tab":"home"}}`,
		`{"type":"event_callback","team_id":"T1","event_id":"Ev4","event":{"type":"message","subtype":"message_changed","message":{}}}`,
		`{"type":"event_callback","team_id":"T1","event_id":"Ev5","event":"not an object"}`,
		`{"type":"event_callback","team_id":"T1","event_id":"Ev6","event":{"type":"message","channel_type":"channel","channel":"C0HELP","user":"U1","text":"see <https://x.example/a?b=1&amp;c|here>","ts":"1.2","thread_ts":"1.1"}}`,
		`{"type":"event_callback","team_id":"T1","event_id":"Ev7","event":{"type":"app_mention","channel":"C0HELP","user":"U1","text":"<@U0BOT>","ts":"1.2","thread_ts":"1.1"}}`,
		`{"type":"url_verification","challenge":"c"}`, `{"type":"app_rate_limited"}`, `{}`, `[]`, `null`, ``, `{"type":5}`,
	} {
		f.Add([]byte(s))
	}
	h := newHarness(f, "sqlite", options{noQueue: true, helpdesk: true})
	f.Fuzz(func(t *testing.T, body []byte) {
		status, _ := h.postSigned(t, slack.EventsPath, "application/json", body, sign(body, time.Now(), signingSecret))
		if status != http.StatusOK && (status < 400 || status > 499) {
			t.Fatalf("events answered %d to %q", status, body)
		}
	})
}

// FuzzInteractions: any signed interaction payload gets 200 or a 4xx.
func FuzzInteractions(f *testing.F) {
	for _, s := range []string{
		`{"type":"block_actions","trigger_id":"t","user":{"id":"U1","team_id":"T1"},"team":{"id":"T1"},"container":{"type":"message","message_ts":"1.1","channel_id":"D1"},"channel":{"id":"D1"},"message":{"text":"x","ts":"1.1"},"actions":[{"action_id":"choice:x","value":"start_activation","text":{"text":"Start"}}]}`,
		`{"type":"block_actions","trigger_id":"t","user":{"id":"U1","team_id":"T1","name":"ann"},"team":{"id":"T1"},"container":{"type":"message","message_ts":"1.1","channel_id":"C0HELP"},"channel":{"id":"C0HELP"},"actions":[{"action_id":"ticket_claim:12","value":"ticket_claim:12","action_ts":"1.3"}]}`,
		`{"type":"block_actions","user":{"id":"U1"},"actions":[]}`,
		`{"type":"view_submission"}`, `{"type":"block_actions","actions":[{"value":null}]}`, `{}`, `"x"`, ``,
	} {
		f.Add(s)
	}
	h := newHarness(f, "sqlite", options{noQueue: true, helpdesk: true})
	f.Fuzz(func(t *testing.T, payload string) {
		body := []byte(url.Values{"payload": {payload}}.Encode())
		status, _ := h.postSigned(t, slack.InteractionsPath, "application/x-www-form-urlencoded", body, sign(body, time.Now(), signingSecret))
		if status != http.StatusOK && (status < 400 || status > 499) {
			t.Fatalf("interactions answered %d to %q", status, payload)
		}
	})
}
