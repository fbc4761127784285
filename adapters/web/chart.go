package web

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// The console's charts are SVG drawn on the server: the geometry is
// computed here, and the templates emit the elements, so html/template
// escapes every label. Each chart's figures are also in a table beside it.

// Chart colours, each at least 4.5:1 on white (text and bars alike).
const (
	colourInk       = "#1b1f24"
	colourMuted     = "#555d66"
	colourNew       = "#0b5cad"
	colourCompleted = "#1d6b33"
	colourAxis      = "#8a939c"
)

// chartItem is one value to draw: Label names it, Note is shown after the
// value (a drop-off, say).
type chartItem struct {
	Label string
	Value int
	Note  string
}

// hbar is one bar of a horizontal bar chart, in SVG user units: the bar is
// the rectangle X, Y, Width, Height; the label ends at LabelX, the value
// text starts at ValueX, both on the baseline TextY.
type hbar struct {
	X, Y, Width, Height float64
	LabelX, ValueX      float64
	TextY               float64
	Label               string // shortened to fit; Title has it whole
	Title               string
	Value               int
	Text                string // the value as shown, with the note
}

// hbarChart is a horizontal bar chart.
type hbarChart struct {
	Width, Height float64
	Fill, Ink     string
	Bars          []hbar
}

// horizontal bar chart geometry: a label column, the bars, room for the
// value after the longest bar.
const (
	hbarWidth      = 760.0
	hbarLabelWidth = 190.0
	hbarValueRoom  = 190.0
	hbarRow        = 30.0
	hbarThickness  = 20.0
	hbarPad        = 6.0
	hbarLabelRunes = 26
)

// newHBarChart lays out items as horizontal bars, each as long as its
// value against the largest; with nothing to show, every bar is empty.
func newHBarChart(items []chartItem) hbarChart {
	c := hbarChart{Width: hbarWidth, Height: round1(2*hbarPad + hbarRow*float64(len(items))), Fill: colourNew, Ink: colourInk}
	plot := hbarWidth - hbarLabelWidth - hbarValueRoom
	top := 0
	for _, it := range items {
		top = max(top, it.Value)
	}
	for i, it := range items {
		y := hbarPad + hbarRow*float64(i) + (hbarRow-hbarThickness)/2
		w := scale(max(it.Value, 0), top, plot)
		text := fmt.Sprint(it.Value)
		if it.Note != "" {
			text += " " + it.Note
		}
		c.Bars = append(c.Bars, hbar{
			X: hbarLabelWidth, Y: round1(y), Width: w, Height: hbarThickness,
			LabelX: hbarLabelWidth - 8, ValueX: round1(hbarLabelWidth + w + 6), TextY: round1(y + hbarThickness/2 + 4.5),
			Label: shorten(it.Label, hbarLabelRunes), Title: it.Label + ": " + text, Value: it.Value, Text: text,
		})
	}
	return c
}

// column is one column of a column chart.
type column struct {
	X, Y, Width, Height float64
	Fill                string
	Title               string
	Value               int
}

// tick is a label on an axis, at X, Y.
type tick struct {
	X, Y  float64
	Label string
}

// series is one kind of column of a column chart, for its legend.
type series struct {
	Name         string
	Fill         string
	X, Y         float64 // the legend's swatch
	TextX, TextY float64
}

// columnChart is a chart of grouped columns: per slot (a day) one column
// per series.
type columnChart struct {
	Width, Height  float64
	Left, Top      float64 // the plot's corner
	Right, Bottom  float64 // the plot's far edges
	Ink, Muted     string
	Axis           string
	Columns        []column
	XTicks, YTicks []tick
	Series         []series
}

// column chart geometry.
const (
	colWidth   = 760.0
	colHeight  = 260.0
	colLeft    = 44.0
	colRight   = 12.0
	colTop     = 36.0
	colBottom  = 34.0
	colMaxBar  = 24.0
	colXLabels = 10 // at most this many labels along the bottom
)

// newColumnChart lays out, per slot, one column per series: values[s][i]
// is series s in slot i, labels[i] names slot i. Heights are against the
// largest value; with nothing to show, every column is flat.
func newColumnChart(labels []string, names, fills []string, values [][]int) columnChart {
	c := columnChart{Width: colWidth, Height: colHeight, Left: colLeft, Top: colTop,
		Right: colWidth - colRight, Bottom: colHeight - colBottom, Ink: colourInk, Muted: colourMuted, Axis: colourAxis}
	plotW, plotH := c.Right-c.Left, c.Bottom-c.Top
	top := 0
	for _, vs := range values {
		for _, v := range vs {
			top = max(top, v)
		}
	}
	n := len(labels)
	for s, name := range names {
		x := c.Left + 130*float64(s)
		c.Series = append(c.Series, series{Name: name, Fill: fills[s], X: x, Y: 10, TextX: x + 18, TextY: 21})
	}
	if n == 0 {
		return c
	}
	slot := plotW / float64(n)
	width := math.Min(colMaxBar, slot*0.8/float64(max(len(names), 1)))
	group := width * float64(len(names))
	every := (n + colXLabels - 1) / colXLabels
	for i, label := range labels {
		start := c.Left + slot*float64(i) + (slot-group)/2
		for s := range names {
			v := 0
			if i < len(values[s]) {
				v = max(values[s][i], 0)
			}
			h := scale(v, top, plotH)
			c.Columns = append(c.Columns, column{X: round1(start + width*float64(s)), Y: round1(c.Bottom - h),
				Width: round1(width), Height: h, Fill: fills[s], Value: v, Title: fmt.Sprintf("%s: %d %s", label, v, names[s])})
		}
		if i%every == 0 {
			c.XTicks = append(c.XTicks, tick{X: round1(c.Left + slot*(float64(i)+0.5)), Y: c.Bottom + 18, Label: label})
		}
	}
	c.YTicks = []tick{{X: c.Left - 6, Y: c.Bottom + 4, Label: "0"}}
	if top > 0 {
		c.YTicks = append(c.YTicks, tick{X: c.Left - 6, Y: c.Top + 4, Label: fmt.Sprint(top)})
	}
	return c
}

// scale is v against top as a length out of full, to one decimal; 0 when
// top is 0.
func scale(v, top int, full float64) float64 {
	if top <= 0 {
		return 0
	}
	return round1(float64(v) / float64(top) * full)
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// shorten cuts s to n runes, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
