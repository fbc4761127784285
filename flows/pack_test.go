package flows_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/flows"
)

func TestDeepLinkPayloads(t *testing.T) {
	p, err := flows.Default()
	require.NoError(t, err)
	valid := map[string]flows.DeepLink{
		"nl":          {Lang: "nl"},
		"FR":          {Lang: "fr"},
		"kuleuven":    {Node: "kuleuven_steps"},
		"Odisee":      {Node: "odisee_when"},
		"fr-kuleuven": {Lang: "fr", Node: "kuleuven_steps"},
		"nl_odisee":   {Lang: "nl", Node: "odisee_when"},
		"EN-Password": {Lang: "en", Node: "password_forgotten"},
	}
	for payload, want := range valid {
		got, ok := p.DeepLink(payload)
		require.True(t, ok, payload)
		require.Equal(t, want, got, payload)
	}
	invalid := []string{
		"", "nonsense", "de", "nl-nonsense", "nonsense-kuleuven", "kuleuven-fr", "nl-", "-nl",
		"nl kuleuven", "kuleuven!", "nl.kuleuven", "odisée", "nl-fr", "nl--kuleuven",
		strings.Repeat("a", 200), "nl-" + strings.Repeat("a", 62),
	}
	for _, payload := range invalid {
		_, ok := p.DeepLink(payload)
		require.False(t, ok, payload)
	}
}
