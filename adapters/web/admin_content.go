package web

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"

	"activation-bot/flows"
	"activation-bot/storage"
)

// The content page: what the running engine's pack holds, what `content
// check` says of it, and its flow as a diagram. It only reads.

func (s *Server) contentRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/content", s.admin(s.contentPage))
}

// contentLang is the language the console shows the pack's texts in.
const contentLang = "en"

type contentView struct {
	Source          string
	Languages       []languageView
	Accounts        []accountView
	Services        []serviceView
	Links           []linkView
	Issues          []issueView
	Errors          int
	Warnings        int
	Summary         string // the last line of `content check`
	Placeholders    int
	Diagram         diagramView
	DefaultLanguage string
}

type languageView struct {
	Code, Name string
	Default    bool
}

type accountView struct {
	ID, Name, Login, Wait  string
	Entry, Steps, WaitNode string
	Services               []string
}

type serviceView struct{ ID, Name, Account, AccountName, Note string }

type linkView struct {
	Name, Value string
	Placeholder bool
}

type issueView struct {
	Severity, Where, Key, Message, Line string
	Error                               bool
}

func (s *Server) contentPage(w http.ResponseWriter, r *http.Request, u storage.ConsoleUser) {
	p := s.engine.Pack()
	s.page(w, r, http.StatusOK, &u, "content", consoleView{Title: "Content", Nav: "content", Data: contentData(p)})
}

func contentData(p *flows.Pack) contentView {
	v := contentView{Source: p.Source, DefaultLanguage: p.DefaultLanguage}
	for _, l := range p.Languages {
		v.Languages = append(v.Languages, languageView{Code: l, Name: p.LanguageNames[l], Default: l == p.DefaultLanguage})
	}
	loc := func(t flows.Text) string { return p.Localize(t, contentLang) }
	for _, a := range p.Accounts {
		av := accountView{ID: a.ID, Name: loc(a.Name), Login: loc(a.Login), Entry: a.Entry, Steps: a.Steps, WaitNode: a.WaitNode}
		if a.Wait.Duration > 0 {
			av.Wait = a.Wait.String()
		}
		for _, sv := range p.Services {
			if sv.Account == a.ID {
				av.Services = append(av.Services, loc(sv.Name))
			}
		}
		v.Accounts = append(v.Accounts, av)
	}
	for _, sv := range p.Services {
		name := sv.Account
		if a, ok := p.Account(sv.Account); ok {
			name = loc(a.Name)
		}
		v.Services = append(v.Services, serviceView{ID: sv.ID, Name: loc(sv.Name), Account: sv.Account, AccountName: name, Note: loc(sv.Note)})
	}
	for _, name := range slices.Sorted(maps.Keys(p.Links)) {
		lv := linkView{Name: name, Value: p.Links[name], Placeholder: flows.IsPlaceholder(p.Links[name])}
		if lv.Placeholder {
			v.Placeholders++
		}
		v.Links = append(v.Links, lv)
	}
	for _, i := range p.Check() {
		iv := issueView{Severity: string(i.Severity), Where: fmt.Sprintf("%s:%d", i.Source, i.Line), Key: i.Key,
			Message: i.Message, Line: i.String(), Error: i.Severity == flows.SeverityError}
		if iv.Error {
			v.Errors++
		} else {
			v.Warnings++
		}
		v.Issues = append(v.Issues, iv)
	}
	v.Summary = fmt.Sprintf("%s: %d error(s), %d warning(s)", p.Source, v.Errors, v.Warnings)
	v.Diagram = layoutDiagram(flows.Diagram(p))
	return v
}

// The diagram's geometry, in SVG user units.
const (
	boxW      = 200
	boxH      = 54
	gapX      = 28
	gapY      = 70
	margin    = 24
	perRow    = 6  // a wider layer wraps onto more rows
	captionH  = 44 // room for the caption above the detached layer
	idChars   = 28
	textChars = 32
	edgeChars = 26
)

// diagramView is the flow graph laid out for the template: boxes and
// arrows for the picture, layers for the list that says the same in words.
type diagramView struct {
	W, H      int
	Boxes     []svgBox
	Edges     []svgEdge
	Caption   *svgCaption
	Layers    []layerView
	Mermaid   string
	Summary   string
	Nodes     int
	Edgecount int
}

