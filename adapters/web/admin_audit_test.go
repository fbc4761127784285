package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

func TestAuditPage(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		admin := s.login("ada", storage.RoleAdmin)
		// A user added from the console (audited).
		status, _, _ := admin.submit("/admin/users", "/admin/users", url.Values{"name": {"bea.smith"}, "role": {"agent"}})
		require.Equal(t, http.StatusOK, status)

		status, body := admin.get("/admin/audit")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "console.login", "the admin's own login")
		require.Contains(t, body, "console.user")
		require.Contains(t, body, "web:bea.smith")
		require.Less(t, strings.Index(body, "console.user"), strings.Index(body, "console.login"), "newest first")

		status, body = admin.get("/admin/audit?since=2999-01-01")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "Nothing logged since that day")
		status, body = admin.get("/admin/audit?since=yesterday")
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "is not a date")

		agent := s.login("ann", storage.RoleAgent)
		status, _ = agent.get("/admin/audit")
		require.Equal(t, http.StatusForbidden, status)
		status, _ = s.browser().get("/admin/audit")
		require.Equal(t, http.StatusSeeOther, status)
	})
}
