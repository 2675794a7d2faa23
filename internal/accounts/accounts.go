// Package accounts is who may use the clinic console (/admin) and its API:
// people with a role and a password (and a one-time code from an
// authenticator app), the sessions their browsers hold, the one-time links
// that let them set a password, the throttle on failed sign-ins, and the
// named API tokens automation uses. docs/console.md and docs/security.md
// describe the rules; this package keeps them.
//
// Nothing secret is stored as given: passwords are argon2id hashes,
// session ids, links and API tokens SHA-256 hashes of 256-bit random
// values (a slow hash adds nothing to a value that cannot be guessed), the
// TOTP secret sealed with the database's keyring when one is configured.
package accounts

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/store"
)

// Role is what a person or token may do.
type Role string

// The three roles of the console.
const (
	Owner  Role = "owner"  // everything: people, tokens, the audit trail, export and erase
	Editor Role = "editor" // the knowledge base, unanswered questions, the bot's wording
	Staff  Role = "staff"  // inbox, patients, appointments, surveys, campaigns
)

// Roles lists the roles, most powerful first.
var Roles = []Role{Owner, Editor, Staff}

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	for _, x := range Roles {
		if r == x {
			return r, nil
		}
	}
	return "", fmt.Errorf("accounts: unknown role %q (owner, editor or staff)", s)
}

// NeedsTOTP reports whether the role must sign in with a one-time code:
// owners and staff see patients' data; for editors it is optional.
func (r Role) NeedsTOTP() bool { return r == Owner || r == Staff }

// Area is a part of the console a route belongs to.
type Area string

// The console's areas. A route that names none is the owner's only.
const (
	AreaKB           Area = "kb"           // documents, "try a question", unanswered questions
	AreaWording      Area = "wording"      // the bot's own sentences
	AreaInbox        Area = "inbox"        // handoffs, emergency flags, conversations
	AreaPatients     Area = "patients"     // the registry, consent
	AreaAppointments Area = "appointments" // schedule and visits
	AreaSurveys      Area = "surveys"
	AreaCampaigns    Area = "campaigns"
	AreaOwner        Area = "owner" // people, tokens, audit, export and erase
)

var areas = map[Role][]Area{
	Editor: {AreaKB, AreaWording},
	Staff:  {AreaInbox, AreaPatients, AreaAppointments, AreaSurveys, AreaCampaigns},
}

// May reports whether the role may use the area.
func (r Role) May(a Area) bool {
	if r == Owner {
		return true
	}
	for _, x := range areas[r] {
		if x == a {
			return true
		}
	}
	return false
}

// Errors the console turns into its answers.
var (
	// ErrBadCredentials: the e-mail, password or code is wrong, or the
	// account is disabled; which one is not said.
	ErrBadCredentials = errors.New("accounts: wrong e-mail, password or code")
	// ErrThrottled: too many failed sign-ins for the account or the
	// address; try again later.
	ErrThrottled = errors.New("accounts: too many failed sign-ins; try again later")
	// ErrLinkInvalid: the sign-in link is unknown, used or expired.
	ErrLinkInvalid = errors.New("accounts: this sign-in link is not valid (used, expired or replaced); ask an owner for a new one")
	// ErrNoSession: the session is unknown, ended or timed out.
	ErrNoSession = errors.New("accounts: not signed in")
	// ErrNotFound: no such user or token.
	ErrNotFound = errors.New("accounts: not found")
	// ErrExists: the e-mail or token name is taken.
	ErrExists = errors.New("accounts: already exists")
)

// Limits of sign-in attempts: more failures than these within Window and
// the account (or the address) is refused until the oldest ages out.
type Limits struct {
	PerAccount int
	PerAddress int
	Window     time.Duration
}

// DefaultLimits: 5 failures per account and 20 per address in 15 minutes.
// Per account stops guessing one person's password from many addresses;
// per address stops one address trying many accounts.
var DefaultLimits = Limits{PerAccount: 5, PerAddress: 20, Window: 15 * time.Minute}

// Defaults of a Service.
const (
	DefaultIdle     = 15 * time.Minute
	DefaultLifetime = 12 * time.Hour
	LinkLifetime    = 24 * time.Hour
)

// Service holds the accounts of one database.
type Service struct {
	DB    *store.DB
	Clock clock.Clock
	// Idle ends a session after this long without a request (0: 15 min).
	Idle time.Duration
	// Lifetime ends a session this long after sign-in, whatever its
	// activity (0: 12 h).
	Lifetime time.Duration
	// Limits of failed sign-ins (zero: DefaultLimits).
	Limits Limits
	// Issuer names Tend in authenticator apps ("Tend" when empty).
	Issuer string
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock.Now()
}

func (s *Service) idle() time.Duration {
	if s.Idle > 0 {
		return s.Idle
	}
	return DefaultIdle
}

func (s *Service) lifetime() time.Duration {
	if s.Lifetime > 0 {
		return s.Lifetime
	}
	return DefaultLifetime
}

func (s *Service) limits() Limits {
	if s.Limits.Window > 0 {
		return s.Limits
	}
	return DefaultLimits
}

func (s *Service) issuer() string {
	if s.Issuer != "" {
		return s.Issuer
	}
	return "Tend"
}

// NormalizeEmail checks an address and returns it lower-cased.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", fmt.Errorf("accounts: %q is not an e-mail address", s)
	}
	return s, nil
}
