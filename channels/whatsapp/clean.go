package whatsapp

import "github.com/tend-health/tend/bot"

// sanitize makes every text of an inbound message valid before anything
// stores it (bot.SanitizeInbound), so that one bad field cannot make the
// database refuse the notification and Meta resend it for a week. The
// Cloud API tells no language: the locale stays empty.
func sanitize(in *bot.Inbound) {
	bot.SanitizeInbound(in)
	in.Locale = ""
}
