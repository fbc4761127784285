package bot_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"activation-bot/bot"
	"activation-bot/storage/storagetest"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/ from the engine's replies")

// TestTranscripts replays every conversation in testdata/transcripts
// through the engine, on every test database, and compares the bot's
// replies with the ones written in the file.
//
// File format: "# " comments; "now RFC3339" moves the clock; "locale xx"
// sets the platform's language hint; "user ID" switches student; "> text"
// is typed by the student; ">> id" presses a button; ">~ kind" sends
// something that is not text (Inbound.Media: sticker, photo, edited, ...).
// Link codes are random: the last one issued reads "{code}" in replies,
// and "{code}" typed or in a button id is that code; "{key}" is the key
// that names it in a Merge button.
// Lines starting with "<" are the bot's replies: they are regenerated, so
// -update rewrites them.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts found: %v", err)
	}
	for _, dbName := range storagetest.Names(t) {
		for _, file := range files {
			t.Run(dbName+"/"+strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				got := replay(t, setup(t, dbName), string(want))
				if *update && dbName == "sqlite" {
					if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				if got != string(want) {
					t.Errorf("transcript differs (run go test ./bot -run TestTranscripts -update to accept):\n%s", diff(string(want), got))
				}
			})
		}
	}
}

func replay(t *testing.T, b *testBundle, script string) string {
	t.Helper()
	var out strings.Builder
	user, locale, code := "student", "", ""
	for _, line := range strings.Split(strings.TrimRight(script, "\n"), "\n") {
		if strings.HasPrefix(line, "<") || strings.TrimSpace(line) == "" {
			continue
		}
		out.WriteString(line + "\n")
		in := bot.Inbound{Platform: "console", UserID: user, ChatID: user, LocaleHint: locale}
		switch {
		case strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "now "):
			ts, err := time.Parse(time.RFC3339, strings.TrimPrefix(line, "now "))
			if err != nil {
				t.Fatalf("bad now line %q: %v", line, err)
			}
			b.clock.Set(ts)
			continue
		case strings.HasPrefix(line, "locale "):
			locale = strings.TrimPrefix(line, "locale ")
			continue
		case strings.HasPrefix(line, "user "):
			user = strings.TrimPrefix(line, "user ")
			continue
		case strings.HasPrefix(line, ">> "):
			in.ButtonID = strings.TrimPrefix(line, ">> ")
		case strings.HasPrefix(line, ">~ "):
			in.Media = strings.TrimPrefix(line, ">~ ")
		case strings.HasPrefix(line, ">"):
			in.Text = strings.TrimPrefix(strings.TrimPrefix(line, ">"), " ")
		default:
			t.Fatalf("unknown transcript line %q", line)
		}
		if code != "" {
			in.Text = strings.ReplaceAll(in.Text, "{code}", code)
			in.ButtonID = strings.ReplaceAll(in.ButtonID, "{code}", code)
			in.ButtonID = strings.ReplaceAll(in.ButtonID, "{key}", linkKey(code))
		}
		replies, err := b.engine.Handle(context.Background(), in)
		if err != nil {
			t.Fatalf("handle %q: %v", line, err)
		}
		for _, r := range replies {
			if r.Intent == bot.IntentLinkCode {
				code = r.Secret
			}
			writeReply(&out, r, code)
		}
		out.WriteString("\n")
	}
	return out.String()
}

func linkKey(code string) string { return bot.HashLinkCode(code)[:bot.LinkKeyLength] }

func writeReply(out *strings.Builder, r bot.Outbound, code string) {
	if code != "" {
		r.Text = strings.ReplaceAll(r.Text, code, "{code}")
		r.Buttons = slices.Clone(r.Buttons)
		for i := range r.Buttons {
			r.Buttons[i].ID = strings.ReplaceAll(r.Buttons[i].ID, code, "{code}")
			r.Buttons[i].ID = strings.ReplaceAll(r.Buttons[i].ID, linkKey(code), "{key}")
		}
	}
	head := r.Intent + " (" + r.Lang
	if r.Account != "" {
		head += ", account " + r.Account
	}
	fmt.Fprintf(out, "< %s)\n", head)
	for _, l := range strings.Split(r.Text, "\n") {
		fmt.Fprintf(out, "<   %s\n", l)
	}
	for _, b := range r.Buttons {
		fmt.Fprintf(out, "<   [%s] %s\n", b.ID, b.Label)
	}
}

// diff shows the first differing lines, enough to see what changed.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\nwant: %s\ngot:  %s", i+1, wl, gl)
		}
	}
	return "(no difference)"
}
