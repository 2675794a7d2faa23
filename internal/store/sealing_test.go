package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/sealed"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

var at = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// turn stores what one engine turn stores: the message, a reply and the
// conversation's state, through the same methods (and the held-back
// writes PostgreSQL uses).
func turn(t *testing.T, db *store.DB, chat, ext, text string) store.Conversation {
	t.Helper()
	ctx := context.Background()
	var conv store.Conversation
	require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
		m := store.Inbound{Channel: "web", ExternalID: ext, SenderID: chat, Text: text,
			Meta: []byte(`{"first_name":"Walter"}`), ReceivedAt: at}
		c, inserted, err := tx.OpenWithInbound(ctx, chat, "en", at, &m, true)
		require.NoError(t, err)
		require.True(t, inserted)
		c.State = []byte(`{"booking":{"claim":"walter.brooks@example.com","dob":"1948-11-02"}}`)
		c.NextInSeq, c.HandledSeq, c.NextOutSeq = m.Seq, m.Seq, c.NextOutSeq+1
		out := store.Outbound{ConversationID: c.ID, Seq: c.NextOutSeq, InboundID: &m.ID, Channel: "web",
			Body: []byte(`{"text":"Thanks Walter, you said: ` + text + `"}`), CreatedAt: at}
		require.NoError(t, tx.InsertOutboundLater(ctx, &out))
		conv = c
		return tx.SaveConversationLater(ctx, &c, at)
	}))
	return conv
}

// raw reads one column of one row as the database holds it.
func raw(t *testing.T, db *store.DB, table, column string, id int64) string {
	t.Helper()
	var v string
	require.NoError(t, db.Q().QueryRow(context.Background(),
		`SELECT CAST(`+column+` AS text) FROM `+table+` WHERE id = $1`, id).Scan(&v))
	return v
}

func TestSealedAtRest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		storetest.Sealed(t, db)
		const said = "my chest hurts since Tuesday"
		c := turn(t, db, "chat-1", "m1", said)

		// What the database holds: ciphertext under the current key, nothing
		// of what was said, not even in JSON columns.
		kid := db.Keyring().Current()
		in, err := db.Q().FindInbound(ctx, "web", "m1")
		require.NoError(t, err)
		outs, err := db.Q().OutboundForInbound(ctx, in.ID)
		require.NoError(t, err)
		require.Len(t, outs, 1)
		for _, v := range []string{
			raw(t, db, "inbound_messages", "text", in.ID),
			raw(t, db, "inbound_messages", "meta", in.ID),
			raw(t, db, "conversations", "state", c.ID),
			raw(t, db, "outbound_messages", "body", outs[0].ID),
		} {
			v = strings.Trim(v, `"`)
			require.True(t, sealed.IsSealed(v), v)
			require.Equal(t, kid, sealed.KeyID(v))
			for _, secret := range []string{"chest", "Walter", "walter", "1948"} {
				require.NotContains(t, v, secret)
			}
		}

		// What the store returns: the plaintext, whichever way it is read.
		require.Equal(t, said, in.Text)
		require.JSONEq(t, `{"first_name":"Walter"}`, string(in.Meta))
		got, err := db.Q().GetConversation(ctx, c.ID)
		require.NoError(t, err)
		require.JSONEq(t, `{"booking":{"claim":"walter.brooks@example.com","dob":"1948-11-02"}}`, string(got.State))
		recent, err := db.Q().RecentInbound(ctx, c.ID, 5)
		require.NoError(t, err)
		require.Equal(t, said, recent[0].Text)
		require.Contains(t, string(outs[0].Body), said)

		// The next turn on PostgreSQL takes the one-statement path for an
		// existing conversation; the accept path too.
		turn(t, db, "chat-1", "m2", "and my arm")
		var accepted store.Inbound
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			accepted = store.Inbound{Channel: "web", ExternalID: "m3", SenderID: "chat-1", Text: "still there?", ReceivedAt: at}
			_, err := tx.AcceptInbound(ctx, "chat-1", "en", at, at, &accepted)
			return err
		}))
		require.NotContains(t, raw(t, db, "inbound_messages", "text", accepted.ID), "still")
		pending, err := db.Q().PendingInbound(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, "still there?", pending[len(pending)-1].Text)

		// Empty values hold nothing and stay as they are.
		m := store.Inbound{Channel: "web", ExternalID: "m4", SenderID: "chat-2", Payload: "menu:main", ReceivedAt: at}
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			_, _, err := tx.OpenWithInbound(ctx, "chat-2", "en", at, &m, true)
			return err
		}))
		require.Equal(t, "", raw(t, db, "inbound_messages", "text", m.ID))

		// A secret in kv.
		s1, err := db.Q().EnsureSecretKV(ctx, "booking:link_secret", "s3cret-value", at)
		require.NoError(t, err)
		s2, err := db.Q().EnsureSecretKV(ctx, "booking:link_secret", "another", at)
		require.NoError(t, err)
		require.Equal(t, "s3cret-value", s1)
		require.Equal(t, s1, s2, "made once")
		v, err := db.Q().GetKV(ctx, "booking:link_secret")
		require.NoError(t, err)
		require.True(t, sealed.IsSealed(v))

		// Without the key the data cannot be read, and says why.
		db.SetKeyring(nil)
		_, err = db.Q().GetConversation(ctx, c.ID)
		require.ErrorIs(t, err, sealed.ErrNoKey)
		require.NotContains(t, err.Error(), "booking")
		db.SetKeyring(storetest.Keys(t, 1))
		_, err = db.Q().FindInbound(ctx, "web", "m1")
		require.ErrorIs(t, err, sealed.ErrUnknownKey)
	})
}

// Plaintext written before a key was configured reads back once one is;
// values sealed then read back while both are in the store.
func TestPlaintextBeforeTheKey(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := turn(t, db, "chat-1", "m1", "before the key")
		in, err := db.Q().FindInbound(ctx, "web", "m1")
		require.NoError(t, err)
		require.Equal(t, "before the key", raw(t, db, "inbound_messages", "text", in.ID), "no key: plaintext")

		storetest.Sealed(t, db)
		turn(t, db, "chat-1", "m2", "after the key")
		recent, err := db.Q().RecentInbound(ctx, c.ID, 5)
		require.NoError(t, err)
		require.Equal(t, "before the key", recent[0].Text)
		require.Equal(t, "after the key", recent[1].Text)
		require.NotContains(t, raw(t, db, "inbound_messages", "text", recent[1].ID), "after")
	})
}
