package config

import (
	"reflect"
	"strings"
)

// Var is one environment variable Tend reads and its default ("" for none).
type Var struct {
	Name, Default string
}

// Variables lists every environment variable of Config, in the struct's
// order, read from its tags so that `tend serve --help` never goes stale.
func Variables() []Var {
	var out []Var
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("env"), ","); name != "" {
				out = append(out, Var{Name: name, Default: f.Tag.Get("envDefault")})
				continue
			}
			if f.Type.Kind() == reflect.Struct && f.IsExported() {
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeOf(Config{}))
	return out
}
