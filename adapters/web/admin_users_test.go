package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

var setupLinkRe = regexp.MustCompile(`value="(http://localhost:8080/admin/setup\?token=[A-Za-z0-9_-]+)"`)

func TestUsersPageAddsLinksAndRemoves(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		ctx := context.Background()
		c := storage.NewConsole(s.DB)
		admin := s.login("ada", storage.RoleAdmin)

		status, body := admin.get("/admin/users")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, `aria-current="page">Users`)
		require.Contains(t, body, `ada <span class="badge">you</span>`)
		require.NotContains(t, body, "/admin/users/ada/remove", "no button to remove yourself")

		// Add: the page itself shows the link (no redirect carries it).
		status, body, resp := admin.submit("/admin/users", "/admin/users", url.Values{"name": {"ann"}, "role": {"admin"}})
		require.Equal(t, http.StatusOK, status)
		require.Empty(t, resp.Header.Get("Location"))
		require.Contains(t, body, "Console user added.")
		m := setupLinkRe.FindStringSubmatch(body)
		require.NotNil(t, m, "the one-time link is shown")
		require.Contains(t, body, "/admin/users/ann/remove", "ann is listed")
		u, err := c.User(ctx, "ann")
		require.NoError(t, err)
		require.Equal(t, storage.RoleAdmin, u.Role)
		require.Empty(t, u.PasswordHash)

		// The link works.
		path := strings.TrimPrefix(m[1], "http://localhost:8080")
		status, body = s.browser().get(path)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "Set your password")
		require.Contains(t, body, "ann")

		// A duplicate is refused with a clear message.
		status, body, _ = admin.submit("/admin/users", "/admin/users", url.Values{"name": {"ann"}, "role": {"agent"}})
		require.Equal(t, http.StatusConflict, status)
		require.Contains(t, body, "A console user named ann exists already")
		require.Nil(t, setupLinkRe.FindStringSubmatch(body))

		// A new link, the same way.
		status, body, _ = admin.submit("/admin/users", "/admin/users/ann/link", nil)
		require.Equal(t, http.StatusOK, status)
		m2 := setupLinkRe.FindStringSubmatch(body)
		require.NotNil(t, m2)
		require.NotEqual(t, m[1], m2[1])
		status, _, _ = admin.submit("/admin/users", "/admin/users/nobody/link", nil)
		require.Equal(t, http.StatusNotFound, status)

		// Not yourself.
		status, body, _ = admin.submit("/admin/users", "/admin/users/ada/remove", nil)
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "You cannot remove yourself")
		_, err = c.User(ctx, "ada")
		require.NoError(t, err)

		// Another user: gone, and their open session ends.
		bob := s.login("bob", storage.RoleAgent)
		status, _ = bob.get("/admin/tickets")
		require.Equal(t, http.StatusOK, status)
		status, _, resp = admin.submit("/admin/users", "/admin/users/bob/remove", nil)
		require.Equal(t, http.StatusSeeOther, status)
		require.Equal(t, "/admin/users?done=user_removed", resp.Header.Get("Location"))
		_, err = c.User(ctx, "bob")
		require.ErrorIs(t, err, bot.ErrNotFound)
		status, _ = bob.get("/admin/tickets")
		require.Equal(t, http.StatusSeeOther, status, "bob's session is over")
		_, body = admin.get("/admin/users?done=user_removed")
		require.Contains(t, body, "Console user removed.")
		require.NotContains(t, body, "bob")
		status, _, _ = admin.submit("/admin/users", "/admin/users/bob/remove", nil)
		require.Equal(t, http.StatusNotFound, status)

		// Each change is in the audit log.
		var details []string
		require.NoError(t, s.DB.SelectContext(ctx, &details, s.DB.Rebind(
			`SELECT detail FROM audit_log WHERE action = ? AND actor = ? ORDER BY id`), storage.ActionUser, "web:ada"))
		require.Equal(t, []string{"added as admin", "new password link", "removed"}, details)
	})
}

func TestUsersPageRefusals(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		ctx := context.Background()
		c := storage.NewConsole(s.DB)
		admin := s.login("ada", storage.RoleAdmin)
		agent := s.login("ann", storage.RoleAgent)
		count := func() int {
			us, err := c.Users(ctx)
			require.NoError(t, err)
			return len(us)
		}
		require.Equal(t, 2, count())

		// An agent may neither see nor change users.
		status, _ := agent.get("/admin/users")
		require.Equal(t, http.StatusForbidden, status)
		token := agent.csrf("/admin/tickets")
		for _, path := range []string{"/admin/users", "/admin/users/ada/link", "/admin/users/ada/remove"} {
			status, body, _ := agent.post(path, url.Values{"csrf": {token}, "name": {"eve"}, "role": {"admin"}})
			require.Equal(t, http.StatusForbidden, status, path)
			require.NotContains(t, body, "/admin/setup?token=")
		}
		require.Equal(t, 2, count())

		// Without the form's token nothing changes.
		for _, path := range []string{"/admin/users", "/admin/users/ann/link", "/admin/users/ann/remove"} {
			status, body, _ := admin.post(path, url.Values{"name": {"eve"}, "role": {"admin"}})
			require.Equal(t, http.StatusForbidden, status, path)
			require.NotContains(t, body, "/admin/setup?token=")
		}
		require.Equal(t, 2, count())

		// Names and roles are validated, and what is shown back is escaped.
		status, body, _ := admin.submit("/admin/users", "/admin/users", url.Values{"name": {"<b>x</b>"}, "role": {"agent"}})
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "Choose a user name")
		require.NotContains(t, body, "<b>x</b>")
		require.Contains(t, body, `value="&lt;b&gt;x&lt;/b&gt;"`)
		status, body, _ = admin.submit("/admin/users", "/admin/users", url.Values{"name": {"eve"}, "role": {"root"}})
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "Choose the role")
		status, _, _ = admin.submit("/admin/users", "/admin/users", url.Values{"name": {strings.Repeat("a", 65)}, "role": {"agent"}})
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, 2, count())
		var audits int
		require.NoError(t, s.DB.GetContext(ctx, &audits, s.DB.Rebind(`SELECT COUNT(*) FROM audit_log WHERE action = ?`), storage.ActionUser))
		require.Zero(t, audits)

		// A name a path cannot carry plainly still reaches its user.
		status, body, _ = admin.submit("/admin/users", "/admin/users", url.Values{"name": {"e.ve@x-y_z"}, "role": {"agent"}})
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "e.ve@x-y_z")
		status, _, _ = admin.submit("/admin/users", "/admin/users/e.ve@x-y_z/remove", nil)
		require.Equal(t, http.StatusSeeOther, status)
		require.Equal(t, 2, count())
	})
}
