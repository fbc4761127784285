package flows

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDiagramOfTheDefaultPack(t *testing.T) {
	p, err := Default()
	require.NoError(t, err)
	g := Diagram(p)

	require.Equal(t, p.Start, g.Start)
	require.Equal(t, []string{p.Start}, g.Layers[0], "the start node alone in layer 0")
	start, ok := g.Node(p.Start)
	require.True(t, ok)
	require.Equal(t, 0, start.Layer)
	require.Equal(t, "greeting", start.Intent)
	require.True(t, strings.HasPrefix(start.Title, "Hi! I'm the activation"), start.Title)

	ids := map[string]GraphNode{}
	inLayers := 0
	for l, layer := range g.Layers {
		for _, id := range layer {
			n, ok := g.Node(id)
			require.True(t, ok, id)
			require.Equal(t, l, n.Layer, id)
			inLayers++
		}
	}
	for _, n := range g.Nodes {
		_, dup := ids[n.ID]
		require.False(t, dup, "node %s listed twice", n.ID)
		ids[n.ID] = n
	}
	require.Equal(t, len(g.Nodes), inLayers, "every node in exactly one layer")
	for id := range p.Nodes {
		require.Contains(t, ids, id, "every pack node is drawn")
	}
	require.NotEmpty(t, g.Edges)
	for _, e := range g.Edges {
		require.Contains(t, ids, e.From, "edge %+v", e)
		require.Contains(t, ids, e.To, "edge %+v", e)
		require.NotEmpty(t, e.Label)
		if !g.Detached || ids[e.From].Layer < len(g.Layers)-1 {
			require.LessOrEqual(t, ids[e.To].Layer, ids[e.From].Layer+1, "breadth-first: an edge goes at most one layer down: %+v", e)
		}
	}

	// @next is a node of its own and leads to every account and the end.
	next, ok := g.Node(GotoNext)
	require.True(t, ok)
	require.Equal(t, GraphNodeNext, next.Kind)
	var to []string
	for _, e := range g.From(GotoNext) {
		to = append(to, e.To)
	}
	require.ElementsMatch(t, []string{"odisee_when", "kuleuven_steps", p.Completed}, to)

	// The greeting's buttons are edges, labelled in English.
	require.Contains(t, g.Edges, GraphEdge{From: "greeting", To: "ask_emails", Label: "Start the activation", Kind: EdgeGoto})
	// A wait button shows the account's wait node.
	require.Contains(t, g.Edges, GraphEdge{From: "odisee_when", To: "odisee_wait", Label: findLabel(t, p, "odisee_when", ActionWait) + " (wait)", Kind: EdgeAction})

	// Answers to free text are not on a button path from the start: the
	// last layer, with what opens them.
	require.True(t, g.Detached)
	help, ok := g.Node("help")
	require.True(t, ok)
	require.Equal(t, len(g.Layers)-1, help.Layer)
	require.Contains(t, help.Entries, "/help")
	lang, _ := g.Node("choose_language")
	require.Contains(t, lang.Actions, "English (language:en)")

	m := g.Mermaid()
	require.True(t, strings.HasPrefix(m, "flowchart TD\n"))
	require.Contains(t, m, `n_greeting -->|"Start the activation"| n_ask_emails`)
	require.Contains(t, m, `n_ask_emails -->|"Yes, both"| at_next`)
	require.Contains(t, m, `at_next -.->|"all done"| n_completed`)
	require.Equal(t, len(g.Edges), strings.Count(m, "->|"), "one line per edge")
}

func findLabel(t *testing.T, p *Pack, node, action string) string {
	t.Helper()
	for _, b := range p.Nodes[node].Buttons {
		if b.Action == action {
			return p.Localize(b.Label, "en")
		}
	}
	t.Fatalf("no %s button on %s", action, node)
	return ""
}

func TestDiagramOfASmallPack(t *testing.T) {
	p := &Pack{
		DefaultLanguage: "en", Start: "a", Completed: "end",
		Nodes: map[string]*Node{
			"a":      {Intent: "x", Text: Text{"en": `Say "hi" | <b>bold</b> please and more words here`}, Buttons: []Button{{ID: "1", Label: Text{"en": `Go "on"`}, Goto: "b"}, {ID: "2", Label: Text{"en": "Nowhere"}, Goto: "missing"}}},
			"b":      {Intent: "y", Text: Text{"en": "B"}, Buttons: []Button{{ID: "3", Label: Text{"en": "Back"}, Goto: "a"}}},
			"end":    {Intent: "z", Text: Text{"en": "The end"}},
			"orphan": {Intent: "o", Text: Text{"en": "Alone"}},
		},
	}
	g := Diagram(p)
	require.Equal(t, [][]string{{"a"}, {"b"}, {"end", "orphan"}}, g.Layers)
	require.True(t, g.Detached)
	require.Len(t, g.Edges, 2, "a dangling goto draws no edge")
	a, _ := g.Node("a")
	require.Equal(t, `Say "hi" | <b>bold</b> please and …`, a.Title)

	m := g.Mermaid()
	require.Contains(t, m, `n_end["end: The end"]`, `"end" alone would end a Mermaid block`)
	require.Contains(t, m, `n_a -->|"Go #quot;on#quot;"| n_b`)
	require.Contains(t, m, `#quot;hi#quot; #124; #lt;b#gt;bold`)
	require.NotContains(t, m, "<b>")

	// Without a start node, everything is in the one (detached) layer.
	p.Start = "nope"
	g = Diagram(p)
	require.Len(t, g.Layers, 1)
	require.Len(t, g.Nodes, 4)
}
