package flows_test

import (
	"testing"

	"activation-bot/flows"
)

// BenchmarkMatch is the matcher's share of every free-text message.
func BenchmarkMatch(b *testing.B) {
	p, err := flows.Default()
	if err != nil {
		b.Fatal(err)
	}
	m := flows.NewMatcher(p)
	b.ReportAllocs()
	for b.Loop() {
		m.Match("which account do I need for Toledo?")
	}
}
