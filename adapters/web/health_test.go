package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/web"
	"activation-bot/storage/storagetest"
)

func TestHealthAndReadiness(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		srv := httptest.NewServer(web.Routes(d.DB, slog.New(slog.NewTextHandler(io.Discard, nil))))
		defer srv.Close()
		status := func(path string) int {
			resp, err := http.Get(srv.URL + path)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		require.Equal(t, http.StatusOK, status("/healthz"))
		require.Equal(t, http.StatusOK, status("/readyz"))
		require.Equal(t, http.StatusNotFound, status("/nope"))

		require.NoError(t, d.DB.Close())
		require.Equal(t, http.StatusOK, status("/healthz"), "the process still lives")
		require.Equal(t, http.StatusServiceUnavailable, status("/readyz"), "but takes no traffic without its database")
	})
}
