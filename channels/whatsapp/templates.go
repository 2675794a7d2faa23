package whatsapp

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tend-health/tend/bot"
)

// TemplatesEnv is the variable (read by internal/config) that names the file
// mapping purposes to approved templates; errors name it so that the
// operator knows what to fix.
const TemplatesEnv = "TEND_WHATSAPP_TEMPLATES"

//go:embed templates.default.yaml
var defaultTemplatesYAML []byte

// Purposes a template can serve; "reply" covers bot answers (bot.KindReply).
const (
	PurposeReply    = "reply"
	PurposeStaff    = bot.KindStaff
	PurposeNotice   = bot.KindNotice
	PurposeReminder = bot.KindReminder
	PurposeSurvey   = bot.KindSurvey
	PurposeCampaign = bot.KindCampaign
)

var purposes = map[string]bool{PurposeReply: true, PurposeStaff: true, PurposeNotice: true,
	PurposeReminder: true, PurposeSurvey: true, PurposeCampaign: true}

// TemplateSpec is one approved template and how to fill it.
type TemplateSpec struct {
	Name     string `yaml:"name"`
	Language string `yaml:"language"`
	// Languages picks another language code by the patient's language ("es": "es_MX").
	Languages map[string]string `yaml:"languages"`
	// Params are the body parameters in order: clinic, clinic_phone, from, param1..param9.
	Params []string `yaml:"params"`
}

// Templates maps purposes to templates.
type Templates struct {
	byPurpose map[string]TemplateSpec
}

type templatesFile struct {
	Templates map[string]TemplateSpec `yaml:"templates"`
}

var (
	templateNameRe = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	langCodeRe     = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
	paramRe        = regexp.MustCompile(`^(clinic|clinic_phone|from|param[1-9])$`)
)

// DefaultTemplates is the bundled mapping (templates.default.yaml).
func DefaultTemplates() *Templates {
	t, err := ParseTemplates(defaultTemplatesYAML, "templates.default.yaml")
	if err != nil {
		panic(err) // the bundled file is tested
	}
	return t
}

// LoadTemplates reads and validates a templates file.
func LoadTemplates(path string) (*Templates, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TemplatesEnv, err)
	}
	return ParseTemplates(data, path)
}

// ParseTemplates validates a templates document; the error lists every
// problem, each naming the purpose and field.
func ParseTemplates(data []byte, source string) (*Templates, error) {
	var f templatesFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("whatsapp templates %s: %w", source, err)
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("whatsapp templates %s: "+format, append([]any{source}, args...)...))
	}
	names := make([]string, 0, len(f.Templates))
	for p := range f.Templates {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		s := f.Templates[p]
		if !purposes[p] {
			bad("unknown purpose %q (use reply, staff, notice, reminder, survey or campaign)", p)
			continue
		}
		if !templateNameRe.MatchString(s.Name) {
			bad("%s: name %q must be the approved template's name: lower-case letters, digits and _", p, s.Name)
		}
		if !langCodeRe.MatchString(s.Language) {
			bad("%s: language %q must be a WhatsApp language code such as en_US or es", p, s.Language)
		}
		for lang, code := range s.Languages {
			if !langCodeRe.MatchString(code) {
				bad("%s: languages.%s %q must be a WhatsApp language code such as es_MX", p, lang, code)
			}
		}
		for i, param := range s.Params {
			if !paramRe.MatchString(param) {
				bad("%s: params[%d] %q must be clinic, clinic_phone, from or param1..param9", p, i, param)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if f.Templates == nil {
		f.Templates = map[string]TemplateSpec{}
	}
	return &Templates{byPurpose: f.Templates}, nil
}

// For returns the template for a purpose.
func (t *Templates) For(purpose string) (TemplateSpec, bool) {
	s, ok := t.byPurpose[purpose]
	return s, ok
}

// templateData is what parameters are filled from.
type templateData struct {
	Clinic, ClinicPhone string
	Reply               bot.Reply
}

// build renders the template request for a patient's language.
func (s TemplateSpec) build(lang string, d templateData) (*outTemplate, error) {
	code := s.Language
	if c, ok := s.Languages[lang]; ok {
		code = c
	}
	t := &outTemplate{Name: s.Name, Language: outLanguage{Code: code}}
	if len(s.Params) == 0 {
		return t, nil
	}
	var given []string
	if d.Reply.Template != nil {
		given = d.Reply.Template.Params
	}
	params := make([]outParam, 0, len(s.Params))
	for _, p := range s.Params {
		var v string
		switch p {
		case "clinic":
			v = d.Clinic
		case "clinic_phone":
			v = d.ClinicPhone
		case "from":
			v = d.Reply.From
		default:
			n, _ := strconv.Atoi(strings.TrimPrefix(p, "param"))
			if n < 1 || n > len(given) {
				return nil, fmt.Errorf("template %s needs %s, but the message has %d parameter(s)", s.Name, p, len(given))
			}
			v = given[n-1]
		}
		v = templateParam(v)
		if v == "" {
			return nil, fmt.Errorf("template %s: parameter %s is empty", s.Name, p)
		}
		params = append(params, outParam{Type: "text", Text: v})
	}
	t.Components = []outComponent{{Type: "body", Parameters: params}}
	return t, nil
}

// templateParam makes a value acceptable as a template parameter: WhatsApp
// refuses new lines, tabs and runs of more than four spaces in them.
func templateParam(v string) string {
	v = strings.Join(strings.Fields(v), " ")
	return clip(v, 200)
}
