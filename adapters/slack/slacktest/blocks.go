package slacktest

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// checkBlocks validates Block Kit JSON the way Slack rejects it most often:
// "invalid_blocks_format" when it is not an array of objects,
// "invalid_blocks" when a limit is exceeded or a required text is missing
// or empty, with Slack-style "[ERROR] … [json-pointer:…]" details. It does
// not check the whole schema. An empty code means valid.
func checkBlocks(raw string, maxBlocks int, pointer string) (list []json.RawMessage, code string, problems []string) {
	if err := json.Unmarshal([]byte(raw), &list); err != nil || list == nil {
		return nil, "invalid_blocks_format", []string{"[ERROR] must be an array of blocks [json-pointer:" + pointer + "]"}
	}
	c := blockChecker{blockIDs: map[string]bool{}}
	if len(list) > maxBlocks {
		c.fail(pointer, "no more than %d items allowed", maxBlocks)
	}
	for i, b := range list {
		c.block(fmt.Sprintf("%s/%d", pointer, i), b)
	}
	if len(c.problems) > 0 {
		return nil, "invalid_blocks", c.problems
	}
	return list, "", nil
}

type blockChecker struct {
	problems []string
	blockIDs map[string]bool // unique per message or view
}

func (c *blockChecker) fail(pointer, format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf("[ERROR] %s [json-pointer:%s]", fmt.Sprintf(format, args...), pointer))
}

// tooLong reports whether s exceeds max characters, noting it if so.
func (c *blockChecker) tooLong(pointer, s string, max int) bool {
	if utf8.RuneCountInString(s) > max {
		c.fail(pointer, "must be less than %d characters", max+1)
		return true
	}
	return false
}

type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// element is the part of an interactive element the checks look at.
type element struct {
	Type     string      `json:"type"`
	ActionID string      `json:"action_id"`
	Value    string      `json:"value"`
	URL      string      `json:"url"`
	Style    string      `json:"style"`
	Text     *textObject `json:"text"`
}

func (c *blockChecker) block(pointer string, raw json.RawMessage) {
	var head struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		c.fail(pointer, "must be a block object")
		return
	}
	if head.BlockID != "" && !c.tooLong(pointer+"/block_id", head.BlockID, maxID) {
		if c.blockIDs[head.BlockID] {
			c.fail(pointer+"/block_id", "duplicate block_id %q", head.BlockID)
		}
		c.blockIDs[head.BlockID] = true
	}
	switch head.Type {
	case "":
		c.fail(pointer, "missing required field: type")
	case "section":
		c.section(pointer, raw)
	case "header":
		c.header(pointer, raw)
	case "actions":
		c.actions(pointer, raw)
	case "context":
		c.context(pointer, raw)
	}
}

