package cli_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/cli"
)

func TestTranscriptRetention(t *testing.T) {
	for v, want := range map[string]time.Duration{
		"":      180 * 24 * time.Hour,
		"180d":  180 * 24 * time.Hour,
		"30d":   30 * 24 * time.Hour,
		"2160h": 90 * 24 * time.Hour,
		"off":   0,
		"0":     0,
	} {
		cfg, err := cli.LoadConfig(func(k string) string {
			if k == "TRANSCRIPT_RETENTION" {
				return v
			}
			return ""
		})
		require.NoError(t, err, v)
		require.Equal(t, want, cfg.TranscriptRetention, v)
	}
}
