package knowledge

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// frontMatter is the YAML block between "---" lines at the top of a file.
type frontMatter struct {
	Title    string   `yaml:"title"`
	Updated  string   `yaml:"updated"`
	Language string   `yaml:"language"`
	Audience string   `yaml:"audience"`
	Tags     tagsList `yaml:"tags"`
	// TranslationOf names the document this one translates (its path in
	// the folder, e.g. "billing.md").
	TranslationOf string `yaml:"translation_of"`

	htmlTitle string // <title>, a fallback when there is no other title
}

// tagsList accepts a YAML list or a comma-separated string.
type tagsList []string

func (t *tagsList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		for _, p := range strings.Split(n.Value, ",") {
			if p = strings.TrimSpace(p); p != "" {
				*t = append(*t, p)
			}
		}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*t = list
	return nil
}

// splitFrontMatter removes a leading front matter block and decodes it. A
// file without one is returned unchanged.
func splitFrontMatter(text string) (string, frontMatter, error) {
	var fm frontMatter
	trimmed := strings.TrimLeft(text, " \t\n")
	if !strings.HasPrefix(trimmed, "---\n") && !strings.HasPrefix(trimmed, "---\r") {
		return text, fm, nil
	}
	rest := trimmed[4:]
	end := -1
	for off := 0; off <= len(rest); {
		line, _, found := strings.Cut(rest[off:], "\n")
		if l := strings.TrimSpace(line); l == "---" || l == "..." {
			end = off
			break
		}
		if !found {
			break
		}
		off += len(line) + 1
	}
	if end < 0 {
		// An opening "---" without a closing one is a horizontal rule, not
		// front matter.
		return text, fm, nil
	}
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(rest[:end]), &node); err != nil {
		return "", fm, err
	}
	if len(node.Content) > 0 {
		if err := node.Content[0].Decode(&fm); err != nil {
			return "", fm, err
		}
	}
	body := rest[end:]
	if _, after, ok := strings.Cut(body, "\n"); ok {
		body = after
	} else {
		body = ""
	}
	return body, fm, nil
}
