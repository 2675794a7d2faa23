package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/admin"
	"github.com/tend-health/tend/channels/console"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/httpserver"
)

func init() {
	register("ask", "answer one question (--json for machine-readable output; no text reads one question per line)", runAsk)
}

// Answer is `tend ask --json` output, one object per question: the same
// JSON as the console's POST /api/v1/kb/ask (channels/admin).
type Answer = admin.Answer

// Summarize folds a turn's replies into one Answer.
func Summarize(replies []bot.Sent) Answer { return admin.Summarize(replies) }

func runAsk(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("ask", env)
	asJSON := fs.Bool("json", false, "print one JSON object per question")
	lang := fs.String("lang", "", "the patient's language (en, es)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := newApp(ctx, env, app.ModeCLI, true)
	if err != nil {
		return err
	}
	defer a.Close()
	ask := func(q string) error {
		// Each question is a conversation of its own.
		chat := "ask-" + httpserver.RandomToken(8)
		out, err := a.Engine.Handle(ctx, bot.Inbound{Channel: "cli", ChatID: chat, SenderID: chat,
			MessageID: chat, Text: q, Locale: *lang})
		if err != nil {
			return err
		}
		if *asJSON {
			b, err := json.Marshal(Summarize(out.Replies))
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, string(b))
			return nil
		}
		for _, r := range out.Replies {
			console.Render(env.Stdout, r.Reply)
		}
		return nil
	}
	if text := strings.TrimSpace(strings.Join(fs.Args(), " ")); text != "" {
		return ask(text)
	}
	sc := bufio.NewScanner(env.Stdin)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := ask(line); err != nil {
			return err
		}
	}
	return sc.Err()
}
