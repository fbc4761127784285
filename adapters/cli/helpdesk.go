package cli

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"activation-bot/adapters/email"
)

// HelpdeskConfig is the HELPDESK_* variables: where tickets go and who may
// act on them.
type HelpdeskConfig struct {
	SlackChannel   string   // HELPDESK_SLACK_CHANNEL, e.g. C0123ABCD
	TelegramChatID int64    // HELPDESK_TELEGRAM_CHAT_ID, e.g. -1001234567890
	SMTPURL        string   // HELPDESK_SMTP_URL
	EmailFrom      string   // HELPDESK_EMAIL_FROM
	EmailTo        string   // HELPDESK_EMAIL_TO
	Users          []string // HELPDESK_USERS: identities
	// ReannounceAfter is TICKET_REANNOUNCE_AFTER; 0 never re-announces.
	ReannounceAfter time.Duration
}

// Destinations reports whether any helpdesk destination is configured.
func (h HelpdeskConfig) Destinations() bool {
	return h.SlackChannel != "" || h.TelegramChatID != 0 || h.SMTPURL != ""
}

var (
	slackChannelRe = regexp.MustCompile(`^[CG][A-Z0-9]{4,20}$`)
	// identityRe is how design.md writes a person.
	identityRe = regexp.MustCompile(`^(telegram:[0-9]{1,20}|slack:[TE][A-Z0-9]{2,20}:[UW][A-Z0-9]{2,20}|web:[^\s,]{1,64}|console:[^\s,]{1,64})$`)
)

func loadHelpdesk(getenv func(string) string, c Config) (HelpdeskConfig, error) {
	h := HelpdeskConfig{
		SlackChannel:    strings.TrimSpace(getenv("HELPDESK_SLACK_CHANNEL")),
		SMTPURL:         strings.TrimSpace(getenv("HELPDESK_SMTP_URL")),
		EmailFrom:       strings.TrimSpace(getenv("HELPDESK_EMAIL_FROM")),
		EmailTo:         strings.TrimSpace(getenv("HELPDESK_EMAIL_TO")),
		ReannounceAfter: 2 * time.Hour,
	}
	// The e-mail destination needs all three variables, checked now so a
	// typo stops the start, not the first ticket.
	if ok, err := email.Enabled(h.SMTPURL, h.EmailFrom, h.EmailTo); err != nil {
		return h, err
	} else if ok {
		if _, err := email.ParseConfig(h.SMTPURL, h.EmailFrom, h.EmailTo); err != nil {
			return h, err
		}
	}
	if h.SlackChannel != "" {
		if !slackChannelRe.MatchString(h.SlackChannel) {
			return h, fmt.Errorf("HELPDESK_SLACK_CHANNEL: %q is not a channel id such as C0123ABCD (open the channel's details in Slack to copy it)", h.SlackChannel)
		}
		if c.Slack.BotToken == "" {
			return h, fmt.Errorf("HELPDESK_SLACK_CHANNEL: needs SLACK_BOT_TOKEN, to post there")
		}
	}
	if v := strings.TrimSpace(getenv("HELPDESK_TELEGRAM_CHAT_ID")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id == 0 {
			return h, fmt.Errorf("HELPDESK_TELEGRAM_CHAT_ID: %q is not a chat id such as -1001234567890", v)
		}
		if c.Telegram.Token == "" {
			return h, fmt.Errorf("HELPDESK_TELEGRAM_CHAT_ID: needs TELEGRAM_BOT_TOKEN, to post there")
		}
		h.TelegramChatID = id
	}
	users, err := identities("HELPDESK_USERS", getenv("HELPDESK_USERS"))
	if err != nil {
		return h, err
	}
	h.Users = users
	if v := strings.TrimSpace(getenv("TICKET_REANNOUNCE_AFTER")); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case v == "0" || v == "off":
			d, err = 0, nil
		case err != nil || d < time.Minute:
			return h, fmt.Errorf("TICKET_REANNOUNCE_AFTER: %q is not a duration of a minute or more such as 2h (or off)", v)
		}
		h.ReannounceAfter = d
	}
	return h, nil
}
