package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/prices"
)

func init() {
	register("prices", `prices import [--dry-run] FILE... | prices show "question" | prices list`, runPrices)
}

const pricesUsage = `tend prices import [--dry-run] FILE... | tend prices show [--lang es] "question" | tend prices list`

func runPrices(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, pricesUsage)
	}
	switch args[0] {
	case "import":
		return pricesImport(ctx, env, args[1:])
	case "show":
		return pricesShow(ctx, env, args[1:])
	case "list":
		return pricesList(ctx, env, args[1:])
	}
	return fmt.Errorf("%w: unknown prices command %q", errUsage, args[0])
}

// pricesCatalog opens the store with the app's modules, for the catalog.
func pricesCatalog(ctx context.Context, env *Env) (*prices.Catalog, *app.App, error) {
	a, err := newApp(ctx, env, app.ModeCLI, true)
	if err != nil {
		return nil, nil, err
	}
	return prices.NewCatalog(a.DB, nil), a, nil
}

// pricesImport imports each file as the price list of its file name.
// Each file is its own transaction: a broken one is reported by line or
// JSON path and leaves its previous list; the exit code is 1 if any was.
func pricesImport(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("prices import", env)
	dry := fs.Bool("dry-run", false, "check the files and report problems; import nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: tend prices import [--dry-run] FILE...", errUsage)
	}
	formats := map[string]prices.Format{}
	for _, path := range fs.Args() {
		f, err := prices.FormatOf(path)
		if err != nil {
			return err
		}
		formats[path] = f
	}
	c, a, err := pricesCatalog(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	failed := 0
	for _, path := range fs.Args() {
		name := filepath.Base(path)
		rep, err := c.Import(ctx, name, formats[path], func() (io.ReadCloser, error) { return os.Open(path) },
			prices.ImportOptions{DryRun: *dry})
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(env.Stderr, "%s: not imported: %v\n", path, err)
		case !rep.OK():
			failed++
			fmt.Fprintf(env.Stderr, "%s: not imported (the previous list %q stays): %v\n", path, name, rep.Err())
		case *dry:
			fmt.Fprintf(env.Stdout, "%s is valid: %d items, %d payer-specific charges (%s %s; nothing imported: --dry-run)\n",
				path, rep.Items, rep.Rates, rep.File.Format, rep.File.Version)
		default:
			fmt.Fprintf(env.Stdout, "imported %s as price list %q: %d items, %d payer-specific charges (%s, updated %s)\n",
				path, name, rep.Items, rep.Rates, rep.File.HospitalName, rep.File.LastUpdatedOn)
		}
	}
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d of %d files not imported", failed, fs.NArg())}
	}
	return nil
}

func pricesShow(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("prices show", env)
	lang := fs.String("lang", "en", "the question's language (en, es)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: tend prices show [--lang es] \"question\"", errUsage)
	}
	c, a, err := pricesCatalog(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	found, err := c.Find(ctx, a.DB.Q(), strings.Join(fs.Args(), " "), *lang)
	if err != nil {
		return err
	}
	if len(found.Matches) == 0 {
		fmt.Fprintln(env.Stdout, "no item of the price lists matches")
		return nil
	}
	how := "by words"
	if found.ByCode {
		how = "by code " + strings.Join(found.Codes, ", ")
	}
	fmt.Fprintf(env.Stdout, "%d item(s) found %s:\n\n", len(found.Matches), how)
	for _, m := range found.Matches {
		prices.WriteItem(env.Stdout, m)
		fmt.Fprintln(env.Stdout)
	}
	return nil
}

func pricesList(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: tend prices list", errUsage)
	}
	c, a, err := pricesCatalog(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	lists, err := c.Lists(ctx, a.DB.Q())
	if err != nil {
		return err
	}
	if len(lists) == 0 {
		fmt.Fprintln(env.Stdout, "no price lists (tend prices import FILE)")
		return nil
	}
	for _, l := range lists {
		var payers []string
		for _, p := range l.Payers {
			payers = append(payers, p.Payer+" "+p.Plan)
		}
		fmt.Fprintf(env.Stdout, "%s\t%s %s\t%s, updated %s\t%d items, %d charges\t%s\tpayers: %s\n", l.Name, l.File.Format,
			l.File.Version, l.File.HospitalName, l.File.LastUpdatedOn, l.Items, l.Rates, strings.Join(l.File.Locations, " | "),
			strings.Join(payers, ", "))
	}
	return nil
}
