package flows

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Default returns the embedded content pack.
func Default() (*Pack, error) {
	return Parse(DefaultPackName, defaultPack)
}

// DefaultBytes returns the embedded pack's YAML, for `content check` and docs.
func DefaultBytes() []byte { return bytes.Clone(defaultPack) }

// LoadFile reads and parses the pack in path.
func LoadFile(path string) (*Pack, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read content pack: %w", err)
	}
	return Parse(path, b)
}

// Parse decodes a pack strictly: unknown keys are errors, so a typo in a
// key never silently drops a text.
func Parse(source string, b []byte) (*Pack, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	p := &Pack{}
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	p.Source = source
	p.lines = indexLines(&root)
	return p, nil
}

// ApplyLinks overrides named links with those of a links file (YAML, name:
// url). A name the pack does not have is an error: it is most likely a typo
// that would leave the real link a placeholder.
func (p *Pack) ApplyLinks(source string, b []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	var links map[string]string
	if err := yaml.Unmarshal(b, &links); err != nil {
		return fmt.Errorf("%s: links file must map link names to URLs: %w", source, err)
	}
	lines := indexLines(&root)
	names := make([]string, 0, len(links))
	for name := range links {
		names = append(names, name)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		if _, ok := p.Links[name]; !ok {
			errs = append(errs, fmt.Errorf("%s:%d: %s: unknown link (the pack has: %s)",
				source, lines[name], name, strings.Join(p.linkNames(), ", ")))
			continue
		}
		p.Links[name] = strings.TrimSpace(links[name])
	}
	return errors.Join(errs...)
}

// LoadLinksFile applies the links file at path.
func (p *Pack) LoadLinksFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read links file: %w", err)
	}
	return p.ApplyLinks(path, b)
}

func (p *Pack) linkNames() []string {
	names := make([]string, 0, len(p.Links))
	for n := range p.Links {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// lineIndex maps a key path such as "nodes.greeting.buttons[0].goto" to the
// line it stands on, so validation errors can point into the file.
type lineIndex map[string]int

func indexLines(root *yaml.Node) lineIndex {
	idx := lineIndex{}
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		walkLines(root.Content[0], "", idx)
	}
	return idx
}

func walkLines(n *yaml.Node, path string, idx lineIndex) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			idx[p] = k.Line
			walkLines(v, p, idx)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			idx[p] = c.Line
			walkLines(c, p, idx)
		}
	}
}

// line returns the line of path, or of its nearest ancestor that has one.
func (idx lineIndex) line(path string) int {
	for path != "" {
		if l, ok := idx[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}
