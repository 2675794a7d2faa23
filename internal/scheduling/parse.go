package scheduling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tend-health/tend/internal/csvfile"
)

// LineError is one problem in a schedule file: by line for YAML and CSV,
// by path for JSON (and for YAML too, where it helps).
type LineError struct {
	Line int    `json:"line,omitempty"`
	Path string `json:"path,omitempty"`
	Msg  string `json:"error"`
}

func (e LineError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ImportError lists every problem found in a schedule; nothing was imported.
type ImportError struct{ Errors []LineError }

func (e *ImportError) Error() string { return csvfile.Summary(e.Errors, 30) }

// Parse reads a schedule in the format its name says (.yaml, .yml, .json,
// .csv), without validating it (Compile does).
func Parse(name string, data []byte) (Schedule, error) {
	switch lower := strings.ToLower(name); {
	case strings.HasSuffix(lower, ".csv"):
		return ParseCSV(bytes.NewReader(data))
	case strings.HasSuffix(lower, ".json"):
		return ParseJSON(data)
	default:
		return ParseYAML(data)
	}
}

// ParseJSON reads the JSON form (the API's); unknown fields are errors.
func ParseJSON(data []byte) (Schedule, error) {
	var s Schedule
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, &ImportError{Errors: []LineError{{Msg: "invalid JSON: " + err.Error()}}}
	}
	return s, nil
}

var yamlLineRe = regexp.MustCompile(`line (\d+): (.*)`)

// ParseYAML reads the YAML form, remembering each entry's line.
func ParseYAML(data []byte) (Schedule, error) {
	var s Schedule
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return s, yamlErrors(err)
	}
	if len(root.Content) == 0 {
		return s, &ImportError{Errors: []LineError{{Line: 1, Msg: "the file is empty"}}}
	}
	if err := decodeStrict(root.Content[0], &s, ""); err != nil {
		return Schedule{}, err
	}
	return s, nil
}

func yamlErrors(err error) error {
	var out []LineError
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		if g := yamlLineRe.FindStringSubmatch(m); g != nil {
			n, _ := strconv.Atoi(g[1])
			out = append(out, LineError{Line: n, Msg: g[2]})
		} else {
			out = append(out, LineError{Msg: strings.TrimPrefix(m, "yaml: ")})
		}
	}
	return &ImportError{Errors: out}
}

// decodeStrict decodes node into v (a pointer to a struct), reporting keys
// the struct does not have and recording Line fields, recursively for
// lists of structs. yaml.v3 loses KnownFields inside custom decoders, so
// the check is done here.
func decodeStrict(n *yaml.Node, v any, path string) error {
	rv := reflect.ValueOf(v).Elem()
	if n.Kind != yaml.MappingNode {
		return &ImportError{Errors: []LineError{{Line: n.Line, Path: path, Msg: "expected a mapping of keys to values"}}}
	}
	fields := yamlFields(rv.Type())
	var errs []LineError
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		fi, ok := fields[key.Value]
		p := joinPath(path, key.Value)
		if !ok {
			errs = append(errs, LineError{Line: key.Line, Path: p, Msg: "unknown key"})
			continue
		}
		f := rv.Field(fi)
		if err := decodeField(val, f, p); err != nil {
			var ie *ImportError
			if errors.As(err, &ie) {
				errs = append(errs, ie.Errors...)
				continue
			}
			errs = append(errs, LineError{Line: val.Line, Path: p, Msg: err.Error()})
		}
	}
	if lf := rv.FieldByName("Line"); lf.IsValid() && lf.Kind() == reflect.Int {
		lf.SetInt(int64(n.Line))
	}
	if len(errs) > 0 {
		return &ImportError{Errors: errs}
	}
	return nil
}

func decodeField(val *yaml.Node, f reflect.Value, path string) error {
	if f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct {
		if val.Kind != yaml.SequenceNode {
			return &ImportError{Errors: []LineError{{Line: val.Line, Path: path, Msg: "expected a list"}}}
		}
		var errs []LineError
		out := reflect.MakeSlice(f.Type(), len(val.Content), len(val.Content))
		for j, item := range val.Content {
			if err := decodeStrict(item, out.Index(j).Addr().Interface(), fmt.Sprintf("%s[%d]", path, j)); err != nil {
				var ie *ImportError
				if errors.As(err, &ie) {
					errs = append(errs, ie.Errors...)
				}
			}
		}
		f.Set(out)
		if len(errs) > 0 {
			return &ImportError{Errors: errs}
		}
		return nil
	}
	if err := val.Decode(f.Addr().Interface()); err != nil {
		return errors.New(cleanYAMLError(err))
	}
	return nil
}

func cleanYAMLError(err error) string {
	s := err.Error()
	if g := yamlLineRe.FindStringSubmatch(s); g != nil {
		return g[2]
	}
	return strings.TrimPrefix(s, "yaml: ")
}

func yamlFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag != "" && tag != "-" {
			out[tag] = i
		}
	}
	return out
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// UnmarshalYAML accepts a plain string (English) or a map of languages.
func (t *Text) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*t = Text{"en": n.Value}
		return nil
	}
	m := map[string]string{}
	if err := n.Decode(&m); err != nil {
		return err
	}
	*t = m
	return nil
}

// UnmarshalJSON accepts a plain string (English) or an object of languages.
func (t *Text) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = Text{"en": s}
		return nil
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return errors.New("expected a string or an object of languages")
	}
	*t = m
	return nil
}
