package email_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/email"
)

func TestEnabled(t *testing.T) {
	const u, f, to = "smtp://mail.example.org", "bot@example.org", "desk@example.org"
	cases := []struct {
		name      string
		url, from string
		to        string
		enabled   bool
		errHas    []string
	}{
		{name: "none", enabled: false},
		{name: "blank is unset", url: " ", from: "\t", to: "", enabled: false},
		{name: "all", url: u, from: f, to: to, enabled: true},
		{name: "url only", url: u, errHas: []string{"HELPDESK_EMAIL_FROM and HELPDESK_EMAIL_TO are not set"}},
		{name: "to missing", url: u, from: f, errHas: []string{"HELPDESK_EMAIL_TO is not set"}},
		{name: "url missing", from: f, to: to, errHas: []string{"HELPDESK_SMTP_URL is not set"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, err := email.Enabled(c.url, c.from, c.to)
			if len(c.errHas) > 0 {
				require.Error(t, err)
				for _, s := range c.errHas {
					require.Contains(t, err.Error(), s)
				}
				require.False(t, ok)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.enabled, ok)
		})
	}
}

func TestParseConfig(t *testing.T) {
	cfg, err := email.ParseConfig(" smtp://bot%40odisee.be:p%40ss%3Aw0rd@mail.example.org:2525 ",
		`Odisee Bot <bot@example.org>`, "desk@example.org, \"Doe, Jane\" <jane@example.org>")
	require.NoError(t, err)
	require.Equal(t, "smtp://bot%40odisee.be:p%40ss%3Aw0rd@mail.example.org:2525", cfg.URL)
	require.Equal(t, `"Odisee Bot" <bot@example.org>`, cfg.From)
	require.Equal(t, []string{"<desk@example.org>", `"Doe, Jane" <jane@example.org>`}, cfg.To)
	_, err = email.New(cfg)
	require.NoError(t, err, "New takes what ParseConfig gives")

	cfg, err = email.ParseConfig("smtps://mail.example.org", "bot@example.org", "a@example.org,b@example.org,")
	require.NoError(t, err, "a trailing comma is forgiven")
	require.Equal(t, []string{"<a@example.org>", "<b@example.org>"}, cfg.To)
}

func TestParseConfigErrors(t *testing.T) {
	const pass = "hunter2-s3cret"
	const from, to = "bot@example.org", "desk@example.org"
	cases := []struct {
		name          string
		url, from, to string
		want          string
	}{
		{"http scheme", "https://u:" + pass + "@mail.example.org", from, to, "HELPDESK_SMTP_URL: scheme must be smtp or smtps"},
		{"no scheme", "mail.example.org:587", from, to, "HELPDESK_SMTP_URL: scheme must be smtp or smtps"},
		{"no host", "smtp://u:" + pass + "@", from, to, "HELPDESK_SMTP_URL: no host"},
		{"opaque", "smtp:mail.example.org", from, to, "HELPDESK_SMTP_URL: no host"},
		{"bad escape in password", "smtp://u:" + pass + "%zz@mail.example.org", from, to, "HELPDESK_SMTP_URL: not a valid URL"},
		{"bad port", "smtp://u:" + pass + "@mail.example.org:99999", from, to, "HELPDESK_SMTP_URL: port \"99999\" out of range"},
		{"non-numeric port", "smtp://u:" + pass + "@mail.example.org:smtp", from, to, "HELPDESK_SMTP_URL: not a valid URL"},
		{"path", "smtp://u:" + pass + "@mail.example.org/x", from, to, "HELPDESK_SMTP_URL: unexpected path"},
		{"password without user", "smtp://:" + pass + "@mail.example.org", from, to, "HELPDESK_SMTP_URL: a password needs a user name"},
		{"bad from", "smtp://u:" + pass + "@mail.example.org", "x", to, `HELPDESK_EMAIL_FROM: "x" is not an e-mail address`},
		{"two froms", "smtp://u:" + pass + "@mail.example.org", "a@example.org, b@example.org", to, "HELPDESK_EMAIL_FROM: one address expected, got 2"},
		{"bad to", "smtp://u:" + pass + "@mail.example.org", from, "desk@example.org, x", `HELPDESK_EMAIL_TO: "x" is not an e-mail address`},
		{"only commas", "smtp://u:" + pass + "@mail.example.org", from, " , ,", "HELPDESK_EMAIL_TO: no e-mail address"},
		{"partial", "smtp://u:" + pass + "@mail.example.org", "", to, "HELPDESK_EMAIL_FROM is not set"},
		{"none", "", "", "", "are not set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := email.ParseConfig(c.url, c.from, c.to)
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
			require.NotContains(t, err.Error(), pass)
			require.NotContains(t, err.Error(), "hunter2")
		})
	}
}

func TestConfigNeverPrintsPassword(t *testing.T) {
	const pass = "hunter2-s3cret"
	cfg, err := email.ParseConfig("smtps://bot:"+pass+"@mail.example.org", "bot@example.org", "desk@example.org")
	require.NoError(t, err)

	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", slog.Any("email", cfg))
	for _, out := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), cfg.String(), logged.String()} {
		require.NotContains(t, out, pass)
		require.Contains(t, out, "mail.example.org")
	}
}
