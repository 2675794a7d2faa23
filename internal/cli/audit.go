package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/schema"
	"github.com/tend-health/tend/internal/store"
)

func init() {
	register("audit", "audit verify [--anchor SEQ:HASH]: check the audit trail's hash chain; audit list [--subject patient:12]", runAudit)
}

const auditUsage = `usage:
  tend audit verify [--anchor SEQ:HASH] [--json]   check every row of the audit trail's hash chain (exit 1 at the first broken row)
  tend audit list [--subject S] [--actor A] [--action V] [--before SEQ] [--limit N] [--json]   rows, newest first`

func runAudit(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, auditUsage)
		return errUsage
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(ctx, env, args[1:])
	case "list":
		return runAuditList(ctx, env, args[1:])
	case "help", "-h", "--help":
		fmt.Fprintln(env.Stdout, auditUsage)
		return nil
	}
	fmt.Fprintln(env.Stderr, auditUsage)
	return fmt.Errorf("%w: unknown audit command %q", errUsage, args[0])
}

// openStore opens and migrates the store without assembling the app (the
// audit trail needs nothing else).
func openStore(ctx context.Context, env *Env) (*store.DB, func(), error) {
	if db := env.AppOptions.Store; db != nil {
		return db, func() {}, nil
	}
	db, err := store.Open(ctx, store.Options{PostgresURL: env.Config.DatabaseURL.Reveal(), SQLitePath: env.Config.SQLitePath(),
		Migrations: schema.All()})
	if err != nil {
		return nil, nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return db, func() { _ = db.Close() }, nil
}

// anchors collects --anchor flags.
type anchors []audit.Anchor

func (a *anchors) String() string { return "" }

func (a *anchors) Set(s string) error {
	x, err := audit.ParseAnchor(s)
	if err != nil {
		return err
	}
	*a = append(*a, x)
	return nil
}

func runAuditVerify(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("audit verify", env)
	var as anchors
	fs.Var(&as, "anchor", "SEQ:HASH of a row noted earlier (a previous verify's head, a log line); repeatable")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: tend audit verify [--anchor SEQ:HASH] [--json]", errUsage)
	}
	db, closeFn, err := openStore(ctx, env)
	if err != nil {
		return err
	}
	defer closeFn()
	rep, err := audit.Verify(ctx, db.Q(), as...)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if rep.OK() {
		fmt.Fprintf(env.Stdout, "audit trail intact: %d rows; head %d:%s\n", rep.Rows, rep.HeadSeq, rep.HeadHash)
		fmt.Fprintln(env.Stdout, "(keep the head somewhere else; `tend audit verify --anchor` with it later shows nothing before it was rewritten)")
	}
	if !rep.OK() {
		return &exitError{code: 1, msg: fmt.Sprintf("audit trail broken at row %d: %s (%d rows before it are intact)",
			rep.Broken.Seq, rep.Broken.Reason, rep.Rows)}
	}
	return nil
}

func runAuditList(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("audit list", env)
	var f audit.Filter
	fs.StringVar(&f.Subject, "subject", "", "only rows about this subject (patient:12, conversation:34)")
	fs.StringVar(&f.Actor, "actor", "", "only rows by this actor (admin-token, cli:alice, system:retention)")
	fs.StringVar(&f.Action, "action", "", "only this action, or actions starting with a prefix ending in '.' (patient.)")
	fs.Int64Var(&f.Before, "before", 0, "rows older than this seq (paging)")
	fs.IntVar(&f.Limit, "limit", 50, "at most this many rows (at most 1000)")
	asJSON := fs.Bool("json", false, "one JSON object per row")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: tend audit list [--subject S] [--actor A] [--action V] [--before SEQ] [--limit N] [--json]", errUsage)
	}
	db, closeFn, err := openStore(ctx, env)
	if err != nil {
		return err
	}
	defer closeFn()
	rows, err := audit.List(ctx, db.Q(), f)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tAT (UTC)\tACTOR\tACTION\tSUBJECT\tDETAIL")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.At.UTC().Format(time.DateTime), r.Actor, r.Action,
			orDash(r.Subject), orDash(strings.TrimSpace(string(r.Detail))))
	}
	return tw.Flush()
}
