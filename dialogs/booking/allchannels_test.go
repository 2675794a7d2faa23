package booking_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/booking/bookingtest"
	"github.com/tend-health/tend/internal/store/storetest"
)

// engineDriver plays a patient through Engine.Handle on a channel, with
// Meta as that channel's adapter sets it. The channel packages drive the
// same script through their real adapters and fake APIs
// (channels/telegram/booking_e2e_test.go, channels/whatsapp/booking_e2e_test.go).
type engineDriver struct {
	e       *env
	channel string
	chat    string
	meta    map[string]string
	n       int
}

func (d *engineDriver) Send(t *testing.T, text, payload string) []bot.Reply {
	t.Helper()
	d.n++
	out, err := d.e.app.Engine.Handle(context.Background(), bot.Inbound{Channel: d.channel, ChatID: d.chat, SenderID: d.chat,
		MessageID: fmt.Sprintf("%s-%d", d.chat, d.n), Text: text, Payload: payload, Meta: d.meta})
	require.NoError(t, err)
	var rs []bot.Reply
	for _, s := range out.Replies {
		rs = append(rs, s.Reply)
	}
	return rs
}

func (d *engineDriver) ShareContact(t *testing.T, phone string) []bot.Reply {
	d.meta = map[string]string{bot.MetaPhone: phone}
	defer func() { d.meta = nil }()
	return d.Send(t, phone, "")
}

// TestScenarioOnEveryChannel runs the channel-agnostic script on web chat
// (code), WhatsApp (sender number) and Telegram (shared contact).
func TestScenarioOnEveryChannel(t *testing.T) {
	t.Parallel()
	for _, ch := range []string{"web", "whatsapp", "telegram"} {
		t.Run(ch, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, storetest.OpenSQLite(t))
			d := &engineDriver{e: e, channel: ch, chat: "walter-" + ch}
			if ch == "whatsapp" {
				d.meta = map[string]string{bot.MetaPhone: "15550142002"} // WhatsApp's sender number
			}
			bookingtest.VerifyBookRescheduleCancel(t, d, bookingtest.Walter, bookingtest.Hooks{Code: func() string { return e.codes.last(2) }})
		})
	}
}