type svgBox struct {
	ID, Title, Tip, Anchor string
	X, Y, W, H, CX         int
	Start, Virtual         bool
	Detached               bool
}

type svgEdge struct {
	D, Label, Tip string
	LX, LY        int
	Dashed        bool
}

type svgCaption struct {
	Text string
	X, Y int
}

type layerView struct {
	Name  string
	Nodes []listNode
}

type listNode struct {
	ID, Title, Intent, Anchor, Kind string
	Start, Answer                   bool
	Out                             []listEdge
	Actions, Entries                []string
}

type listEdge struct{ Label, To, ToTitle, Anchor string }

// layoutDiagram places each layer on its own row (or rows, past perRow),
// centred, and draws every edge as a curve between the boxes' borders;
// parallel buttons between two nodes share one arrow.
func layoutDiagram(g flows.Graph) diagramView {
	v := diagramView{Mermaid: g.Mermaid(), Nodes: len(g.Nodes), Edgecount: len(g.Edges)}
	anchor := map[string]string{}
	for i, n := range g.Nodes {
		anchor[n.ID] = fmt.Sprintf("flow-node-%d", i+1)
	}

	// Rows of boxes.
	type row struct {
		ids      []string
		detached bool
	}
	var rows []row
	widest := 0
	for l, layer := range ordered(g) {
		detached := g.Detached && l == len(g.Layers)-1
		for i := 0; i < len(layer); i += perRow {
			ids := layer[i:min(i+perRow, len(layer))]
			rows = append(rows, row{ids: ids, detached: detached})
			widest = max(widest, len(ids))
		}
	}
	rowW := func(n int) int { return n*boxW + (n-1)*gapX }
	v.W = 2*margin + rowW(max(widest, 1))
	y := margin
	index := map[string]int{}
	for ri, rw := range rows {
		if rw.detached && (ri == 0 || !rows[ri-1].detached) {
			y += captionH
			v.Caption = &svgCaption{Text: "Not reached by buttons from the start: opened by free text, commands or deep links",
				X: margin, Y: y - 32}
		}
		x := margin + (rowW(widest)-rowW(len(rw.ids)))/2
		for _, id := range rw.ids {
			n, _ := g.Node(id)
			b := svgBox{ID: clip(id, idChars), Title: clip(n.Title, textChars), Anchor: anchor[id],
				X: x, Y: y, W: boxW, H: boxH, CX: x + boxW/2,
				Start: id == g.Start, Virtual: n.Kind != flows.GraphNodePack, Detached: rw.detached}
			b.Tip = id
			if n.Title != "" {
				b.Tip += ": " + n.Title
			}
			if n.Intent != "" {
				b.Tip += " (intent " + n.Intent + ")"
			}
			index[id] = len(v.Boxes)
			v.Boxes = append(v.Boxes, b)
			x += boxW + gapX
		}
		y += boxH + gapY
	}
	v.H = y - gapY + margin
	box := func(id string) *svgBox {
		if i, ok := index[id]; ok {
			return &v.Boxes[i]
		}
		return nil
	}

	// Arrows, one per pair of nodes.
	type pair struct{ from, to string }
	var order []pair
	labels := map[pair][]string{}
	dashed := map[pair]bool{}
	for _, e := range g.Edges {
		k := pair{e.From, e.To}
		if _, ok := labels[k]; !ok {
			order = append(order, k)
		}
		labels[k] = append(labels[k], e.Label)
		if e.Kind != flows.EdgeGoto {
			dashed[k] = true
		}
	}
	for _, k := range order {
		a, b := box(k.from), box(k.to)
		if a == nil || b == nil {
			continue
		}
		label := strings.Join(labels[k], " / ")
		e := svgEdge{Label: clip(label, edgeChars), Tip: k.from + " → " + k.to + ": " + label, Dashed: dashed[k]}
		e.D, e.LX, e.LY = curve(a, b)
		v.Edges = append(v.Edges, e)
	}

	// The same graph in words.
	for l, layer := range g.Layers {
		lv := layerView{Name: fmt.Sprintf("Layer %d", l)}
		switch {
		case l == 0 && len(layer) == 1 && layer[0] == g.Start:
			lv.Name = "Layer 0: the start"
		case g.Detached && l == len(g.Layers)-1:
			lv.Name = "Not reached by buttons from the start (free text, commands, deep links)"
		}
		for _, id := range layer {
			n, _ := g.Node(id)
			ln := listNode{ID: id, Title: n.Title, Intent: n.Intent, Anchor: anchor[id], Start: id == g.Start,
				Answer: n.Answer, Actions: n.Actions, Entries: n.Entries}
			if n.Kind != flows.GraphNodePack {
				ln.Kind = "decided by the engine at run time"
			}
			for _, e := range g.From(id) {
				to, _ := g.Node(e.To)
				ln.Out = append(ln.Out, listEdge{Label: e.Label, To: e.To, ToTitle: to.Title, Anchor: anchor[e.To]})
			}
			lv.Nodes = append(lv.Nodes, ln)
		}
		v.Layers = append(v.Layers, lv)
	}
	v.Summary = fmt.Sprintf("The flow: %d nodes in %d layers and %d buttons between them, starting at %q. "+
		"The list below the picture says the same in words.", len(g.Nodes), len(g.Layers), len(g.Edges), g.Start)
	return v
}

