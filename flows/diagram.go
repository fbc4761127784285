package flows

import (
	"fmt"
	"regexp"
	"strings"
)

// Kinds of graph nodes: the pack's own nodes, and the two targets the
// engine resolves at run time, drawn as nodes of their own so a button to
// them is an edge like any other.
const (
	GraphNodePack   = "node"
	GraphNodeNext   = "next"
	GraphNodeResume = "resume"
)

// Kinds of graph edges.
const (
	EdgeGoto   = "goto"   // a button's goto
	EdgeAction = "action" // a button's action that shows a node (start, restart, wait, check_wait)
	EdgeNext   = "next"   // where @next may lead
)

// Graph is the flow of a pack as nodes and edges, the nodes in layers:
// layer 0 is the start node, each next layer what the one before leads
// to, and a last layer (when Detached) the nodes no button path from the
// start reaches: answers to free text, commands and deep links.
type Graph struct {
	Start  string
	Nodes  []GraphNode // by layer, then in the order the buttons reach them
	Edges  []GraphEdge
	Layers [][]string // node ids per layer
	// Detached says whether the last layer holds the nodes not reached from Start.
	Detached bool
}

// GraphNode is one node of the flow.
type GraphNode struct {
	ID     string
	Title  string // the first words of its English text
	Intent string
	Kind   string // GraphNodePack, GraphNodeNext or GraphNodeResume
	Layer  int
	Answer bool
	// Entries say what else opens the node: intents, commands, deep links,
	// accounts' steps.
	Entries []string
	// Actions are its buttons that run an engine behaviour without showing
	// a node of the pack: "English (language:en)".
	Actions []string
}

// GraphEdge is a button (or, from @next, a possible outcome) that leads
// from one node to another.
type GraphEdge struct {
	From, To string
	Label    string
	Kind     string // EdgeGoto, EdgeAction or EdgeNext
}

// diagramLang is the language of titles and labels.
const diagramLang = "en"

// titleWords is how many words of a node's text make its title.
const titleWords = 6

// Diagram returns the flow of p as a graph: every button that leads to a
// node is an edge, @next and @resume are nodes of their own, and the
// layers come from a breadth-first walk from p.Start.
func Diagram(p *Pack) Graph {
	g := Graph{Start: p.Start}
	nodes := map[string]*GraphNode{}
	adj := map[string][]GraphEdge{}
	ids := sortedKeys(p.Nodes)
	for _, id := range ids {
		n := p.Nodes[id]
		gn := &GraphNode{ID: id, Kind: GraphNodePack}
		if n != nil {
			gn.Title, gn.Intent, gn.Answer = title(p.Localize(n.Text, diagramLang)), n.Intent, n.Answer
		}
		nodes[id] = gn
	}
	virtual := func(id, kind, t string) {
		if _, ok := nodes[id]; !ok {
			nodes[id] = &GraphNode{ID: id, Kind: kind, Title: t}
		}
	}
	edge := func(e GraphEdge) {
		if _, ok := nodes[e.To]; !ok || e.To == "" {
			return // a dangling reference: Check reports it
		}
		adj[e.From] = append(adj[e.From], e)
	}
	for _, id := range ids {
		n := p.Nodes[id]
		if n == nil {
			continue
		}
		for _, b := range n.Buttons {
			label := p.Localize(b.Label, diagramLang)
			switch b.Goto {
			case "":
			case GotoNext:
				virtual(GotoNext, GraphNodeNext, "Next account not yet done, or the end")
				edge(GraphEdge{From: id, To: GotoNext, Label: label, Kind: EdgeGoto})
			case GotoResume:
				virtual(GotoResume, GraphNodeResume, "Back to where the student was")
				edge(GraphEdge{From: id, To: GotoResume, Label: label, Kind: EdgeGoto})
			default:
				edge(GraphEdge{From: id, To: b.Goto, Label: label, Kind: EdgeGoto})
			}
			if b.Action == "" {
				continue
			}
			targets := actionTargets(p, n, b.Action)
			if len(targets) == 0 && b.Goto == "" {
				nodes[id].Actions = append(nodes[id].Actions, fmt.Sprintf("%s (%s)", label, b.Action))
			}
			for _, t := range targets {
				edge(GraphEdge{From: id, To: t.node, Label: label + " (" + t.why + ")", Kind: EdgeAction})
			}
		}
	}
	if _, ok := nodes[GotoNext]; ok {
		for _, a := range p.Accounts {
			edge(GraphEdge{From: GotoNext, To: a.Entry, Label: p.Localize(a.Name, diagramLang), Kind: EdgeNext})
		}
		edge(GraphEdge{From: GotoNext, To: p.Completed, Label: "all done", Kind: EdgeNext})
	}
	entries(p, nodes)

	// Breadth-first from the start; what it never reaches forms the last layer.
	layer := map[string]int{}
	if _, ok := nodes[p.Start]; ok {
		layer[p.Start] = 0
		g.Layers = append(g.Layers, []string{p.Start})
		for l := 0; l < len(g.Layers); l++ {
			var next []string
			for _, id := range g.Layers[l] {
				for _, e := range adj[id] {
					if _, seen := layer[e.To]; !seen {
						layer[e.To] = l + 1
						next = append(next, e.To)
					}
				}
			}
			if len(next) > 0 {
				g.Layers = append(g.Layers, next)
			}
		}
	}
	var detached []string
	for _, id := range sortedKeys(nodes) {
		if _, ok := layer[id]; !ok {
			detached = append(detached, id)
		}
	}
	if len(detached) > 0 {
		for _, id := range detached {
			layer[id] = len(g.Layers)
		}
		g.Layers = append(g.Layers, detached)
		g.Detached = true
	}
	for _, ids := range g.Layers {
		for _, id := range ids {
			n := nodes[id]
			n.Layer = layer[id]
			g.Nodes = append(g.Nodes, *n)
			g.Edges = append(g.Edges, adj[id]...)
		}
	}
	return g
}

