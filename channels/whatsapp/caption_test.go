package whatsapp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/channeltest"
	"github.com/tend-health/tend/channels/whatsapp"
	"github.com/tend-health/tend/channels/whatsapp/whatsapptest"
	"github.com/tend-health/tend/guards/triage"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// safetyEnv is an env with the triage guard and a staff channel.
func safetyEnv(t *testing.T, db *store.DB) (*env, *channeltest.StaffAlerts) {
	staff := &channeltest.StaffAlerts{}
	return newEnv(t, db, withModules(triage.Module{Staff: staff})), staff
}

// emergencyReply is what the web chat answers to text: the engine's
// emergency reply, the same on every channel.
func (e *env) emergencyReply(text string) string {
	e.t.Helper()
	web := e.webChat(strings.Repeat("ef", 24), "e1", text, "")
	require.NotEmpty(e.t, web)
	require.Equal(e.t, bot.ActionEmergency, web[0].Action)
	return web[0].Text
}

func (e *env) waitUrgent(staff *channeltest.StaffAlerts, waID string) {
	e.t.Helper()
	require.Eventually(e.t, func() bool { return staff.UrgentFor(whatsapp.Channel, waID) == 1 }, 20*time.Second, 20*time.Millisecond,
		"an urgent staff alert for %s", waID)
}

// settled waits until every recorded message is handled and every reply
// has left the queue, so that a test can check nothing more was sent.
func (e *env) settled() {
	e.t.Helper()
	require.Eventually(e.t, func() bool {
		var pending, queued int
		require.NoError(e.t, e.db.Q().QueryRow(context.Background(),
			`SELECT count(*) FROM inbound_messages WHERE status = 'pending'`).Scan(&pending))
		require.NoError(e.t, e.db.Q().QueryRow(context.Background(),
			`SELECT count(*) FROM outbound_messages WHERE status IN ('queued', 'sending')`).Scan(&queued))
		return pending == 0 && queued == 0
	}, 20*time.Second, 20*time.Millisecond)
}

// TestEmergencyCaption: an image, video or document whose caption is an
// emergency gets the emergency reply and an urgent staff alert, as the
// same words typed would; so does a forwarded message (issue 12).
func TestEmergencyCaption(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, staff := safetyEnv(t, db)
		want := e.emergencyReply(channeltest.EmergencyText)
		var patients []string
		for _, typ := range []string{"image", "video", "document"} {
			wa := newPatient()
			patients = append(patients, wa)
			require.Equal(t, http200, e.post(e.api.Notification(whatsapptest.Inbound(wa, "Ana",
				whatsapptest.Media(wa, wamid(), typ, channeltest.EmergencyText)))))
		}
		fwd := newPatient()
		patients = append(patients, fwd)
		require.Equal(t, http200, e.post(e.api.Notification(whatsapptest.Inbound(fwd, "Ana",
			whatsapptest.Forwarded(whatsapptest.Text(fwd, wamid(), channeltest.EmergencyText))))))
		for _, wa := range patients {
			require.Equal(t, want, e.waitSent(wa, 1)[0].Text, wa)
			e.waitUrgent(staff, wa)
		}
		e.settled()
		for _, wa := range patients {
			require.Len(t, e.api.SentTo(wa), 1, "nothing more follows the emergency reply")
		}
	})
}

// TestOrdinaryCaption: an ordinary caption is answered as the same words
// typed, after a short note that the bot cannot see the attachment; an
// image without a caption still gets the polite "text only" reply.
func TestOrdinaryCaption(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, staff := safetyEnv(t, db)
		wa := newPatient()
		require.Equal(t, http200, e.post(e.api.Notification(whatsapptest.Inbound(wa, "Ana",
			whatsapptest.Media(wa, wamid(), "image", "hi")))))
		web := e.webChat(strings.Repeat("ab", 24), "w1", "hi", "")
		sent := e.waitSent(wa, 1+len(web))
		require.Equal(t, e.app.Catalog.Text("en", "input.attachment_unseen", nil), sent[0].Text)
		for i, r := range web {
			requireSame(t, r.Reply, sent[1+i])
		}

		bare := newPatient()
		require.Equal(t, http200, e.post(e.api.Notification(whatsapptest.Inbound(bare, "Ana", whatsapptest.Image(bare, wamid())))))
		require.Equal(t, e.app.Catalog.Text("en", "input.unsupported", nil), e.waitSent(bare, 1)[0].Text)
		require.Zero(t, staff.UrgentFor(whatsapp.Channel, wa)+staff.UrgentFor(whatsapp.Channel, bare))
	})
}

// TestEditedMessage: an edit (delivered by Meta only for numbers also used
// in the WhatsApp Business app) that turns into an emergency gets the
// emergency reply and the staff alert; any other edit gets no answer.
func TestEditedMessage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, staff := safetyEnv(t, db)
		want := e.emergencyReply(channeltest.EmergencyText)
		wa, original := newPatient(), wamid()
		e.say(wa, original, "hi")
		first := len(e.waitSent(wa, 1))
		require.Equal(t, http200, e.post(e.api.Notification(whatsapptest.Inbound(wa, "Ana",
			whatsapptest.Edit(wa, wamid(), original, "hi there")))))
		require.Eventually(t, func() bool {
			var n int
			require.NoError(t, db.Q().QueryRow(context.Background(),
				`SELECT count(*) FROM inbound_messages WHERE channel = 'whatsapp'`).Scan(&n))
			return n == 2
		}, 20*time.Second, 20*time.Millisecond)
		e.settled()
		require.Len(t, e.api.SentTo(wa), first, "the ordinary edit got no answer")

		require.Equal(t, http200, e.post(e.api.Notification(whatsapptest.Inbound(wa, "Ana",
			whatsapptest.Edit(wa, wamid(), original, channeltest.EmergencyText)))))
		require.Equal(t, want, e.waitSent(wa, first+1)[first].Text)
		e.waitUrgent(staff, wa)
		e.settled()
		require.Len(t, e.api.SentTo(wa), first+1)
	})
}
