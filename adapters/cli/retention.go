package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultTranscriptRetention is how long transcripts are kept when
// TRANSCRIPT_RETENTION is unset: an academic semester and a bit.
const DefaultTranscriptRetention = 180 * 24 * time.Hour

// minRetention keeps a typo such as "10m" from deleting conversations
// still going on, and the context of the tickets they open.
const minRetention = 24 * time.Hour

// loadRetention reads TRANSCRIPT_RETENTION: a Go duration ("4320h") or a
// number of days ("180d"); "off" (or 0) keeps transcripts for ever.
func loadRetention(getenv func(string) string) (time.Duration, error) {
	v := strings.TrimSpace(getenv("TRANSCRIPT_RETENTION"))
	switch v {
	case "":
		return DefaultTranscriptRetention, nil
	case "off", "0":
		return 0, nil
	}
	d, err := parseDays(v)
	if err != nil || d < minRetention {
		return 0, fmt.Errorf("TRANSCRIPT_RETENTION: %q is not a duration of a day or more such as 180d or 4320h (or off)", v)
	}
	return d, nil
}

// parseDays parses a Go duration, or whole days written "180d".
func parseDays(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("bad number of days %q", days)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(v)
}