type actionTarget struct{ node, why string }

// actionTargets are the nodes a button's action may show.
func actionTargets(p *Pack, n *Node, action string) []actionTarget {
	switch action {
	case ActionStart, ActionRestart:
		return []actionTarget{{p.Start, action}}
	case ActionWait:
		if a, ok := p.Account(n.Account); ok && a.WaitNode != "" {
			return []actionTarget{{a.WaitNode, "wait"}}
		}
	case ActionCheckWait:
		a, ok := p.Account(n.Account)
		if !ok || a.Wait.Duration == 0 {
			for i := range p.Accounts {
				if p.Accounts[i].Wait.Duration > 0 {
					a, ok = &p.Accounts[i], true
					break
				}
			}
		}
		if ok {
			var ts []actionTarget
			if a.WaitNode != "" {
				ts = append(ts, actionTarget{a.WaitNode, "still waiting"})
			}
			return append(ts, actionTarget{a.Steps, "wait over"})
		}
	}
	return nil
}

// entries notes on each node what opens it besides buttons.
func entries(p *Pack, nodes map[string]*GraphNode) {
	add := func(id, what string) {
		if n, ok := nodes[id]; ok && id != "" {
			n.Entries = append(n.Entries, what)
		}
	}
	for _, name := range sortedKeys(p.Intents) {
		if in := p.Intents[name]; in != nil {
			add(in.Reply, "intent "+name)
		}
	}
	for _, name := range sortedKeys(p.Commands) {
		if c := p.Commands[name]; c != nil {
			add(c.Reply, "/"+name)
		}
	}
	for _, name := range sortedKeys(p.DeepLinks) {
		add(p.DeepLinks[name], "deep link "+name)
	}
}

// title is the first words of a text, on one line.
func title(text string) string {
	words := strings.Fields(text)
	if len(words) > titleWords {
		return strings.Join(words[:titleWords], " ") + " …"
	}
	return strings.Join(words, " ")
}

// Node returns the graph node with id.
func (g Graph) Node(id string) (GraphNode, bool) {
	for _, n := range g.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return GraphNode{}, false
}

// From returns the edges leaving node id, in button order.
func (g Graph) From(id string) []GraphEdge {
	var es []GraphEdge
	for _, e := range g.Edges {
		if e.From == id {
			es = append(es, e)
		}
	}
	return es
}

var mermaidUnsafe = regexp.MustCompile(`[^A-Za-z0-9_]`)

// mermaidID makes a node id safe as a Mermaid id ("end" alone would not be).
func mermaidID(id string) string {
	switch id {
	case GotoNext:
		return "at_next"
	case GotoResume:
		return "at_resume"
	}
	return "n_" + mermaidUnsafe.ReplaceAllString(id, "_")
}

// mermaidText quotes a label for Mermaid: its own entity codes stand in
// for the characters its syntax uses.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "\n", " ", "|", "#124;", "<", "#lt;", ">", "#gt;")
	return `"` + r.Replace(s) + `"`
}

// Mermaid renders the graph as a Mermaid flowchart, to paste into any
// Mermaid editor.
func (g Graph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	for _, n := range g.Nodes {
		label := n.ID
		if n.Title != "" {
			label += ": " + n.Title
		}
		open, close := "[", "]"
		if n.Kind != GraphNodePack {
			open, close = "([", "])"
		}
		fmt.Fprintf(&b, "  %s%s%s%s\n", mermaidID(n.ID), open, mermaidText(label), close)
	}
	for _, e := range g.Edges {
		arrow := "-->"
		if e.Kind != EdgeGoto {
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s|%s| %s\n", mermaidID(e.From), arrow, mermaidText(e.Label), mermaidID(e.To))
	}
	if _, ok := g.Node(g.Start); ok {
		fmt.Fprintf(&b, "  style %s stroke-width:3px\n", mermaidID(g.Start))
	}
	return b.String()
}
