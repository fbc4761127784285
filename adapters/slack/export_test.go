package slack

import (
	"time"

	"activation-bot/bot"
)

// SetRosterClock sets the clock the roster's cache reads, so a test can
// let a minute pass.
func SetRosterClock(r bot.Roster, now func() time.Time) { r.(*roster).now = now }
