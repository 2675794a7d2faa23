// Package strictyaml decodes the files clinics write (surveys, campaigns):
// YAML or JSON, unknown keys refused so that a typo does not silently do
// nothing, an empty file said plainly, and a size cap.
package strictyaml

import (
	"bytes"
	"errors"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// MaxSize is the largest file read (1 MB); these files are small.
const MaxSize = 1 << 20

// Decode reads data (YAML, or JSON, which is YAML) into v.
func Decode(data []byte, v any) error {
	if len(data) > MaxSize {
		return errors.New("the file is over 1 MB")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("the file is empty")
		}
		return err
	}
	return nil
}

// LoadFile reads the file at path and hands it to parse (a campaign's or a
// survey's Parse), with the path as the source its errors name.
func LoadFile[T any](path string, parse func(data []byte, source string) (T, error)) (T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var none T
		return none, err
	}
	return parse(data, path)
}
