package cli

import (
	"context"
	"os"

	"github.com/tend-health/tend/channels/console"
	"github.com/tend-health/tend/internal/app"
)

func init() {
	register("chat", "talk to the bot in the terminal (one message per line)", runChat)
}

func runChat(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("chat", env)
	lang := fs.String("lang", "", "your language, en or es (default: from the LANG environment variable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *lang == "" {
		*lang = os.Getenv("LANG")
	}
	a, err := newApp(ctx, env, app.ModeCLI, true)
	if err != nil {
		return err
	}
	defer a.Close()
	s := &console.Session{Engine: a.Engine, In: env.Stdin, Out: env.Stdout, Locale: localeFromLang(*lang)}
	if env.IsTerminal {
		s.Prompt = "you> "
	}
	return s.Run(ctx)
}

// localeFromLang turns LANG-style values ("es_MX.UTF-8") into a locale.
func localeFromLang(v string) string {
	for i, r := range v {
		if r == '.' || r == '@' {
			return v[:i]
		}
	}
	return v
}
