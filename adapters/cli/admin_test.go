package cli_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/storage/storagetest"
)

var setupLink = regexp.MustCompile(`https://bot\.example\.edu/admin/setup\?token=[A-Za-z0-9_-]+`)

func TestAdminCommands(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		env := map[string]string{"DATABASE_URL": d.URL, "PUBLIC_URL": "https://bot.example.edu/"}
		r := run(t, env, "", "admin", "add", "ada", "--role", "admin")
		require.Zero(t, r.code, r.stderr)
		require.Contains(t, r.stdout, "Added ada (admin).")
		first := setupLink.FindString(r.stdout)
		require.NotEmpty(t, first, r.stdout)

		r = run(t, env, "", "admin", "add", "ada")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "exists")
		r = run(t, env, "", "admin", "add", "bob", "--role", "boss")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "--role")
		r = run(t, env, "", "admin", "add", "<b>bob</b>")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "USER")

		r = run(t, env, "", "admin", "add", "ann")
		require.Zero(t, r.code, r.stderr)
		r = run(t, env, "", "admin", "list")
		require.Zero(t, r.code, r.stderr)
		require.Regexp(t, `ada\s+admin\s+not yet`, r.stdout)
		require.Regexp(t, `ann\s+agent\s+not yet`, r.stdout)

		r = run(t, env, "", "admin", "link", "ada")
		require.Zero(t, r.code, r.stderr)
		require.NotEqual(t, first, setupLink.FindString(r.stdout), "a fresh link")
		r = run(t, env, "", "admin", "link", "nobody")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "no console user")

		r = run(t, env, "", "admin", "remove", "ann")
		require.Zero(t, r.code, r.stderr)
		r = run(t, env, "", "admin", "remove", "ann")
		require.Equal(t, 1, r.code)
		r = run(t, env, "", "audit")
		require.Zero(t, r.code, r.stderr)
		require.Contains(t, r.stdout, "console.user")
	})
}