// ordered returns the layers with each one's nodes sorted by where the
// nodes they link to in the layers above stand (the barycentre), which
// untangles most crossings; the detached layer keeps its order.
func ordered(g flows.Graph) [][]string {
	layers := make([][]string, len(g.Layers))
	pos := map[string]float64{}
	for l, layer := range g.Layers {
		layers[l] = slices.Clone(layer)
		if l > 0 && !(g.Detached && l == len(g.Layers)-1) {
			key := map[string]float64{}
			for i, id := range layers[l] {
				sum, n := 0.0, 0
				for _, e := range g.Edges {
					other := ""
					switch id {
					case e.To:
						other = e.From
					case e.From:
						other = e.To
					}
					if p, ok := pos[other]; ok && other != id {
						sum, n = sum+p, n+1
					}
				}
				key[id] = float64(i) - float64(len(layer)-1)/2
				if n > 0 {
					key[id] = sum / float64(n)
				}
			}
			slices.SortStableFunc(layers[l], func(a, b string) int { return cmp.Compare(key[a], key[b]) })
		}
		for i, id := range layers[l] {
			pos[id] = float64(i) - float64(len(layer)-1)/2
		}
	}
	return layers
}

// curve is a quadratic Bézier from box a's border to box b's, bowed to
// the right of its direction so that a→b and b→a do not overlap; it
// returns the path and where its label goes.
func curve(a, b *svgBox) (string, int, int) {
	ax, ay := float64(a.X)+float64(a.W)/2, float64(a.Y)+float64(a.H)/2
	if a == b {
		// A button back to its own node: a loop on the right side.
		x, y := float64(a.X+a.W), ay
		return fmt.Sprintf("M %.1f %.1f C %.1f %.1f %.1f %.1f %.1f %.1f", x, y-10, x+40, y-30, x+40, y+30, x, y+10),
			int(x + 34), int(y)
	}
	bx, by := float64(b.X)+float64(b.W)/2, float64(b.Y)+float64(b.H)/2
	dx, dy := bx-ax, by-ay
	dist := math.Hypot(dx, dy)
	bow := 18 + 0.08*dist
	qx, qy := (ax+bx)/2-dy/dist*bow, (ay+by)/2+dx/dist*bow
	sx, sy := border(a, ax, ay, qx-ax, qy-ay)
	ex, ey := border(b, bx, by, qx-bx, qy-by)
	lx, ly := 0.25*sx+0.5*qx+0.25*ex, 0.25*sy+0.5*qy+0.25*ey
	return fmt.Sprintf("M %.1f %.1f Q %.1f %.1f %.1f %.1f", sx, sy, qx, qy, ex, ey), int(math.Round(lx)), int(math.Round(ly))
}

// border is where the ray from the box's centre (cx, cy) in direction
// (dx, dy) leaves the box.
func border(b *svgBox, cx, cy, dx, dy float64) (float64, float64) {
	t := math.Inf(1)
	if dx != 0 {
		t = math.Min(t, float64(b.W)/2/math.Abs(dx))
	}
	if dy != 0 {
		t = math.Min(t, float64(b.H)/2/math.Abs(dy))
	}
	if math.IsInf(t, 1) {
		return cx, cy
	}
	return cx + dx*t, cy + dy*t
}

// clip shortens s to n characters, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
