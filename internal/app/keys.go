package app

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/store/rekey"
)

// useKeys gives the store the encryption keys from the configuration
// (docs/security.md, "Encryption at rest"). A store passed in by a test
// keeps its own keys unless the configuration names some. Without any,
// personal data is stored as plaintext, and the server says so at start.
func (a *App) useKeys() error {
	keys, err := a.Config.Keyring()
	if err != nil {
		return err
	}
	if keys != nil {
		a.DB.SetKeyring(keys)
	}
	if a.DB.Keyring() == nil && a.Mode == ModeServe {
		a.Log.Warn("no encryption key: patients' messages and details are stored as plaintext; " +
			"set TEND_ENCRYPTION_KEY or TEND_ENCRYPTION_KEY_FILE (docs/security.md)")
	}
	river.AddWorker(a.Workers, &rekey.Worker{DB: a.DB, Log: a.Log, Clock: a.Clock.Now})
	return nil
}

// rekeyAtStart seals, in the background, what is not sealed under the
// current key yet (the first start with a key, a new current key); a start
// without a key notes that plaintext may be written from now on.
func (a *App) rekeyAtStart(ctx context.Context) error {
	if a.Mode != ModeServe && a.DB.Keyring() != nil {
		return nil // only servers run the job; a command line leaves it to them
	}
	started, err := rekey.AtStart(ctx, a.DB, a.Clock.Now())
	if err != nil {
		return fmt.Errorf("encryption: %w", err)
	}
	if started {
		a.Log.Info("encryption: sealing stored personal data under the current key in the background",
			"key_id", a.DB.Keyring().Current())
	}
	return nil
}
