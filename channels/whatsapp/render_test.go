package whatsapp

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
)

func say(id string) string { return "[" + id + "]" }

func buttons(labels ...string) []bot.Button {
	b := make([]bot.Button, len(labels))
	for i, l := range labels {
		b[i] = bot.Button{Label: l, Payload: "d:a:" + strconv.Itoa(i)}
	}
	return b
}

func TestRenderChoosesTheWidget(t *testing.T) {
	t.Parallel()
	long := "A label that is far too long for a button"
	tests := []struct {
		name    string
		buttons []bot.Button
		kind    string
	}{
		{"none", nil, ""},
		{"three short", buttons("Yes", "No", "Maybe"), "button"},
		{"four", buttons("A", "B", "C", "D"), "list"},
		{"one long label", buttons("Yes", long), "list"},
		{"duplicate labels", buttons("Same", "Same"), "list"},
		{"ten", buttons("1", "2", "3", "4", "5", "6", "7", "8", "9", "10"), "list"},
		{"eleven", buttons("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"), "numbered"},
		{"duplicate payloads", []bot.Button{{Label: "A", Payload: "x"}, {Label: "B", Payload: "x"}}, "numbered"},
		{"payload too long for a row", []bot.Button{{Label: "A", Payload: strings.Repeat("p", 201)}, {Label: "B", Payload: "q"},
			{Label: "C", Payload: "r"}, {Label: "D", Payload: "s"}}, "numbered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.kind, interactiveKind(tc.buttons))
		})
	}
}

func TestRenderList(t *testing.T) {
	t.Parallel()
	label := "Prepare for your first visit to the clinic and what to bring along with you today"
	out := render(bot.Reply{Text: "How can I help?", Buttons: buttons("Costs", label, "Insurance", "Talk to a person")}, say)
	require.Len(t, out.parts, 1)
	in := out.parts[0].Interactive
	require.Equal(t, "list", in.Type)
	require.Equal(t, "How can I help?", in.Body.Text)
	require.Equal(t, "[whatsapp.list_butt…", in.Action.Button, "cut to 20 characters")
	rows := in.Action.Sections[0].Rows
	require.Len(t, rows, 4)
	require.Equal(t, "Costs", rows[0].Title)
	require.Empty(t, rows[0].Description)
	require.LessOrEqual(t, utf8.RuneCountInString(rows[1].Title), maxRowTitle)
	require.True(t, strings.HasSuffix(rows[1].Title, "…"))
	require.True(t, strings.HasPrefix(label, strings.TrimSuffix(rows[1].Title, "…")), "cut, not rewritten")
	require.LessOrEqual(t, utf8.RuneCountInString(rows[1].Description), maxRowDescription)
	require.Equal(t, "d:a:1", rows[1].ID)
}

func TestRenderLongBodyWithButtons(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("Word ", 300) // 1,500 characters: over the 1,024 of an interactive body
	out := render(bot.Reply{Text: text, Buttons: buttons("Yes", "No")}, say)
	require.Len(t, out.parts, 2)
	require.Equal(t, "text", out.parts[0].Type)
	require.Equal(t, strings.TrimSpace(text), out.parts[0].Text.Body)
	require.Equal(t, "[whatsapp.choose]", out.parts[1].Interactive.Body.Text)
	require.Equal(t, "button", out.parts[1].Interactive.Type)
}

func TestRenderSplitsLongText(t *testing.T) {
	t.Parallel()
	para := strings.Repeat("This is a sentence about visits. ", 60) // ~2,000 characters
	text := para + "\n\n" + para + "\n\n" + para
	out := render(bot.Reply{Text: text}, say)
	require.Len(t, out.parts, 2)
	var joined []string
	for _, p := range out.parts {
		n := utf8.RuneCountInString(p.Text.Body)
		require.LessOrEqual(t, n, maxTextBody)
		require.True(t, strings.HasSuffix(p.Text.Body, "."), "cut at a boundary")
		joined = append(joined, p.Text.Body)
	}
	require.Equal(t, strings.Fields(text), strings.Fields(strings.Join(joined, " ")), "no word lost")
}

func TestRenderNumbered(t *testing.T) {
	t.Parallel()
	b := buttons("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "Eleven")
	out := render(bot.Reply{Text: "Pick:", Buttons: b}, say)
	require.Len(t, out.parts, 1)
	require.Equal(t, b, out.numbered)
	require.Contains(t, out.parts[0].Text.Body, "Pick:\n\n1. 1\n")
	require.Contains(t, out.parts[0].Text.Body, "11. Eleven\n\n[whatsapp.reply_with_number]")
}

func TestRenderStaffAndLinks(t *testing.T) {
	t.Parallel()
	out := render(bot.Reply{Text: "See you soon.", From: "Anna from Maple Grove",
		Links: []bot.Link{{Label: "Directions", URL: "https://example.org/map"}, {URL: "https://example.org"}}}, say)
	require.Len(t, out.parts, 1)
	require.Equal(t, "*Anna from Maple Grove:* See you soon.\nDirections: https://example.org/map\nhttps://example.org",
		out.parts[0].Text.Body)
	require.True(t, out.parts[0].Text.PreviewURL)
	require.Empty(t, render(bot.Reply{}, say).parts, "an empty reply sends nothing")
}

func TestShorten(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Short", shorten("Short", 20))
	require.Equal(t, "Talk to a person…", shorten("Talk to a person at the front desk", 20))
	require.Equal(t, "Supercalifragilisti…", shorten("Supercalifragilisticexpialidocious", 20))
	require.Equal(t, 20, utf8.RuneCountInString(shorten(strings.Repeat("é", 30), 20)))
}

func TestOptionNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"3": 3, " 12 ": 12, "4.": 4, "5)": 5, "0": 0, "100": 0, "3 please": 0, "": 0, "x": 0} {
		require.Equal(t, want, optionNumber(in), in)
	}
}

// A 0-10 scale has 11 options, one more than a list holds: it is shown as
// the numbers themselves, and a typed number means that score, not a position.
func TestScaleBeyondAListMapsTypedNumbersToScores(t *testing.T) {
	t.Parallel()
	var scale []bot.Button
	for i := 0; i <= 10; i++ {
		scale = append(scale, bot.Button{Label: strconv.Itoa(i), Payload: "survey:answer:" + strconv.Itoa(i)})
	}
	out := render(bot.Reply{Text: "How likely are you to recommend us?", Buttons: scale}, func(id string) string { return id })
	require.Len(t, out.parts, 1)
	require.Contains(t, out.parts[0].Text.Body, "0 · 1 · 2 · 3 · 4 · 5 · 6 · 7 · 8 · 9 · 10")
	for typed, want := range map[string]string{"8": "survey:answer:8", "0": "survey:answer:0", "10.": "survey:answer:10"} {
		b, ok := pickOption(out.numbered, typed, optionNumber(typed))
		require.True(t, ok, typed)
		require.Equal(t, want, b.Payload, typed)
	}
	_, ok := pickOption(out.numbered, "11", 11)
	require.False(t, ok)

	// Ordinary options keep their positions.
	words := []bot.Button{{Label: "Morning", Payload: "a"}, {Label: "Afternoon", Payload: "b"}}
	b, ok := pickOption(words, "2", 2)
	require.True(t, ok)
	require.Equal(t, "b", b.Payload)
}