func (c *blockChecker) section(pointer string, raw json.RawMessage) {
	var s struct {
		Text      *textObject     `json:"text"`
		Fields    []textObject    `json:"fields"`
		Accessory json.RawMessage `json:"accessory"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		c.fail(pointer, "invalid section: %v", err)
		return
	}
	if s.Text == nil && len(s.Fields) == 0 {
		c.fail(pointer, "must provide either text or fields")
	}
	if s.Text != nil {
		c.text(pointer+"/text", *s.Text, maxSectionText, false)
	}
	if len(s.Fields) > maxSectionFields {
		c.fail(pointer+"/fields", "no more than %d items allowed", maxSectionFields)
	}
	for i, field := range s.Fields {
		c.text(fmt.Sprintf("%s/fields/%d", pointer, i), field, maxSectionFieldText, false)
	}
	if len(s.Accessory) > 0 {
		c.element(pointer+"/accessory", s.Accessory, map[string]bool{})
	}
}

func (c *blockChecker) header(pointer string, raw json.RawMessage) {
	var h struct {
		Text *textObject `json:"text"`
	}
	if err := json.Unmarshal(raw, &h); err != nil || h.Text == nil {
		c.fail(pointer+"/text", "missing required field: text")
		return
	}
	c.text(pointer+"/text", *h.Text, maxHeaderText, true)
}

// actions checks the elements; action_ids must be unique within the block.
func (c *blockChecker) actions(pointer string, raw json.RawMessage) {
	var a struct {
		Elements []json.RawMessage `json:"elements"`
	}
	_ = json.Unmarshal(raw, &a)
	if len(a.Elements) == 0 || len(a.Elements) > maxActionsElements {
		c.fail(pointer+"/elements", "must have between 1 and %d items", maxActionsElements)
	}
	actionIDs := map[string]bool{}
	for i, e := range a.Elements {
		c.element(fmt.Sprintf("%s/elements/%d", pointer, i), e, actionIDs)
	}
}

func (c *blockChecker) context(pointer string, raw json.RawMessage) {
	var ctx struct {
		Elements []json.RawMessage `json:"elements"`
	}
	_ = json.Unmarshal(raw, &ctx)
	if len(ctx.Elements) == 0 || len(ctx.Elements) > maxContextElements {
		c.fail(pointer+"/elements", "must have between 1 and %d items", maxContextElements)
	}
}

func (c *blockChecker) element(pointer string, raw json.RawMessage, actionIDs map[string]bool) {
	var e element
	if err := json.Unmarshal(raw, &e); err != nil {
		c.fail(pointer, "must be an element object")
		return
	}
	if e.ActionID != "" && !c.tooLong(pointer+"/action_id", e.ActionID, maxID) {
		if actionIDs[e.ActionID] {
			c.fail(pointer+"/action_id", "duplicate action_id %q", e.ActionID)
		}
		actionIDs[e.ActionID] = true
	}
	if e.Type == "button" {
		c.button(pointer, e)
	}
}

func (c *blockChecker) button(pointer string, e element) {
	if e.Text == nil {
		c.fail(pointer+"/text", "missing required field: text")
	} else {
		c.text(pointer+"/text", *e.Text, maxButtonText, true)
	}
	c.tooLong(pointer+"/value", e.Value, maxButtonValue)
	c.tooLong(pointer+"/url", e.URL, maxButtonURL)
	if e.Style != "" && e.Style != "primary" && e.Style != "danger" {
		c.fail(pointer+"/style", "must be one of [primary, danger]")
	}
}

// text checks a text object: its type, and 1 to max characters.
func (c *blockChecker) text(pointer string, t textObject, max int, plainOnly bool) {
	switch {
	case t.Type == "plain_text":
	case t.Type == "mrkdwn" && !plainOnly:
	case plainOnly:
		c.fail(pointer+"/type", "must be plain_text")
	default:
		c.fail(pointer+"/type", "must be one of [plain_text, mrkdwn]")
	}
	if t.Text == "" {
		c.fail(pointer+"/text", "must be more than 0 characters")
	}
	c.tooLong(pointer+"/text", t.Text, max)
}

// ---- buttons, for Click ----

// Button is a button as a user sees it, found by Buttons or HomeButtons.
type Button struct {
	BlockID, ActionID, Value, Text, Style, URL string

	// Where it is shown: a message, or a user's home tab.
	channel, ts string
	homeUser    string
}

// buttonsIn lists the buttons of blocks in order: actions elements and
// section accessories.
func buttonsIn(blocks json.RawMessage) []Button {
	var list []struct {
		BlockID   string            `json:"block_id"`
		Elements  []json.RawMessage `json:"elements"`
		Accessory json.RawMessage   `json:"accessory"`
	}
	_ = json.Unmarshal(blocks, &list)
	var out []Button
	for _, b := range list {
		for _, raw := range append(b.Elements, b.Accessory) {
			var e element
			if json.Unmarshal(raw, &e) != nil || e.Type != "button" {
				continue
			}
			btn := Button{BlockID: b.BlockID, ActionID: e.ActionID, Value: e.Value, Style: e.Style, URL: e.URL}
			if e.Text != nil {
				btn.Text = e.Text.Text
			}
			out = append(out, btn)
		}
	}
	return out
}
