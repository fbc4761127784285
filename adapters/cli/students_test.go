package cli_test

import (
	"encoding/json"
	"os/user"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/storage/storagetest"
)

// operatorIdentity is who the CLI says the operator is.
func operatorIdentity(t *testing.T) string {
	u, err := user.Current()
	require.NoError(t, err)
	return "console:" + u.Username
}

type auditRow struct {
	Actor, Action, Subject, Detail string
}

func auditLog(t *testing.T, env map[string]string, args ...string) []auditRow {
	t.Helper()
	r := run(t, env, "", append([]string{"audit", "--json"}, args...)...)
	require.Equal(t, 0, r.code, r.stderr)
	var rows []auditRow
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rows), r.stdout)
	return rows
}

// TestStudentsShowAndErase looks a student up, refuses to erase without a
// confirmation, then erases them and finds it in the audit log.
func TestStudentsShowAndErase(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		env := map[string]string{"DATABASE_URL": d.URL}
		r := run(t, env, "hi\nmy password is Hunter2!xyz\n{\"button\":\"report\"}\n{\"button\":\"problem:wrong_name\"}\nMy name is misspelled\n",
			"chat", "--json", "--user", "anna")
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, 0, run(t, env, "hi\n", "chat", "--json", "--user", "bert").code)

		for _, ref := range []string{"console:anna", "1", "#1"} {
			r = run(t, env, "", "students", "show", ref)
			require.Equal(t, 0, r.code, r.stderr)
			for _, want := range []string{"Student #1", "Identity: console:anna", "Language: en",
				"Opted out of proactive messages: no", "Open ticket: #1 wrong_name (open)", "student: hi", "Last "} {
				require.Contains(t, r.stdout, want)
			}
			require.NotContains(t, r.stdout, "Hunter2", "the transcript is redacted")
		}

		// No --yes and no terminal: nothing is erased, and it says what would be.
		r = run(t, env, "yes\n", "students", "erase", "console:anna")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stdout, "1 identity")
		require.Contains(t, r.stdout, "1 ticket")
		require.Contains(t, r.stderr, "nothing erased: standard input is not a terminal; add --yes")
		r = runAt(t, env, true, "no\n", "students", "erase", "1")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "nothing erased: not confirmed")
		require.Equal(t, 0, run(t, env, "", "students", "show", "console:anna").code, "still there")
		require.Empty(t, auditLog(t, env))

		r = runAt(t, env, true, "yes\n", "students", "erase", "console:anna")
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "student #1 erased")
		r = run(t, env, "", "students", "show", "console:anna")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "student console:anna: no such student")
		r = run(t, env, "", "tickets", "list")
		require.Equal(t, "no tickets\n", r.stdout, "the student's tickets went with them")

		r = run(t, env, "", "students", "erase", "console:bert", "--yes")
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, []auditRow{
			{Actor: operatorIdentity(t), Action: "student.erase", Subject: "student #2"},
			{Actor: operatorIdentity(t), Action: "student.erase", Subject: "student #1"},
		}, auditLog(t, env))
		require.Len(t, auditLog(t, env, "--limit", "1"), 1)

		var left int
		require.NoError(t, d.DB.Get(&left, `SELECT (SELECT COUNT(*) FROM students) + (SELECT COUNT(*) FROM transcript) +
			(SELECT COUNT(*) FROM outbox WHERE student_id IS NOT NULL)`))
		require.Zero(t, left)
	})
}

func TestStudentsErrors(t *testing.T) {
	env := sqliteEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"students", "show", "telegram:42"}, "student telegram:42: no such student"},
		{[]string{"students", "show", "7"}, "student 7: no such student"},
		{[]string{"students", "erase", "7", "--yes"}, "student 7: no such student"},
		{[]string{"students", "erase", "slack:T1:U1"}, "student slack:T1:U1: no such student"},
		{[]string{"students", "show", "anna"}, "neither a student number"},
		{[]string{"audit", "--since", "yesterday"}, "--since:"},
	} {
		r := run(t, env, "", tc.args...)
		require.Equal(t, 1, r.code, tc.args)
		require.Contains(t, r.stderr, tc.want)
	}
}
