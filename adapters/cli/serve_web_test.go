package cli_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/cli"
)

// lockedBuffer is a buffer that serve writes to while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var firstAdminLink = regexp.MustCompile(`http://localhost:\d+/admin/setup\?token=[A-Za-z0-9_-]+`)
var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// With no token at all, serve is the web chat and the console on
// localhost: the first admin's link is printed at start.
func TestServeWithNoTokensIsTheWebChatAndTheConsole(t *testing.T) {
	env := sqliteEnv(t)
	port := freePort(t)
	env["PORT"] = strconv.Itoa(port)
	var stderr lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"serve"}, cli.Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr,
			Getenv: func(k string) string { return env[k] }})
	}()
	defer func() {
		cancel()
		require.Equal(t, 0, <-done)
	}()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	code, err := get(t, base+"/")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	link := firstAdminLink.FindString(stderr.String())
	require.NotEmpty(t, link, stderr.String())
	require.True(t, strings.HasPrefix(link, "http://localhost:"+strconv.Itoa(port)+"/"), "PUBLIC_URL defaults to localhost:PORT")

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar}
	page := func(path string) string {
		resp, err := c.Get(base + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		return string(body)
	}
	post := func(path, from string, form url.Values) string {
		form.Set("csrf", csrfField.FindStringSubmatch(page(from))[1])
		resp, err := c.PostForm(base+path, form)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		return string(body)
	}

	// A student talks to the bot on the page.
	body := post("/say", "/", url.Values{"text": {"/start"}})
	require.Contains(t, body, "activation assistant of Odisee")

	// The printed link makes the first admin, who sees the console.
	setup := strings.TrimPrefix(link, "http://localhost:"+strconv.Itoa(port))
	token := setup[strings.Index(setup, "token=")+len("token="):]
	body = post("/admin/setup", setup, url.Values{"token": {token}, "name": {"ada"},
		"password": {"a long enough secret"}, "confirm": {"a long enough secret"}})
	require.Contains(t, body, "ada")
	require.Contains(t, body, "Log out")
}
