package cli_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/slack/slacktest"
	"activation-bot/adapters/telegram/telegramtest"
	"activation-bot/storage/storagetest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds activation-bot once per test run, to test it as a process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "activation-bot-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "activation-bot")
		out, err := exec.Command("go", "build", "-o", binPath, "activation-bot").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// chatProcess is a running `chat --json`, spoken to line by line.
type chatProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

func startChat(t *testing.T, databaseURL, user string) *chatProcess {
	t.Helper()
	cmd := exec.Command(binary(t), "chat", "--json", "--user", user, "--now", "2026-09-21T15:00:00+02:00")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return &chatProcess{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
}

type reply struct {
	Text   string `json:"text"`
	Intent string `json:"intent"`
}

// send writes one line and reads the n replies it produces.
func (p *chatProcess) send(t *testing.T, line string, n int) []reply {
	t.Helper()
	_, err := io.WriteString(p.stdin, line+"\n")
	require.NoError(t, err)
	var out []reply
	for range n {
		require.True(t, p.out.Scan(), "expected a reply to %q: %v", line, p.out.Err())
		var r reply
		require.NoError(t, json.Unmarshal(p.out.Bytes(), &r))
		out = append(out, r)
	}
	return out
}

// The process is killed mid-flow; a new one continues where the student was.
func TestRestartResumesConversation(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		d.DB.Close() // the processes open their own connections
		p := startChat(t, d.URL, "restarter")
		p.send(t, "hi", 1)
		p.send(t, `{"button":"start_activation"}`, 1)
		p.send(t, `{"button":"emails_both"}`, 1)
		require.Equal(t, "step_odisee", p.send(t, "more than 3 hours ago", 1)[0].Intent)
		got := p.send(t, `{"button":"odisee_done"}`, 2)
		require.Equal(t, "step_kuleuven", got[1].Intent)
		require.NoError(t, p.cmd.Process.Kill(), "stopped hard, mid-flow")
		_ = p.cmd.Wait()

		p2 := startChat(t, d.URL, "restarter")
		status := p2.send(t, "/status", 1)[0]
		require.Equal(t, "status", status.Intent)
		require.Contains(t, status.Text, "✅ Odisee account: activated")
		require.Contains(t, status.Text, "⬜ account of the KU Leuven association: not activated yet")
		require.Equal(t, "step_kuleuven", p2.send(t, `{"button":"resume"}`, 1)[0].Intent)
		require.Equal(t, "completed", p2.send(t, `{"button":"kuleuven_done"}`, 1)[0].Intent)
		require.NoError(t, p2.stdin.Close())
		require.NoError(t, p2.cmd.Wait(), "end of input exits 0")
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// get polls url until the server answers; the loop is bounded in count.
func get(t *testing.T, url string) (int, error) {
	t.Helper()
	var lastErr error
	for range 200 {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return resp.StatusCode, nil
		}
		lastErr = err
		time.Sleep(25 * time.Millisecond)
	}
	return 0, lastErr
}

// scrapeMetrics returns serve's /metrics page.
func scrapeMetrics(t *testing.T, base string) string {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func TestServeAnswersHealthAndStopsCleanly(t *testing.T) {
	env := sqliteEnv(t)
	port := freePort(t)
	env["PORT"] = strconv.Itoa(port)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		var r result
		r.code = mainWith(ctx, env)
		done <- r
	}()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	code, err := get(t, base+"/healthz")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	code, err = get(t, base+"/readyz")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	cancel()
	require.Equal(t, 0, (<-done).code, "a signal stops serve cleanly")
	_, err = os.Stat(filepath.Join(filepath.Dir(env["DATABASE_URL"][len("sqlite:"):]), "bot.db"))
	require.NoError(t, err, "serve migrated the database")
}

// serve on Telegram as a process: it registers its webhook with a secret
// it generated and stored, answers a student through the webhook, drains
// on SIGTERM and exits 0; restarted, it keeps the same secret, and a
// reply committed before a SIGKILL is sent after the restart.
func TestServeOnTelegram(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		fake := telegramtest.New(t)
		port := freePort(t)
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		env := append(os.Environ(), "DATABASE_URL="+d.URL, "LOG_LEVEL=warn",
			"TELEGRAM_BOT_TOKEN="+fake.Token, "TELEGRAM_API_URL="+fake.URL, "TELEGRAM_WEBHOOK_URL="+base)
		start := func() *exec.Cmd {
			cmd := exec.Command(binary(t), "serve", "--addr", "127.0.0.1:"+strconv.Itoa(port))
			cmd.Env = env
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			code, err := get(t, base+"/readyz")
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, code)
			return cmd
		}
		post := func(id int, text string) int {
			_, secret := fake.WebhookInfo()
			body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1,"text":%q,
				"from":{"id":31,"is_bot":false,"first_name":"Ann","language_code":"nl"},"chat":{"id":31,"type":"private"}}}`, id, id, text)
			req, err := http.NewRequest(http.MethodPost, base+"/telegram/webhook", strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}

		cmd := start()
		url, secret := fake.WebhookInfo()
		require.Equal(t, base+"/telegram/webhook", url)
		require.Len(t, secret, 64, "a generated secret")
		require.Len(t, fake.Calls("setMyCommands"), 4, "a default menu and one per language")
		require.Equal(t, http.StatusOK, post(1, "welk account voor toledo"))
		fake.WaitCalls(t, 1, "sendMessage")
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		require.NoError(t, cmd.Wait(), "SIGTERM drains and exits 0")

		cmd = start()
		_, again := fake.WebhookInfo()
		require.Equal(t, secret, again, "the stored secret is reused")
		// Telegram fails; the reply waits in the outbox for its retry when
		// the process dies, and the next process sends it.
		fake.Fail("sendMessage", http.StatusBadGateway, "", 0)
		before := len(fake.Sent(31))
		require.Equal(t, http.StatusOK, post(2, "status"))
		fake.WaitCalls(t, len(fake.Calls("sendMessage"))+1, "sendMessage")
		time.Sleep(300 * time.Millisecond) // the failure is recorded, the retry scheduled
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
		killed := time.Now()
		cmd = start()
		deadline := time.Now().Add(90 * time.Second)
		for len(fake.Sent(31)) == before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		require.Len(t, fake.Sent(31), before+1, "the status reply arrives after the restart")
		t.Logf("reply sent %s after the kill", time.Since(killed).Round(100*time.Millisecond))
		require.Contains(t, fake.Sent(31)[before], "voortgang")
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		require.NoError(t, cmd.Wait())
	})
}

// serve in Slack (HTTP mode) as a process: a signed DM gets its reply
// through the fake Slack API, a forged one gets 401, SIGTERM exits 0.
func TestServeInSlack(t *testing.T) {
	fake := slacktest.New(t)
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	const secret = "test-signing-secret"
	cmd := exec.Command(binary(t), "serve", "--addr", "127.0.0.1:"+strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "DATABASE_URL=sqlite:"+filepath.Join(t.TempDir(), "bot.db"), "LOG_LEVEL=warn",
		"SLACK_BOT_TOKEN="+slacktest.BotToken, "SLACK_SIGNING_SECRET="+secret, "SLACK_API_URL="+fake.URL+"/api/")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	code, err := get(t, base+"/readyz")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)

	body := fmt.Sprintf(`{"type":"event_callback","team_id":%q,"event_id":"Ev1","event":{"type":"message","channel_type":"im",
		"channel":"D0ANN","user":"U0ANN","text":"which account for toledo","ts":"1.1"}}`, slacktest.TeamID)
	post := func(key string) int {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		mac := hmac.New(sha256.New, []byte(key))
		fmt.Fprintf(mac, "v0:%s:%s", ts, body)
		req, err := http.NewRequest(http.MethodPost, base+"/slack/events", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusUnauthorized, post("forged"))
	require.Equal(t, http.StatusOK, post(secret))
	fake.WaitCalls(t, 1, "chat.postMessage")
	require.Contains(t, fake.Posted("D0ANN")[0].Fields["text"], "Toledo")
	// /metrics counts the signed event only, and each reply once recorded.
	var page string
	require.Eventually(t, func() bool {
		page = scrapeMetrics(t, base)
		sent := fmt.Sprintf("activation_bot_messages_sent_total{platform=\"slack\"} %d\n", len(fake.Posted("D0ANN")))
		return strings.Contains(page, "activation_bot_inbound_events_total{platform=\"slack\"} 1\n") &&
			strings.Contains(page, sent) && strings.Contains(page, "activation_bot_queue_depth{queue=\"outbox\"} 0\n")
	}, 15*time.Second, 50*time.Millisecond, "metrics")
	require.Contains(t, page, "activation_bot_delivery_latency_seconds_count{platform=\"slack\"}")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "SIGTERM drains and exits 0")
}
