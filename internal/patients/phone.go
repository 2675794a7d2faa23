package patients

import "strings"

// NormalizePhone keeps a phone number's digits, with the country code: ten
// digits are taken as a North American number and get a leading 1. Channel
// numbers (WhatsApp's wa_id "15550142001", Telegram's "+1 555 014 2001")
// and typed ones ("(555) 014-2001") then compare equal.
func NormalizePhone(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 10 {
		d = "1" + d
	}
	if len(d) < 7 || len(d) > 15 {
		return ""
	}
	return d
}

// NormalizeEmail lower-cases and trims an address; "" when it is not one.
func NormalizeEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.IndexByte(s, '@')
	if at < 1 || at == len(s)-1 || strings.ContainsAny(s, " \t,;<>") || !strings.Contains(s[at:], ".") {
		return ""
	}
	return s
}

// MaskPhone shows only the last two digits ("•••• 01"), for telling a
// patient where a code went without disclosing the number.
func MaskPhone(p string) string {
	if len(p) < 2 {
		return "••••"
	}
	return "•••• " + p[len(p)-2:]
}

// MaskEmail shows the first letter and the domain ("j•••@example.com").
func MaskEmail(e string) string {
	at := strings.IndexByte(e, '@')
	if at < 1 {
		return "•••"
	}
	return e[:1] + "•••" + e[at:]
}
