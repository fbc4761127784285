package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"activation-bot/bot"
)

// ProactiveConfig is what governs the messages the bot sends on its own
// and who may broadcast.
type ProactiveConfig struct {
	NudgeAfter time.Duration  // NUDGE_AFTER; 0: no nudges
	NudgeMax   int            // NUDGE_MAX
	Quiet      bot.QuietHours // QUIET_HOURS
	// TelegramRate and SlackRate are TELEGRAM_SEND_RATE and
	// SLACK_SEND_RATE, messages per second in all; 0 keeps the adapter's.
	TelegramRate, SlackRate float64
	Admins                  []string // ADMINS: identities
}

// Reminders is the engine's view of the configuration.
func (p ProactiveConfig) Reminders() bot.Reminders {
	return bot.Reminders{NudgeAfter: p.NudgeAfter, NudgeMax: p.NudgeMax, Quiet: p.Quiet}
}

func loadProactive(getenv func(string) string, loc *time.Location) (ProactiveConfig, error) {
	p := ProactiveConfig{NudgeAfter: 24 * time.Hour, NudgeMax: 3}
	if v := strings.TrimSpace(getenv("NUDGE_AFTER")); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case v == "0" || v == "off":
			d, err = 0, nil
		case err != nil || d < time.Minute:
			return p, fmt.Errorf("NUDGE_AFTER: %q is not a duration of a minute or more such as 24h (or off)", v)
		}
		p.NudgeAfter = d
	}
	if v := strings.TrimSpace(getenv("NUDGE_MAX")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			return p, fmt.Errorf("NUDGE_MAX: %q is not a number of nudges from 0 to 100", v)
		}
		p.NudgeMax = n
	}
	quiet := "22:00-08:00"
	if v := strings.TrimSpace(getenv("QUIET_HOURS")); v != "" {
		quiet = v
	}
	var err error
	if p.Quiet, err = bot.ParseQuietHours(quiet, loc); err != nil {
		return p, fmt.Errorf("QUIET_HOURS: %w (campus time, e.g. 22:00-08:00, or off)", err)
	}
	for name, rate := range map[string]*float64{"TELEGRAM_SEND_RATE": &p.TelegramRate, "SLACK_SEND_RATE": &p.SlackRate} {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 || r > 1000 {
			return p, fmt.Errorf("%s: %q is not a rate in messages per second, such as 30", name, v)
		}
		*rate = r
	}
	p.Admins, err = identities("ADMINS", getenv("ADMINS"))
	return p, err
}

// identities reads a comma-separated list of identities as design.md
// writes them.
func identities(name, v string) ([]string, error) {
	var out []string
	for _, id := range strings.Split(v, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !identityRe.MatchString(id) {
			return nil, fmt.Errorf("%s: %q is not an identity such as telegram:123 or slack:T01:U02", name, id)
		}
		out = append(out, id)
	}
	return out, nil
}

// sendRate turns a rate in messages per second into the adapters' limit,
// with a burst of one second's worth.
func sendRate(perSecond float64) bot.Rate {
	if perSecond <= 0 {
		return bot.Rate{}
	}
	return bot.Rate{Every: time.Duration(float64(time.Second) / perSecond), Burst: max(int(perSecond), 1)}
}
