package cli

import "io"

// FakeTerminal makes commands take standard input for a terminal (or not)
// until the returned function restores the check.
func FakeTerminal(is bool) (restore func()) {
	old := stdinIsTerminal
	stdinIsTerminal = func(io.Reader) bool { return is }
	return func() { stdinIsTerminal = old }
}
