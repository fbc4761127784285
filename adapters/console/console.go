// Package console is the terminal chat: interactive for people, and a
// line-by-line JSON contract for scripts and tests (`chat --json`).
package console

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"activation-bot/bot"
)

// Platform is the platform name of console identities (console:<id>).
const Platform = "console"

// maxLine bounds one input line; the engine refuses long messages anyway,
// this only keeps a runaway pipe from filling memory.
const maxLine = 1 << 20

// Handler is the part of the engine the console needs.
type Handler interface {
	Handle(ctx context.Context, in bot.Inbound) ([]bot.Outbound, error)
}

// Chat runs one terminal conversation as one console user.
type Chat struct {
	Engine     Handler
	UserID     string
	JSON       bool
	LocaleHint string
	In         io.Reader
	Out        io.Writer

	// last holds the buttons of the last replies, numbered from 1 in
	// interactive mode, so typing "2" presses the second.
	last []bot.Button
}

// Run reads standard input line by line, handling each line fully before
// reading the next, until end of input or ctx is done.
func (c *Chat) Run(ctx context.Context) error {
	r := bufio.NewReaderSize(c.In, 64*1024)
	if !c.JSON {
		fmt.Fprintln(c.Out, "activation-bot terminal chat. Type a message; Ctrl-D quits.")
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !c.JSON {
			fmt.Fprint(c.Out, "> ")
		}
		line, err := readLine(r)
		if errors.Is(err, io.EOF) && line == "" {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read input: %w", err)
		}
		if err := c.handle(ctx, line); err != nil {
			return err
		}
	}
}

func (c *Chat) handle(ctx context.Context, line string) error {
	in := bot.Inbound{Platform: Platform, UserID: c.UserID, ChatID: c.UserID, LocaleHint: c.LocaleHint}
	in.Text, in.ButtonID = c.parse(line)
	replies, err := c.Engine.Handle(ctx, in)
	if err != nil {
		return err
	}
	c.last = c.last[:0]
	for _, r := range replies {
		c.last = append(c.last, r.Buttons...)
	}
	if c.JSON {
		return c.printJSON(replies)
	}
	c.printHuman(replies)
	return nil
}

// parse reads a line as a button press ({"button":"id"} in JSON mode, a
// button's number in interactive mode) or as text.
func (c *Chat) parse(line string) (text, button string) {
	trimmed := strings.TrimSpace(line)
	if c.JSON && strings.HasPrefix(trimmed, "{") {
		var press struct {
			Button *string `json:"button"`
		}
		if json.Unmarshal([]byte(trimmed), &press) == nil && press.Button != nil {
			return "", *press.Button
		}
	}
	if !c.JSON {
		if n, err := strconv.Atoi(trimmed); err == nil && n >= 1 && n <= len(c.last) {
			return "", c.last[n-1].ID
		}
	}
	return line, ""
}

func (c *Chat) printJSON(replies []bot.Outbound) error {
	enc := json.NewEncoder(c.Out)
	enc.SetEscapeHTML(false)
	for _, r := range replies {
		if r.Buttons == nil {
			r.Buttons = []bot.Button{}
		}
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write reply: %w", err)
		}
	}
	return nil
}

func (c *Chat) printHuman(replies []bot.Outbound) {
	n := 0
	for _, r := range replies {
		fmt.Fprintf(c.Out, "\n%s\n", r.Text)
		for _, b := range r.Buttons {
			n++
			fmt.Fprintf(c.Out, "  [%d] %s\n", n, b.Label)
		}
	}
	fmt.Fprintln(c.Out)
}

// readLine returns one line without its line ending; of a line longer than
// maxLine only the start is kept.
func readLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		chunk, isPrefix, err := r.ReadLine()
		if b.Len() < maxLine {
			b.Write(chunk[:min(len(chunk), maxLine-b.Len())])
		}
		if err != nil {
			if b.Len() > 0 && errors.Is(err, io.EOF) {
				return b.String(), nil
			}
			return b.String(), err
		}
		if !isPrefix {
			return b.String(), nil
		}
	}
}
