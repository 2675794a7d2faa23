package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/internal/logging"
	"github.com/tend-health/tend/internal/schema"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/knowledge"
)

func init() {
	register("kb", "the knowledge base: sync DIR, list, search \"question\", unanswered", runKB)
}

const kbUsage = `usage:
  tend kb sync DIR            index the documents in DIR (added, changed, removed)
  tend kb list                indexed documents, versions and passages
  tend kb search "question"   ranked passages with scores and the signals behind them
  tend kb unanswered          questions the bot still cannot answer, grouped by meaning, most asked first
  tend kb dismiss ID REASON   take a group of unanswered questions off the list (ID from kb unanswered)`

func runKB(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, kbUsage)
		return errUsage
	}
	switch args[0] {
	case "sync":
		return runKBSync(ctx, env, args[1:])
	case "list":
		return runKBList(ctx, env, args[1:])
	case "search":
		return runKBSearch(ctx, env, args[1:])
	case "unanswered":
		return runKBUnanswered(ctx, env, args[1:])
	case "dismiss":
		return runKBDismiss(ctx, env, args[1:])
	case "help", "-h", "--help":
		fmt.Fprintln(env.Stdout, kbUsage)
		return nil
	}
	fmt.Fprintln(env.Stderr, kbUsage)
	return fmt.Errorf("%w: unknown kb command %q", errUsage, args[0])
}

// openKB opens and migrates the store and builds the knowledge base the
// way the bot does, without assembling the rest of the app (which would
// sync at start).
func openKB(ctx context.Context, env *Env) (*knowledge.Base, func(), error) {
	db := env.AppOptions.Store
	closeFn := func() {}
	if db == nil {
		var err error
		db, err = store.Open(ctx, store.Options{PostgresURL: env.Config.DatabaseURL.Reveal(), SQLitePath: env.Config.SQLitePath(),
			Migrations: schema.All()})
		if err != nil {
			return nil, nil, err
		}
		closeFn = func() { _ = db.Close() }
	}
	if _, err := db.Migrate(ctx); err != nil {
		closeFn()
		return nil, nil, err
	}
	e, err := faq.NewEmbedder(env.Config, false)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	log := logging.New(env.Stderr, "warn", env.Config.LogFormat)
	return knowledge.New(db, knowledge.Options{Embedder: e, Logger: log}), closeFn, nil
}

func runKBSync(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("kb sync", env)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: tend kb sync DIR", errUsage)
	}
	dir, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a readable folder", fs.Arg(0))
	}
	kb, closeFn, err := openKB(ctx, env)
	if err != nil {
		return err
	}
	defer closeFn()
	p := newSyncProgress(env)
	rep, err := kb.Sync(ctx, knowledge.Source{Name: dir, FS: os.DirFS(dir)}, knowledge.SyncOptions{OnProgress: p.update})
	p.finish()
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeSyncJSON(env.Stdout, rep); err != nil {
			return err
		}
	} else {
		printSyncReport(env.Stdout, rep)
	}
	if len(rep.Failed) > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d of %d files could not be read; the others were synced",
			len(rep.Failed), len(rep.Failed)+len(rep.Added)+len(rep.Changed)+len(rep.Unchanged))}
	}
	return nil
}

// syncProgress shows a progress bar on a terminal and plain lines
// otherwise (logs, CI).
type syncProgress struct {
	env   *Env
	bars  bool
	bar   *progressbar.ProgressBar
	stage string
	step  int
}

func newSyncProgress(env *Env) *syncProgress {
	return &syncProgress{env: env, bars: stderrIsTerminal(env)}
}

