package whatsapp_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/channeltest"
	"github.com/tend-health/tend/channels/whatsapp"
	"github.com/tend-health/tend/channels/whatsapp/whatsapptest"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// badValues are the shapes of bad input issue 13 found blocking a channel.
var badValues = channeltest.BadValues("Ma", "ria")

// badMarker stands for the bad value in a body built with json.Marshal;
// badIDMarker for a message id made of a unique prefix and the bad value.
const (
	badMarker   = channeltest.BadMarker
	badIDMarker = "@@BADID@@"
)

func withBad(body []byte, v channeltest.BadValue) []byte {
	body = bytes.ReplaceAll(body, []byte(`"`+badIDMarker+`"`), []byte(`"`+wamid()+v.Raw[1:]))
	return bytes.ReplaceAll(body, []byte(`"`+badMarker+`"`), []byte(v.Raw))
}

// badNotifications are notifications with a message of each kind a patient
// can send, each from its own patient, with the bad value in every text
// field, and one with a status whose id and error title are bad (one
// notification each: 60,000 characters in every field of one would pass
// the 1 MiB limit). answered are the patients who must get an answer (an
// edit that is not an emergency gets none).
func (e *env) badNotifications(v channeltest.BadValue) (bodies [][]byte, answered []string) {
	add := func(m map[string]any, answers bool) {
		wa := m["from"].(string)
		bodies = append(bodies, withBad(e.api.Notification(whatsapptest.Inbound(wa, badMarker, m)), v))
		if answers {
			answered = append(answered, wa)
		}
	}
	p := newPatient
	add(whatsapptest.Text(p(), wamid(), badMarker), true)
	add(whatsapptest.Media(p(), wamid(), "image", badMarker), true)
	add(whatsapptest.Media(p(), wamid(), "video", badMarker), true)
	add(whatsapptest.Media(p(), wamid(), "document", badMarker), true)
	add(whatsapptest.Forwarded(whatsapptest.Text(p(), wamid(), badMarker)), true)
	add(whatsapptest.ButtonReply(p(), wamid(), badMarker, badMarker, badMarker), true)
	add(whatsapptest.ListReply(p(), wamid(), badMarker, badMarker, badMarker, badMarker), true)
	tpl := whatsapptest.Text(p(), wamid(), "")
	delete(tpl, "text")
	tpl["type"], tpl["button"] = "button", map[string]string{"payload": badMarker, "text": badMarker}
	add(tpl, true)
	add(whatsapptest.Text(p(), badIDMarker, "hello"), true)
	add(whatsapptest.Edit(p(), wamid(), wamid(), badMarker), false)
	bodies = append(bodies, withBad(e.api.Notification(whatsapptest.Statuses(map[string]any{"id": badMarker, "status": "failed",
		"timestamp": "1", "recipient_id": badMarker, "errors": []map[string]any{{"code": 131026, "title": badMarker}}})), v))
	return bodies, answered
}

// TestBadInputDoesNotBlockWebhook: notifications with a NUL, invalid UTF-8,
// 60,000 characters or a right-to-left override in every field are
// answered 200 (a 500 would have Meta resend them for a week) and every
// message in them is handled; the patients who write after them are
// answered (issue 13).
func TestBadInputDoesNotBlockWebhook(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var logs apptest.SyncBuffer
		e := newEnv(t, db, withLog(&logs))
		var answered []string
		for _, v := range badValues {
			bodies, ans := e.badNotifications(v)
			for _, body := range bodies {
				require.Equal(t, http.StatusOK, e.post(body), v.Name)
			}
			answered = append(answered, ans...)
		}
		good := []string{newPatient(), newPatient(), newPatient()}
		for _, wa := range good {
			e.say(wa, wamid(), "hello")
		}
		for _, wa := range append(good, answered...) {
			e.waitSent(wa, 1)
		}
		channeltest.RequireStoredClean(t, db, whatsapp.Channel, 0)
		require.Zero(t, testutil.ToFloat64(e.app.Metrics.Errors.WithLabelValues("whatsapp_webhook")))
		require.Zero(t, metricSum(t, e, "tend_webhook_rejections_total"), "nothing needed rejecting")
		require.NotContains(t, logs.String(), strings.Repeat("a", 100))
		require.NotContains(t, logs.String(), "gnp.exe")
	})
}

// metricSum adds up every series of a counter in the app's registry.
func metricSum(t *testing.T, e *env, name string) float64 {
	t.Helper()
	families, err := e.app.Metrics.Registry.Gather()
	require.NoError(t, err)
	sum := 0.0
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
