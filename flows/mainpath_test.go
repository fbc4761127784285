package flows_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/flows"
)

func TestMainPath(t *testing.T) {
	p, err := flows.Default()
	require.NoError(t, err)
	require.Equal(t, []string{"greeting", "odisee_when", "odisee_steps", "kuleuven_steps", "completed"}, p.MainPath(),
		"the greeting, each account's entry and steps once, the completion; no wait")
	require.Empty(t, (&flows.Pack{}).MainPath())
}