// stderrIsTerminal reports whether progress bars can be drawn: the bar goes
// to stderr, so that is the stream that must be a terminal.
func stderrIsTerminal(env *Env) bool {
	f, ok := env.Stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (s *syncProgress) update(p knowledge.Progress) {
	if p.Stage == knowledge.StageRead && p.Status == knowledge.StatusFailed {
		s.clear()
		fmt.Fprintf(s.env.Stderr, "FAILED %v\n", p.Err)
	}
	if !s.bars {
		s.plain(p)
		return
	}
	if p.Stage != s.stage {
		s.clear()
		s.stage = p.Stage
		desc := map[string]string{knowledge.StageRead: "reading  ", knowledge.StageEmbed: "embedding", knowledge.StageSave: "saving   "}[p.Stage]
		s.bar = progressbar.NewOptions(p.Total, progressbar.OptionSetWriter(s.env.Stderr), progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(50*time.Millisecond),
			progressbar.OptionClearOnFinish())
	}
	_ = s.bar.Set(p.Done)
}

// plain prints a line per changed file and about ten lines per stage.
func (s *syncProgress) plain(p knowledge.Progress) {
	switch {
	case p.Stage == knowledge.StageRead && (p.Status == knowledge.StatusAdded || p.Status == knowledge.StatusChanged):
		fmt.Fprintf(s.env.Stderr, "%-9s %s\n", p.Status, p.Path)
	case p.Stage == knowledge.StageEmbed:
		if p.Stage != s.stage {
			s.stage, s.step = p.Stage, 0
		}
		if pct := p.Done * 10 / max(p.Total, 1); pct > s.step || p.Done == p.Total {
			s.step = pct
			fmt.Fprintf(s.env.Stderr, "embedded  %d/%d passages\n", p.Done, p.Total)
		}
	}
}

func (s *syncProgress) clear() {
	if s.bar != nil {
		_ = s.bar.Finish()
		s.bar = nil
	}
}

func (s *syncProgress) finish() { s.clear() }

func printSyncReport(w io.Writer, rep knowledge.SyncReport) {
	for _, p := range rep.Removed {
		fmt.Fprintf(w, "removed   %s\n", p)
	}
	for _, f := range rep.Failed {
		fmt.Fprintf(w, "failed    %v\n", f.Err)
	}
	fmt.Fprintf(w, "synced %s: %d added, %d changed, %d removed, %d unchanged, %d failed (%d passages written, %d embedded with %s) in %s\n",
		rep.Source, len(rep.Added), len(rep.Changed), len(rep.Removed), len(rep.Unchanged), len(rep.Failed),
		rep.Chunks, rep.Embedded, rep.Model, rep.Elapsed.Round(time.Millisecond))
}

func writeSyncJSON(w io.Writer, rep knowledge.SyncReport) error {
	type failed struct {
		Path  string `json:"path"`
		Error string `json:"error"`
	}
	out := struct {
		Source    string   `json:"source"`
		Model     string   `json:"model"`
		Added     []string `json:"added"`
		Changed   []string `json:"changed"`
		Removed   []string `json:"removed"`
		Unchanged []string `json:"unchanged"`
		Failed    []failed `json:"failed"`
		Chunks    int      `json:"chunks"`
		Embedded  int      `json:"embedded"`
		ElapsedMS int64    `json:"elapsed_ms"`
	}{rep.Source, rep.Model, nonNil(rep.Added), nonNil(rep.Changed), nonNil(rep.Removed), nonNil(rep.Unchanged),
		[]failed{}, rep.Chunks, rep.Embedded, rep.Elapsed.Milliseconds()}
	for _, f := range rep.Failed {
		out.Failed = append(out.Failed, failed{f.Path, f.Err.Error()})
	}
	return json.NewEncoder(w).Encode(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func runKBList(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("kb list", env)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	kb, closeFn, err := openKB(ctx, env)
	if err != nil {
		return err
	}
	defer closeFn()
	docs, err := kb.Documents(ctx, kb.DB().Q())
	if err != nil {
		return err
	}
	st, err := kb.State(ctx, kb.DB().Q())
	if err != nil {
		return err
	}
	if *asJSON {
		if docs == nil {
			docs = []knowledge.DocumentInfo{}
		}
		return json.NewEncoder(env.Stdout).Encode(map[string]any{"source": st.Source, "model": st.Model, "documents": docs})
	}
	if len(docs) == 0 {
		fmt.Fprintln(env.Stdout, "The knowledge base is empty. Add documents with: tend kb sync DIR")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DOCUMENT\tFORMAT\tVERSION\tPASSAGES\tUPDATED\tTITLE")
	total := 0
	for _, d := range docs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", d.Path, d.Format, d.Version, d.Chunks, orDash(d.Updated), d.Title)
		total += d.Chunks
	}
	_ = tw.Flush()
	fmt.Fprintf(env.Stdout, "\n%d documents, %d passages; source %s; model %s\n", len(docs), total, st.Source, st.Model)
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runKBSearch(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("kb search", env)
	asJSON := fs.Bool("json", false, "print JSON")
	limit := fs.Int("limit", 5, "results to show")
	mode := fs.String("mode", "hybrid", "hybrid, fulltext or vector")
	lang := fs.String("lang", "en", "the question's language")
	explain := fs.Bool("explain", false, "also print each decision feature's value and share of the confidence")
	if err := fs.Parse(args); err != nil {
		return err
	}
	query := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if query == "" {
		return fmt.Errorf("%w: tend kb search \"question\"", errUsage)
	}
	m, err := knowledge.ParseMode(*mode)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	kb, closeFn, err := openKB(ctx, env)
	if err != nil {
		return err
	}
	defer closeFn()
	resp, err := kb.SearchDB(ctx, query, knowledge.SearchOptions{Limit: *limit, Mode: m, Lang: *lang})
	if err != nil {
		return err
	}
	if st, err := kb.State(ctx, kb.DB().Q()); err == nil && st.Model != "" && st.Model != kb.Embedder().Model() {
		fmt.Fprintf(env.Stderr, "note: the index was embedded with %s but the configured model is %s; vector search finds nothing until `tend kb sync` runs again\n",
			st.Model, kb.Embedder().Model())
	}
	if *asJSON {
		if resp.Results == nil {
			resp.Results = []knowledge.Result{}
		}
		return json.NewEncoder(env.Stdout).Encode(resp)
	}
	fmt.Fprintf(env.Stdout, "confidence %.3f (answers at %.2f or more); terms: %s\n\n", resp.Confidence, resp.Threshold,
		strings.Join(resp.Terms, " "))
	if *explain && resp.Decision != nil {
		printDecision(env, kb.Model(), resp.Decision)
	}
	if len(resp.Results) == 0 {
		fmt.Fprintln(env.Stdout, "no passages found")
		return nil
	}
	for i, r := range resp.Results {
		s := r.Signals
		fmt.Fprintf(env.Stdout, "%d. %.3f  %s › %s\n", i+1, r.Score, r.Document, orDash(r.Section))
		fmt.Fprintf(env.Stdout, "   cosine %.3f  bm25 %.3f  coverage %.2f  heading %.2f  text#%s  vector#%s",
			s.Cosine, s.BM25, s.Coverage, s.HeadCoverage, rankStr(s.TextRank), rankStr(s.VectorRank))
		if len(s.Missing) > 0 {
			fmt.Fprintf(env.Stdout, "  missing: %s", strings.Join(s.Missing, " "))
		}
		fmt.Fprintf(env.Stdout, "\n   %s\n\n", faq.TrimForChat(strings.ReplaceAll(r.Text, "\n", " "), 160))
	}
	return nil
}

// printDecision lists the decision's features with their values and
// shares of the log-odds, largest first: why the bot would answer or not.
func printDecision(env *Env, m *knowledge.Model, f []float64) {
	bias, cs := m.Contributions(f)
	sort.Slice(cs, func(i, j int) bool { return math.Abs(cs[i].LogOdds) > math.Abs(cs[j].LogOdds) })
	fmt.Fprintf(env.Stdout, "decision (log-odds): bias %+.2f", bias)
	for _, c := range cs {
		fmt.Fprintf(env.Stdout, "  %s=%.3g (%+.2f)", c.Feature, c.Value, c.LogOdds)
	}
	fmt.Fprint(env.Stdout, "\n\n")
}

func rankStr(r int) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprint(r)
}

func runKBUnanswered(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("kb unanswered", env)
	asJSON := fs.Bool("json", false, "print JSON")
	days := fs.Int("days", 30, "look back this many days")
	limit := fs.Int("limit", 50, "groups to show")
	all := fs.Bool("all", false, "also list the groups the knowledge base now answers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *days < 1 {
		return fmt.Errorf("%w: --days must be at least 1", errUsage)
	}
	kb, closeFn, err := openKB(ctx, env)
	if err != nil {
		return err
	}
	defer closeFn()
	since := time.Now().AddDate(0, 0, -*days)
	groups, err := kb.UnansweredGroups(ctx, kb.DB().Q(), knowledge.UnansweredOptions{Since: since, Limit: *limit, IncludeAnswered: *all})
	if err != nil {
		return err
	}
	if *asJSON {
		if groups == nil {
			groups = []knowledge.UnansweredGroup{}
		}
		return json.NewEncoder(env.Stdout).Encode(groups)
	}
	if len(groups) == 0 {
		fmt.Fprintf(env.Stdout, "No unanswered questions in the last %d days.\n", *days)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tASKED\tLANG\tFIRST\tLAST\tQUESTION")
	for _, g := range groups {
		q := g.Example
		if len(g.Variants) > 0 {
			q += "  (also: " + strings.Join(g.Variants, " | ") + ")"
		}
		if g.Answered {
			q = "[answered now] " + q
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\n", g.ID, g.Count, strings.Join(g.Langs, ","),
			g.FirstAt.Local().Format("2006-01-02"), g.LastAt.Local().Format("2006-01-02"), q)
	}
	return tw.Flush()
}

// runKBDismiss takes a group of unanswered questions off the list.
func runKBDismiss(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("kb dismiss", env)
	by := fs.String("by", "cli", "who dismisses (recorded with the reason)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return fmt.Errorf("%w: tend kb dismiss ID REASON", errUsage)
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%w: ID must be a group id from tend kb unanswered", errUsage)
	}
	reason := strings.Join(fs.Args()[1:], " ")
	kb, closeFn, err := openKB(ctx, env)
	if err != nil {
		return err
	}
	defer closeFn()
	n, err := kb.DismissUnanswered(ctx, kb.DB().Q(), id, reason, *by, time.Now())
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no group of unanswered questions with id %d (see tend kb unanswered)", id)
	}
	fmt.Fprintf(env.Stdout, "Dismissed %d question(s).\n", n)
	return nil
}
