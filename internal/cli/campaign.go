package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/tend-health/tend/dialogs/campaign"
	"github.com/tend-health/tend/internal/app"
)

func init() {
	register("campaign", "campaign preview|run FILE, campaign due import FILE.csv, campaign examples (docs/surveys.md)", runCampaign)
}

const campaignUsage = "tend campaign preview FILE | tend campaign run FILE | tend campaign due import FILE.csv | tend campaign examples"

func runCampaign(ctx context.Context, env *Env, args []string) error {
	switch {
	case len(args) == 1 && args[0] == "examples":
		names := make([]string, 0)
		ex := campaign.Examples()
		for n := range ex {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(env.Stdout, "# %s\n%s\n", n, ex[n])
		}
		return nil
	case len(args) == 3 && args[0] == "due" && args[1] == "import":
		return importDue(ctx, env, args[2])
	case len(args) == 2 && (args[0] == "preview" || args[0] == "run"):
		return planCampaign(ctx, env, args[0] == "run", args[1])
	}
	return fmt.Errorf("%w: %s", errUsage, campaignUsage)
}

func planCampaign(ctx context.Context, env *Env, run bool, file string) error {
	c, err := campaign.LoadFile(file)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	cm := &campaign.Module{}
	a, err := withModule(ctx, env, cm)
	if err != nil {
		return err
	}
	defer a.Close()
	var plan campaign.Plan
	if run {
		plan, err = cm.Service.Run(ctx, c)
	} else {
		plan, err = cm.Service.Preview(ctx, c)
	}
	if errors.Is(err, campaign.ErrEnded) {
		return &exitError{code: 1, msg: err.Error()}
	}
	if err != nil {
		return err
	}
	printPlan(env.Stdout, c, plan, run)
	return nil
}

// printPlan shows record numbers, never names or contact details.
func printPlan(w io.Writer, c *campaign.Campaign, p campaign.Plan, run bool) {
	fmt.Fprintf(w, "campaign %s (%s)\n", c.ID, c.Name)
	fmt.Fprintf(w, "audience: %d patients match; %d can be sent, %d excluded\n", p.Matched, p.Eligible, len(p.Exclusions))
	if run {
		fmt.Fprintf(w, "queued: %d now, %d by an earlier run (not sent again)\n", p.Queued, p.Already)
	}
	reasons := make([]string, 0, len(p.Excluded))
	for r := range p.Excluded {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		var who []string
		for _, e := range p.Exclusions {
			if e.Reason == r && len(who) < 20 {
				who = append(who, e.Patient)
			}
		}
		fmt.Fprintf(w, "  excluded, %s: %d (%s)\n", r, p.Excluded[r], strings.Join(who, ", "))
	}
	for _, s := range p.Samples {
		fmt.Fprintf(w, "sample for %s (%s, %s):\n  %s\n", s.Patient, s.Channel, s.Lang, s.Text)
		if len(s.Buttons) > 0 {
			fmt.Fprintf(w, "  [%s]\n", strings.Join(s.Buttons, "] ["))
		}
	}
}

func importDue(ctx context.Context, env *Env, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := campaign.ParseDueCSV(f)
	if err != nil {
		return &exitError{code: 1, msg: file + ": " + err.Error()}
	}
	a, err := newApp(ctx, env, app.ModeCLI, true)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := campaign.ImportDue(ctx, a.DB, rows, a.Clock.Now()); err != nil {
		return &exitError{code: 1, msg: file + ": " + err.Error()}
	}
	fmt.Fprintf(env.Stdout, "imported %d due items from %s\n", len(rows), file)
	return nil
}
