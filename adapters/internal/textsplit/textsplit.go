// Package textsplit cuts a long message into parts a platform takes,
// preferring paragraph breaks, then line breaks, then spaces.
package textsplit

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Count measures a rune the way a platform counts message length.
type Count func(rune) int

// UTF16 counts UTF-16 code units, as Telegram does.
func UTF16(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	return 1
}

// Runes counts characters, as Slack does.
func Runes(rune) int { return 1 }

// Split cuts text into parts of at most limit, as counted by count.
func Split(text string, limit int, count Count) []string {
	var parts []string
	for Len(text, count) > limit {
		cut := cutPoint(text, limit, count)
		parts = append(parts, strings.TrimRight(text[:cut], " \n"))
		text = strings.TrimLeft(text[cut:], " \n")
	}
	if text != "" || len(parts) == 0 {
		parts = append(parts, text) // a text of blanks past the limit leaves nothing more
	}
	return parts
}

// Len is the length of s as counted by count.
func Len(s string, count Count) int {
	n := 0
	for _, r := range s {
		n += count(r)
	}
	return n
}

// cutPoint returns the byte index at which to cut text so that the first
// part fits in limit.
func cutPoint(text string, limit int, count Count) int {
	fit, n := 0, 0
	for fit < len(text) {
		r, size := utf8.DecodeRuneInString(text[fit:])
		n += count(r)
		if n > limit {
			break
		}
		fit += size
	}
	head := text[:fit]
	for _, sep := range []string{"\n\n", "\n", " "} {
		if i := strings.LastIndex(head, sep); i > 0 {
			return i + len(sep)
		}
	}
	return max(fit, 1) // a limit below one rune still makes progress
}
