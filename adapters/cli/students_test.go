package cli_test

import (
	"encoding/json"
	"os/user"
	"regexp"
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

var linkCode = regexp.MustCompile(`Your link code: ([0-9A-Z]{8})`)

// TestStudentsUnlink links two terminal chats with /link, shows both
// identities, refuses to unlink without a confirmation, then unlinks one
// and finds it in the audit log; the last identity stays.
func TestStudentsUnlink(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		env := map[string]string{"DATABASE_URL": d.URL}
		r := run(t, env, "hi\n/link\n", "chat", "--json", "--user", "anna")
		require.Equal(t, 0, r.code, r.stderr)
		code := linkCode.FindStringSubmatch(r.stdout)
		require.NotNil(t, code, r.stdout)
		r = run(t, env, code[1]+"\n/link prefer\n", "chat", "--json", "--user", "anna-phone")
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, `"intent":"linked"`)

		r = run(t, env, "", "students", "show", "console:anna")
		require.Equal(t, 0, r.code, r.stderr)
		require.Regexp(t, `Identity: console:anna \(chat anna\), last used \d{4}-\d\d-\d\d \d\d:\d\d\n`, r.stdout)
		require.Regexp(t, `Identity: console:anna-phone \(chat anna-phone\), last used [\d :-]+, preferred\n`, r.stdout)
		student := regexp.MustCompile(`Student #(\d+)`).FindStringSubmatch(r.stdout)[1]

		// No --yes and no terminal, or not confirmed: nothing is unlinked.
		r = run(t, env, "yes\n", "students", "unlink", "console:anna-phone")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stdout, "This detaches console:anna-phone from student #"+student+" (2 identities)")
		require.Contains(t, r.stderr, "nothing unlinked: standard input is not a terminal; add --yes")
		r = runAt(t, env, true, "no\n", "students", "unlink", "console:anna-phone")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "nothing unlinked: not confirmed")
		r = run(t, env, "", "students", "show", "console:anna-phone")
		require.Contains(t, r.stdout, "Student #"+student, "still linked")
		unlinks := func() []auditRow {
			var rows []auditRow
			for _, row := range auditLog(t, env) {
				if row.Action == "student.unlink" {
					rows = append(rows, row)
				}
			}
			return rows
		}
		require.Empty(t, unlinks())

		r = runAt(t, env, true, "yes\n", "students", "unlink", "console:anna-phone")
		require.Equal(t, 0, r.code, r.stderr)
		now := regexp.MustCompile(`console:anna-phone is now student (\d+) \(was (\d+)\)\n`).FindStringSubmatch(r.stdout)
		require.NotNil(t, now, r.stdout)
		require.Equal(t, student, now[2])
		require.NotEqual(t, student, now[1])
		r = run(t, env, "", "students", "show", "console:anna-phone")
		require.Contains(t, r.stdout, "Student #"+now[1])
		require.Contains(t, r.stdout, "Accounts: not started", "it starts over")
		r = run(t, env, "", "students", "show", "console:anna")
		require.Contains(t, r.stdout, "Student #"+student, "anna stays")
		require.NotContains(t, r.stdout, "Identity: console:anna-phone")
		require.Equal(t, []auditRow{{Actor: operatorIdentity(t), Action: "student.unlink", Subject: "student #" + student,
			Detail: "an identity (console) now is student #" + now[1]}}, unlinks())

		// The last identity cannot be unlinked, asked or not.
		r = run(t, env, "", "students", "unlink", "console:anna", "--yes")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "nothing unlinked: console:anna is the only identity of student #"+student)
		r = runAt(t, env, true, "yes\n", "students", "unlink", "console:anna")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "nothing unlinked: console:anna is the only identity")
		require.Len(t, unlinks(), 1)
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
		{[]string{"students", "unlink", "telegram:42", "--yes"}, "identity telegram:42: no such identity"},
		{[]string{"students", "unlink", "telegram:42"}, "identity telegram:42: no such identity"},
		{[]string{"students", "unlink", "7"}, `"7" is not an identity such as telegram:42`},
		{[]string{"audit", "--since", "yesterday"}, "--since:"},
	} {
		r := run(t, env, "", tc.args...)
		require.Equal(t, 1, r.code, tc.args)
		require.Contains(t, r.stderr, tc.want)
	}
}
