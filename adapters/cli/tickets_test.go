package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTicketsCommands reports a problem in the terminal chat, then works
// the ticket from the CLI as an agent would.
func TestTicketsCommands(t *testing.T) {
	env := sqliteEnv(t)
	r := run(t, env, "hi\n{\"button\":\"report\"}\n{\"button\":\"problem:wrong_name\"}\nMy name is misspelled\n",
		"chat", "--json", "--user", "anna")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"intent":"ticket_created"`)

	r = run(t, env, "", "tickets", "list", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list), r.stdout)
	require.Len(t, list, 1)
	require.EqualValues(t, 1, list[0]["id"])
	require.Equal(t, "console:anna", list[0]["student"])
	require.Equal(t, "open", list[0]["status"])
	require.Equal(t, "wrong_name", list[0]["category"])
	require.NotEmpty(t, list[0]["created_at"])

	r = run(t, env, "", "tickets", "reply", "1", "We", "corrected", "it.")
	require.Equal(t, 0, r.code, r.stderr)
	r = run(t, env, "", "tickets", "show", "#1")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "Ticket #1: Wrong name on my account")
	require.Contains(t, r.stdout, "Description: My name is misspelled")
	require.Contains(t, r.stdout, "We corrected it.")
	require.Contains(t, r.stdout, "claimed by")

	r = run(t, env, "", "tickets", "resolve", "1")
	require.Equal(t, 0, r.code, r.stderr)
	r = run(t, env, "", "tickets", "list", "--status", "resolved")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "#1")
	r = run(t, env, "", "tickets", "list", "--status", "open")
	require.Equal(t, "no tickets", strings.TrimSpace(r.stdout))

	require.Equal(t, 0, run(t, env, "", "tickets", "reopen", "1").code)
	require.Equal(t, 0, run(t, env, "", "tickets", "resolve", "1").code)
	require.Equal(t, 0, run(t, env, "", "tickets", "resolve", "1").code, "resolving twice changes nothing")
	me := operatorIdentity(t)
	require.Equal(t, []auditRow{
		{Actor: me, Action: "ticket.resolve", Subject: "ticket #1"},
		{Actor: me, Action: "ticket.reopen", Subject: "ticket #1"},
		{Actor: me, Action: "ticket.resolve", Subject: "ticket #1"},
		{Actor: me, Action: "ticket.reply", Subject: "ticket #1", Detail: "claimed by answering"},
	}, auditLog(t, env), "every action, newest first, without the answer's text")
	require.Len(t, auditLog(t, env, "--since", time.Now().UTC().Format(time.DateOnly)), 4)
	require.Empty(t, auditLog(t, env, "--since", time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)))
	r = run(t, env, "", "audit")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "ticket.reply")
}

func TestTicketsCommandErrors(t *testing.T) {
	env := sqliteEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tickets", "list", "--status", "lost"}, "--status:"},
		{[]string{"tickets", "show", "abc"}, "not a ticket number"},
		{[]string{"tickets", "show", "7"}, "ticket #7: no such ticket"},
		{[]string{"tickets", "resolve", "7"}, "ticket #7: no such ticket"},
		{[]string{"tickets", "reply", "7", " "}, "the answer is empty"},
	} {
		r := run(t, env, "", tc.args...)
		require.Equal(t, 1, r.code, tc.args)
		require.Contains(t, r.stderr, tc.want)
	}
}
