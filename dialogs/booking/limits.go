package booking

import (
	"context"
	"fmt"

	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/patients"
)

// verifyLimits are the identity verification limits of cfg; a Config made
// by hand with only the old LockFor keeps its lock length.
func verifyLimits(cfg Config) patients.Limits {
	l := cfg.Limits
	if l.LockFor == 0 {
		l.LockFor = cfg.LockFor
	}
	return l.WithDefaults()
}

// codeSecretKV is the kv entry of the code secret Tend makes when none is
// configured.
const codeSecretKV = "booking:code_secret"

// codeKeys chooses the key of one-time code hashes (and of the contact
// hashes verification limits are counted under), in this order:
//
//  1. TEND_CODE_SECRET: a secret that lives only in the deployment's
//     configuration, never in the database;
//  2. the encryption keyring (TEND_ENCRYPTION_KEY or its key file; the
//     store's, unless Module.Keys gives another): a key derived from the
//     master key, also outside the database. After `tend keys rotate` a code
//     issued under the previous key still works until it expires;
//  3. otherwise a random secret made once and kept in the kv table, so that
//     every replica shares it. That still separates the key from the codes'
//     table (patient_verifications), but whoever can read the whole database
//     can read it too, so the start-up log says to set one of the above.
func codeKeys(ctx context.Context, a *host.Host, cfg Config, enc patients.Hasher) (patients.CodeKeys, error) {
	if cfg.CodeSecret != "" {
		return patients.NewCodeKeys([]byte(cfg.CodeSecret.Reveal()), "TEND_CODE_SECRET")
	}
	if enc == nil {
		if k := a.DB.Keyring(); k != nil {
			enc = k
		}
	}
	if enc != nil && enc.Hash("probe", "probe") != "" {
		return patients.CodeKeysFrom(enc, "TEND_ENCRYPTION_KEY"), nil
	}
	now := a.Clock.Now()
	secret, err := a.DB.Q().EnsureKV(ctx, codeSecretKV, httpserver.RandomToken(32), now)
	if err != nil {
		return patients.CodeKeys{}, fmt.Errorf("booking: code secret: %w", err)
	}
	if a.Mode == host.ModeServe {
		a.Log.Warn("one-time codes are keyed with a secret kept in the database; set TEND_CODE_SECRET (or TEND_ENCRYPTION_KEY) to keep it out of it")
	}
	return patients.NewCodeKeys([]byte(secret), "database")
}
