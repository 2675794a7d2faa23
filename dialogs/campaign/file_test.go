package campaign_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/dialogs/campaign"
)

func TestBundledExamples(t *testing.T) {
	t.Parallel()
	ex := campaign.Examples()
	require.Len(t, ex, 3)
	for name, data := range ex {
		c, err := campaign.Parse(data, name)
		require.NoError(t, err, name)
		require.NotEmpty(t, c.Message["es"], name)
		require.NotContains(t, c.Render("es", campaign.Fields{FirstName: "Ana", Clinic: "C", DueDate: "2026-10-01"}), "{{", name)
	}
}

func TestBadCampaignFiles(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ yaml, want string }{
		"bad id":          {"id: Flu 2026\nname: x\nmessage: {en: hi}", `id: "Flu 2026" must be`},
		"no english":      {"id: f\nname: x\nmessage: {es: hola}", "message.en is missing"},
		"unknown field":   {"id: f\nname: x\nmessage: {en: 'hi {{.Nickname}}'}", "message.en: template"},
		"unknown button":  {"id: f\nname: x\nmessage: {en: hi}\nbuttons: [buy]", `buttons[0]: "buy" must be one of`},
		"unknown channel": {"id: f\nname: x\nmessage: {en: hi}\nchannels: [sms]", `channels[0]: "sms"`},
		"age range":       {"id: f\nname: x\nmessage: {en: hi}\naudience: {min_age: 70, max_age: 50}", "do not make a range"},
		"due rule":        {"id: f\nname: x\nmessage: {en: hi}\naudience: {due: [{item: mammogram}]}", "audience.due[0] (mammogram): give exactly one"},
		"window":          {"id: f\nname: x\nmessage: {en: hi}\nwindow: {start: '9am', end: '5pm'}", "window: start and end must be HH:MM"},
		"typo":            {"id: f\nname: x\nmessage: {en: hi}\naudiance: {}", "field audiance not found"},
		"empty":           {"", "the file is empty"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := campaign.Parse([]byte(tc.yaml), "c.yaml")
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseDueCSV(t *testing.T) {
	t.Parallel()
	rows, err := campaign.ParseDueCSV(strings.NewReader("patient,item,last_done,due\nMG-1001,Mammogram,2024-05-01,\nMG-1002,prescription,,2026-10-09\n"))
	require.NoError(t, err)
	require.Equal(t, []campaign.DueRow{{Patient: "MG-1001", Item: "mammogram", LastDone: "2024-05-01"},
		{Patient: "MG-1002", Item: "prescription", Due: "2026-10-09"}}, rows)
	_, err = campaign.ParseDueCSV(strings.NewReader("patient,item,due\n,x,2026-01-01\nMG-1,y,soon\n"))
	require.ErrorContains(t, err, "line 2: patient (the record number) is missing")
	require.ErrorContains(t, err, `line 3: "soon" is not a date`)
}

func FuzzParseCampaign(f *testing.F) {
	for _, data := range campaign.Examples() {
		f.Add(data)
	}
	f.Add([]byte(`{"id": "j", "name": "J", "message": {"en": "hi {{.FirstName}}"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := campaign.Parse(data, "fuzz")
		if err != nil {
			return
		}
		_ = c.Render("es", campaign.Fields{FirstName: "<b>"})
		if c.PerSecond <= 0 || len(c.Channels) == 0 {
			t.Fatal("defaults not applied")
		}
	})
}
