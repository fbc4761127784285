package flows

import "slices"

// MainPath is the main path through the pack, as the funnel shows it: the
// greeting, each account's entry and steps nodes, then the completion. The
// wait is a detour only students whose e-mail came recently take: in the
// path it would show more students reaching the next step than the wait.
func (p *Pack) MainPath() []string {
	var order []string
	add := func(n string) {
		if n != "" && !slices.Contains(order, n) {
			order = append(order, n)
		}
	}
	add(p.Start)
	for _, a := range p.Accounts {
		add(a.Entry)
		add(a.Steps)
	}
	add(p.Completed)
	return order
}
