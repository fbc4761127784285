package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

func TestConsoleLoginAndRoles(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		anon := s.browser()
		status, _ := anon.get("/admin/funnel")
		require.Equal(t, http.StatusSeeOther, status, "anonymous pages go to the login")
		status, _, _ = anon.post("/admin/logout", url.Values{})
		require.Equal(t, http.StatusUnauthorized, status)

		agent := s.login("ann", storage.RoleAgent)
		status, _ = agent.get("/admin/tickets")
		require.Equal(t, http.StatusOK, status)
		status, _ = agent.get("/admin/funnel")
		require.Equal(t, http.StatusForbidden, status, "an agent sees tickets only")

		admin := s.login("ada", storage.RoleAdmin)
		status, body := admin.get("/admin/funnel")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "ada")

		// A post without the session's token changes nothing.
		status, _, _ = admin.post("/admin/logout", url.Values{})
		require.Equal(t, http.StatusForbidden, status)
		status, _ = admin.get("/admin/funnel")
		require.Equal(t, http.StatusOK, status, "still logged in")
		status, _, _ = admin.submit("/admin/funnel", "/admin/logout", nil)
		require.Equal(t, http.StatusSeeOther, status)
		status, _ = admin.get("/admin/funnel")
		require.Equal(t, http.StatusSeeOther, status, "logged out")
	})
}

func TestConsoleLoginFailuresAreLimited(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		s.consoleUser("ada", storage.RoleAdmin, "correct horse battery")
		b := s.browser()
		for range 6 { // logging in works however often: only failures count
			status, _, _ := s.browser().submit("/admin/login", "/admin/login", url.Values{"name": {"ada"}, "password": {"correct horse battery"}})
			require.Equal(t, http.StatusSeeOther, status)
		}
		for i := range 5 {
			status, body, _ := b.submit("/admin/login", "/admin/login", url.Values{"name": {"ada"}, "password": {"wrong"}})
			require.Equal(t, http.StatusUnauthorized, status, "attempt %d", i+1)
			require.Contains(t, body, "Wrong user name or password")
		}
		status, body, resp := b.submit("/admin/login", "/admin/login", url.Values{"name": {"ada"}, "password": {"correct horse battery"}})
		require.Equal(t, http.StatusTooManyRequests, status, "even the right password waits")
		require.Contains(t, body, "Too many attempts")
		require.NotEmpty(t, resp.Header.Get("Retry-After"))

		// Without the form's token, no attempt is even counted.
		status, _, _ = s.browser().post("/admin/login", url.Values{"name": {"x"}, "password": {"y"}})
		require.Equal(t, http.StatusForbidden, status)
	})
}

func TestFirstAdminLinkCreatesTheAdminOnce(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		ctx := context.Background()
		link, err := FirstAdminLink(ctx, s.DB, "http://localhost:8080")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(link, "http://localhost:8080/admin/setup?token="))
		path := strings.TrimPrefix(link, "http://localhost:8080")
		token, err := url.Parse(path)
		require.NoError(t, err)

		b := s.browser()
		status, body := b.get(path)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "Create the first admin")
		form := url.Values{"token": {token.Query().Get("token")}, "name": {"ada"}, "password": {"short"}, "confirm": {"short"}}
		status, body, _ = b.submit(path, "/admin/setup", form)
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "at least 10")

		form.Set("password", "a long enough secret")
		form.Set("confirm", "a long enough secret")
		status, _, resp := b.submit(path, "/admin/setup", form)
		require.Equal(t, http.StatusSeeOther, status)
		require.Contains(t, resp.Header.Get("Location"), "/admin")
		status, _ = b.get("/admin/funnel")
		require.Equal(t, http.StatusOK, status, "logged in as the new admin")

		status, _ = s.browser().get(path)
		require.Equal(t, http.StatusGone, status, "the link works once")
		again, err := FirstAdminLink(ctx, s.DB, "http://localhost:8080")
		require.NoError(t, err)
		require.Empty(t, again, "no link once an admin exists")

		// An added user sets their password through their own link.
		_, err = storage.NewConsole(s.DB).AddUser(ctx, "ann", storage.RoleAgent)
		require.NoError(t, err)
		link, err = SetupLink(ctx, s.DB, "http://localhost:8080", "ann")
		require.NoError(t, err)
		path = strings.TrimPrefix(link, "http://localhost:8080")
		u, _ := url.Parse(path)
		c := s.browser()
		status, body = c.get(path)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "ann")
		status, _, _ = c.submit(path, "/admin/setup", url.Values{"token": {u.Query().Get("token")},
			"password": {"another long secret"}, "confirm": {"another long secret"}})
		require.Equal(t, http.StatusSeeOther, status)
		status, _ = c.get("/admin/funnel")
		require.Equal(t, http.StatusForbidden, status, "an agent, logged in")
	})
}
