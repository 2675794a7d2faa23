package whatsapp

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
)

func TestDefaultTemplates(t *testing.T) {
	t.Parallel()
	d := DefaultTemplates()
	for p := range purposes {
		s, ok := d.For(p)
		require.True(t, ok, "the bundled file covers %s", p)
		require.Equal(t, []string{"clinic"}, s.Params, "bundled templates carry no health details")
	}
	s, _ := d.For(PurposeStaff)
	tpl, err := s.build("es", templateData{Clinic: "Riverside Family Health", Reply: bot.Reply{Text: "secret lab result"}})
	require.NoError(t, err)
	require.Equal(t, "es", tpl.Language.Code)
	require.Equal(t, "Riverside Family Health", tpl.Components[0].Parameters[0].Text)
}

func TestParseTemplatesErrors(t *testing.T) {
	t.Parallel()
	_, err := ParseTemplates([]byte(`
templates:
  reminder: {name: "Bad Name", language: english, params: [clinic, date]}
  newsletter: {name: x, language: en}
  survey: {name: ok_name, language: en_US, languages: {es: spanish}}
`), "t.yaml")
	require.Error(t, err)
	for _, want := range []string{
		`reminder: name "Bad Name"`, `reminder: language "english"`, `reminder: params[1] "date"`,
		`unknown purpose "newsletter"`, `survey: languages.es "spanish"`,
	} {
		require.ErrorContains(t, err, want)
	}
	_, err = ParseTemplates([]byte("templates:\n  staff: {name: a, language: en, colour: red}\n"), "t.yaml")
	require.ErrorContains(t, err, "colour", "unknown fields are errors")
	_, err = ParseTemplates([]byte("templates: [1"), "t.yaml")
	require.Error(t, err)

	empty, err := ParseTemplates(nil, "empty")
	require.NoError(t, err)
	_, ok := empty.For(PurposeStaff)
	require.False(t, ok)
}

func TestLoadTemplatesFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "templates.yaml")
	require.NoError(t, os.WriteFile(path, defaultTemplatesYAML, 0o600))
	tpl, err := LoadTemplates(path)
	require.NoError(t, err)
	_, ok := tpl.For(PurposeCampaign)
	require.True(t, ok)
	_, err = LoadTemplates(filepath.Join(t.TempDir(), "missing.yaml"))
	require.ErrorContains(t, err, TemplatesEnv)
}

func TestTemplateParams(t *testing.T) {
	t.Parallel()
	s := TemplateSpec{Name: "tend_reminder", Language: "en_US", Params: []string{"clinic", "param2", "from", "clinic_phone"}}
	tpl, err := s.build("en", templateData{Clinic: "Maple", ClinicPhone: "555", Reply: bot.Reply{From: "Anna",
		Template: &bot.Template{Params: []string{"a", "Tuesday\t 10:00\n\n   am"}}}})
	require.NoError(t, err)
	var got []string
	for _, p := range tpl.Components[0].Parameters {
		got = append(got, p.Text)
	}
	require.Equal(t, []string{"Maple", "Tuesday 10:00 am", "Anna", "555"}, got)

	_, err = s.build("en", templateData{Clinic: "Maple", Reply: bot.Reply{Template: &bot.Template{Params: []string{"a"}}}})
	require.ErrorContains(t, err, "needs param2")
	_, err = TemplateSpec{Name: "t", Language: "en", Params: []string{"from"}}.build("en", templateData{})
	require.ErrorContains(t, err, "parameter from is empty")
}
