package slack

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// runSocket keeps a Socket Mode connection open until ctx ends, opening a
// new one (with backoff) whenever it drops or fails to connect.
func (m *Module) runSocket(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		opts := []socketmode.Option{socketmode.OptionLog(slogWriter{m.a.Log})}
		if m.opts.SocketPingInterval > 0 {
			opts = append(opts, socketmode.OptionPingInterval(m.opts.SocketPingInterval))
		}
		client := socketmode.New(m.api, opts...)
		cctx, cancel := context.WithCancel(ctx)
		consumed := make(chan struct{})
		connected := false
		go func() {
			defer close(consumed)
			m.consume(cctx, client, &connected)
		}()
		err := client.RunContext(cctx)
		cancel()
		<-consumed
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = time.Second
		}
		m.a.Log.Warn("slack socket mode disconnected; reconnecting", "error", err, "in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff + time.Duration(rand.Int64N(int64(backoff/2)+1))):
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// consume handles the client's events until ctx ends. An envelope is
// acknowledged only once what it carries is stored; unacknowledged ones are
// sent again by Slack, so a database hiccup loses nothing.
func (m *Module) consume(ctx context.Context, client *socketmode.Client, connected *bool) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt, ok := <-client.Events:
			if !ok {
				return
			}
			m.socketEvent(ctx, client, evt, connected)
		}
	}
}

func (m *Module) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event, connected *bool) {
	log := m.a.Log
	switch evt.Type {
	case socketmode.EventTypeConnected:
		*connected = true
		log.Info("slack socket mode connected")
		return
	case socketmode.EventTypeInvalidAuth:
		log.Error("slack socket mode: invalid app token (SLACK_APP_TOKEN)")
		return
	case socketmode.EventTypeConnectionError:
		if ce, ok := evt.Data.(*slackgo.ConnectionErrorEvent); ok {
			log.Warn("slack socket mode cannot connect; retrying", "attempt", ce.Attempt, "backoff", ce.Backoff.String(), "error", ce.ErrorObj)
		}
		return
	case socketmode.EventTypeIncomingError:
		log.Warn("slack socket mode error", "type", string(evt.Type))
		return
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeInteractive:
	default:
		return
	}
	req := evt.Request
	if req == nil {
		return
	}
	var err error
	if evt.Type == socketmode.EventTypeEventsAPI {
		var env eventEnvelope
		if env, err = decodeEnvelope(req.Payload); err == nil && env.Type == "event_callback" {
			var stored bool
			stored, err = m.acceptEvent(ctx, env)
			if err == nil && !stored && req.RetryAttempt > 0 {
				log.Info("slack retry dropped", "event_id", env.EventID, "retry", req.RetryAttempt)
			}
		}
	} else {
		_, err = m.acceptInteraction(ctx, req.Payload)
	}
	if err != nil && !errors.Is(err, errMalformed) {
		log.Error("slack socket mode envelope not stored; Slack will resend it", "type", string(evt.Type), "error", err)
		return
	}
	if err != nil {
		log.Warn("slack socket mode envelope malformed; acknowledged and dropped", "error", err)
	}
	if err := client.Ack(*req); err != nil {
		log.Warn("slack socket mode ack failed", "error", err)
	}
}

// slogWriter sends the Socket Mode client's own log lines to the app's
// logger at debug level (they may quote payloads, so never above debug).
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Output(_ int, s string) error {
	w.l.Debug("slack socket mode", "detail", strings.TrimSpace(s))
	return nil
}
