// Package config reads Tend's settings from the environment into one typed
// struct, validated as a whole at start so that a bad combination is reported
// before anything runs.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/tend-health/tend/channels/slack/mention"
	"github.com/tend-health/tend/internal/quiet"
	"github.com/tend-health/tend/internal/sealed"
)

// Secret is a string that never prints itself: logs, errors and %v show a
// redaction marker instead of the value.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from leaking the value too.
func (s Secret) GoString() string { return s.String() }

// Reveal returns the secret for the one place that must send it.
func (s Secret) Reveal() string { return string(s) }

// Config is every setting Tend reads. All are optional; the zero environment
// runs the bundled sample clinic on embedded SQLite with the web chat on :8080.
// Nothing else in Tend reads the environment: modules take their settings
// from the App's Config, so a bad value stops the start with every problem
// named, before any module runs.
//
// Quiet hours: TEND_QUIET_HOURS (default 20:00-08:00, the patient's time zone)
// is the clinic's night for every proactive message: survey invitations and
// reminders, campaigns and appointment reminders. TEND_BOOKING_QUIET_HOURS
// used to give reminders their own 21:00-08:00 default; it is now an optional
// override for appointment reminders only (they concern the patient's own
// visit, so a clinic may let them go out later in the evening), and unset it
// follows TEND_QUIET_HOURS. See ReminderQuietHours.
type Config struct {
	DataDir     string `env:"TEND_DATA_DIR" envDefault:"./data"`
	DatabaseURL Secret `env:"DATABASE_URL"`
	// DatabaseSessionURL, with PostgreSQL, is a session-mode connection for
	// the advisory locks and the job queue's LISTEN, so that DATABASE_URL may
	// go through PgBouncer in transaction mode (docs/performance.md).
	DatabaseSessionURL Secret `env:"TEND_DATABASE_SESSION_URL"`
	// DatabasePoolSize caps each replica's query connections, and its lock
	// connections alike (0: 16).
	DatabasePoolSize int    `env:"TEND_DATABASE_POOL_SIZE"`
	Addr             string `env:"TEND_ADDR" envDefault:":8080"`
	// KBDir is a folder of documents synced at start; empty means the bundled sample clinic.
	KBDir string `env:"TEND_KB_DIR"`
	// PricesDir is a folder of price-transparency files (.json, .csv) imported at start, one price list per file.
	PricesDir string `env:"TEND_PRICES_DIR"`
	// ClinicFile is the clinic profile (name, phone, time zone, hours); empty means the sample clinic.
	ClinicFile string `env:"TEND_CLINIC_FILE"`
	// TriageFile replaces the built-in safety rules (see docs/triage.md).
	TriageFile string `env:"TEND_TRIAGE_FILE"`
	// MessagesDir holds catalog overrides (active.<lang>.yaml) that reword the bot's own sentences.
	MessagesDir string `env:"TEND_MESSAGES_DIR"`
	// PublicURL is where the outside world reaches this server (webhook registration, links).
	PublicURL string `env:"TEND_PUBLIC_URL"`
	LogLevel  string `env:"TEND_LOG_LEVEL" envDefault:"info"`
	LogFormat string `env:"TEND_LOG_FORMAT" envDefault:"text"`
	// ShutdownTimeout bounds how long SIGTERM waits for in-flight work.
	ShutdownTimeout time.Duration `env:"TEND_SHUTDOWN_TIMEOUT" envDefault:"20s"`
	// WebRateLimit is the sustained messages per minute one web chat session may send.
	WebRatePerMinute int `env:"TEND_WEB_RATE_PER_MINUTE" envDefault:"30"`
	// AdminToken guards the staff JSON API and admin pages (Authorization:
	// Bearer <token>); without it those endpoints answer 404.
	AdminToken Secret `env:"TEND_ADMIN_TOKEN"`
	// ConsoleIdle signs a console session out after this long without a
	// click (docs/console.md); ConsoleSessionMax after this long whatever
	// its activity.
	ConsoleIdle       time.Duration `env:"TEND_CONSOLE_IDLE" envDefault:"15m"`
	ConsoleSessionMax time.Duration `env:"TEND_CONSOLE_SESSION_MAX" envDefault:"12h"`
	// WebAllowedOrigins lists sites that may embed the widget ("*" for any);
	// empty (the default) means only this server's own origin ('self').
	WebAllowedOrigins []string `env:"TEND_WEB_ALLOWED_ORIGINS" envSeparator:","`
	// Security protects the web chat's sessions and the HTTP surface.
	Security HTTPSecurity
	// QuietHours keeps every proactive message out of the patient's night
	// (see the quiet-hours note above).
	QuietHours quiet.Hours `env:"TEND_QUIET_HOURS" envDefault:"20:00-08:00"`
	// EncryptionKey seals personal data at rest (docs/security.md,
	// "Encryption at rest"): base64 of 32 random bytes, or several
	// separated by commas, the first current. EncryptionKeyFile names a
	// file of such keys, one per line, instead. Neither: plaintext, with a
	// warning at start. Read them through Keyring.
	EncryptionKey     Secret `env:"TEND_ENCRYPTION_KEY"`
	EncryptionKeyFile string `env:"TEND_ENCRYPTION_KEY_FILE"`
	// RetentionMessages is how long conversations' messages are kept (and
	// what their dialogs remember, once idle that long); a conversation
	// with nothing left, nothing pending and no activity for as long also
	// loses its channel address (the WhatsApp number, the chat id), unless
	// an opt-out said there is still in force. The retention job applies it
	// every hour. 0 keeps them. Periods of every kind of data are in
	// docs/security.md, "Retention".
	RetentionMessages time.Duration `env:"TEND_RETENTION_MESSAGES" envDefault:"17520h"`
	// RetentionSurveys is how long survey answers typed as free text (the
	// reason for a low score, comments) are kept after the visit; the score
	// and the options chosen stay for the survey reports. 0 keeps them.
	RetentionSurveys time.Duration `env:"TEND_RETENTION_SURVEYS" envDefault:"17520h"`
	// RetentionAppointments is how long Tend's own record of an appointment
	// is kept after it ended (the clinic's record system, FHIR when used,
	// keeps the visit). 0 keeps them.
	RetentionAppointments time.Duration `env:"TEND_RETENTION_APPOINTMENTS" envDefault:"17520h"`

	OpenAI   OpenAI
	Telegram Telegram
	WhatsApp WhatsApp
	Slack    Slack
	Booking  Booking
	Schedule Schedule
	Survey   Survey
}

// OpenAI configures an OpenAI-compatible LLM and embedding model.
type OpenAI struct {
	APIKey         Secret        `env:"OPENAI_API_KEY"`
	BaseURL        string        `env:"OPENAI_BASE_URL"`
	ChatModel      string        `env:"TEND_CHAT_MODEL"`
	EmbeddingModel string        `env:"TEND_EMBEDDING_MODEL"`
	Timeout        time.Duration `env:"TEND_LLM_TIMEOUT" envDefault:"20s"`
}

// Telegram configures the Telegram channel.
type Telegram struct {
	BotToken      Secret `env:"TELEGRAM_BOT_TOKEN"`
	APIEndpoint   string `env:"TELEGRAM_API_ENDPOINT"`
	WebhookSecret Secret `env:"TELEGRAM_WEBHOOK_SECRET"`
}

// WhatsApp configures the WhatsApp Business Cloud API channel.
type WhatsApp struct {
	PhoneNumberID string `env:"WHATSAPP_PHONE_NUMBER_ID"`
	AccessToken   Secret `env:"WHATSAPP_ACCESS_TOKEN"`
	AppSecret     Secret `env:"WHATSAPP_APP_SECRET"`
	VerifyToken   Secret `env:"WHATSAPP_VERIFY_TOKEN"`
	APIBase       string `env:"WHATSAPP_API_BASE"`
	// TemplatesFile maps each kind of proactive message to an approved
	// template (docs/whatsapp.md); empty means the bundled file.
	TemplatesFile string `env:"TEND_WHATSAPP_TEMPLATES"`
}

// Slack configures staff handoff in Slack.
type Slack struct {
	BotToken       Secret `env:"SLACK_BOT_TOKEN"`
	AppToken       Secret `env:"SLACK_APP_TOKEN"`
	SigningSecret  Secret `env:"SLACK_SIGNING_SECRET"`
	HandoffChannel string `env:"SLACK_HANDOFF_CHANNEL"`
	APIURL         string `env:"SLACK_API_URL"`
	// UrgentMention is who is mentioned on emergency handoffs: a user group
	// id (S...), a user id (U...), here, channel or a raw <...> mention.
	UrgentMention string `env:"SLACK_URGENT_MENTION"`
	// HandoffTimeout is how long a handoff may wait (in opening hours)
	// before the patient is told what happens next and staff are reminded.
	HandoffTimeout time.Duration `env:"SLACK_HANDOFF_TIMEOUT" envDefault:"15m"`
	// StaffLang is the language of the Slack texts.
	StaffLang string `env:"SLACK_STAFF_LANG" envDefault:"en"`
	// CardDetail is what the handoff card shows of a verified patient:
	// "full" (name, date of birth, phone) or "minimal" (first name and
	// record number only; the rest stays in Tend).
	CardDetail string `env:"SLACK_CARD_DETAIL" envDefault:"full"`
}

// Booking configures follow-up booking: identity checks, reminders and
// calendar links (docs/booking.md).
type Booking struct {
	// VerifyTTL is how long an identity verification holds.
	VerifyTTL time.Duration `env:"TEND_BOOKING_VERIFY_TTL" envDefault:"30m"`
	// LockFor is how long TEND_BOOKING_VERIFY_MAX_FAILURES wrong answers in a
	// row lock identity verification for the patient, the phone or e-mail and
	// the conversation (on every channel); each further lock doubles it, up
	// to LockMax.
	LockFor time.Duration `env:"TEND_BOOKING_LOCK_FOR" envDefault:"1h"`
	LockMax time.Duration `env:"TEND_BOOKING_LOCK_MAX" envDefault:"24h"`
	// MaxFailures is how many wrong answers (birth date or code) in a row lock.
	MaxFailures int `env:"TEND_BOOKING_VERIFY_MAX_FAILURES" envDefault:"5"`
	// VerifyBackoff is the wait after a wrong answer before the next one is
	// heard; it doubles with each further wrong answer.
	VerifyBackoff time.Duration `env:"TEND_BOOKING_VERIFY_BACKOFF" envDefault:"2s"`
	// CodesPerHour and CodesPerDay cap the one-time codes sent to one patient
	// (and to one phone number or address), whatever the number of chats.
	CodesPerHour int `env:"TEND_BOOKING_CODES_PER_HOUR" envDefault:"3"`
	CodesPerDay  int `env:"TEND_BOOKING_CODES_PER_DAY" envDefault:"10"`
	// CodeSecret keys the stored hashes of one-time codes (HMAC-SHA256);
	// empty means one made once and kept in the database (docs/security.md).
	CodeSecret Secret `env:"TEND_CODE_SECRET"`
	// FlowTTL is how long a half-finished booking waits for the patient.
	FlowTTL time.Duration `env:"TEND_BOOKING_FLOW_TTL" envDefault:"30m"`
	// Reminders are the times before a visit that reminders go out.
	Reminders []time.Duration `env:"TEND_BOOKING_REMINDERS" envSeparator:"," envDefault:"72h,24h"`
	// PrepDays is how many days before a visit "what to expect" goes out (0: never).
	PrepDays int `env:"TEND_BOOKING_PREP_DAYS" envDefault:"2"`
	// ReminderQuietHours overrides QuietHours for appointment reminders
	// only; nil follows QuietHours. Read it through Config.ReminderQuietHours.
	ReminderQuietHours *quiet.Hours `env:"TEND_BOOKING_QUIET_HOURS"`
	// Demo loads the sample patients and sends web-chat codes to the log.
	Demo bool `env:"TEND_BOOKING_DEMO"`
	// CodeSender "log" writes one-time codes to the log (development only).
	CodeSender string `env:"TEND_BOOKING_CODE_SENDER"`
	// LinkSecret signs calendar links; empty means one made once and kept
	// in the database, so that every replica shares it.
	LinkSecret Secret `env:"TEND_BOOKING_LINK_SECRET"`
}

// Schedule chooses where open slots come from and appointments are booked.
type Schedule struct {
	// Backend is "db" (Tend's own schedule) or "fhir" (a FHIR R4 server).
	Backend     string `env:"TEND_SCHEDULE_BACKEND" envDefault:"db"`
	FHIRBaseURL string `env:"TEND_FHIR_BASE_URL"`
	FHIRToken   Secret `env:"TEND_FHIR_TOKEN"`
}

// Survey configures post-visit surveys (docs/surveys.md).
type Survey struct {
	// File replaces the bundled post-visit survey.
	File string `env:"TEND_SURVEY_FILE"`
	// Delay is how long after a visit the invitation goes out (0: at once).
	Delay time.Duration `env:"TEND_SURVEY_DELAY" envDefault:"2h"`
	// ExpireAfter is how long an invitation can be answered.
	ExpireAfter time.Duration `env:"TEND_SURVEY_EXPIRE" envDefault:"168h"`
	// RemindAfter sends the one reminder this long after the invitation
	// to a patient who has not finished (0: no reminder).
	RemindAfter time.Duration `env:"TEND_SURVEY_REMINDER" envDefault:"48h"`
}

// HTTPSecurity protects the web chat's sessions and the HTTP surface
// (docs/security.md, "Web sessions and the HTTP surface").
//
// Web chat sessions are issued by the server and end after a time without
// activity (a message sent or the conversation reloaded; an open event
// stream does not count): WebSessionIdle, 30 minutes by default, once the
// conversation is verified (the patient proved who they are, so it may
// show their appointments), and WebSessionIdleAnonymous, 24 hours by
// default, for a chat nobody verified, which holds only what the patient
// typed.
type HTTPSecurity struct {
	// WebSessionIdle ends a verified web chat session after this long idle.
	WebSessionIdle time.Duration `env:"TEND_WEB_SESSION_IDLE" envDefault:"30m"`
	// WebSessionIdleAnonymous ends an unverified web chat session after this long idle.
	WebSessionIdleAnonymous time.Duration `env:"TEND_WEB_SESSION_IDLE_ANONYMOUS" envDefault:"24h"`
	// WebAddressRatePerMinute caps the web messages one client address may
	// send per minute across all its sessions (bursts of a fifth of it); 0
	// means ten times TEND_WEB_RATE_PER_MINUTE.
	WebAddressRatePerMinute int `env:"TEND_WEB_ADDRESS_RATE_PER_MINUTE"`
	// WebStreamsPerSession and WebStreams cap the open event streams of one
	// session and of the whole replica.
	WebStreamsPerSession int `env:"TEND_WEB_STREAMS_PER_SESSION" envDefault:"3"`
	WebStreams           int `env:"TEND_WEB_STREAMS_MAX" envDefault:"1000"`
	// WebStreamMaxAge is how long one event stream is held; then the server
	// closes it and the page reconnects.
	WebStreamMaxAge time.Duration `env:"TEND_WEB_STREAM_MAX_AGE" envDefault:"10m"`
	// TrustedProxies are the reverse proxies (CIDRs or addresses) whose
	// X-Forwarded-For is believed; from anyone else it is ignored.
	TrustedProxies []string `env:"TEND_TRUSTED_PROXIES" envSeparator:","`
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken Secret `env:"TEND_METRICS_TOKEN"`
	// MetricsAddr, when set, serves /metrics on this address only.
	MetricsAddr string `env:"TEND_METRICS_ADDR"`
}

// TrustedProxyPrefixes are TEND_TRUSTED_PROXIES parsed (a bare address is
// a prefix of its full length); Validate has checked them.
func (s HTTPSecurity) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, v := range s.TrustedProxies {
		if p, ok := parsePrefix(v); ok {
			out = append(out, p)
		}
	}
	return out
}

func parsePrefix(v string) (netip.Prefix, bool) {
	v = strings.TrimSpace(v)
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(v); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

var originRe = regexp.MustCompile(`^https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?$`)

// validateHTTP checks the web chat's and the HTTP surface's protection.
func (c Config) validateHTTP() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, o := range c.WebAllowedOrigins {
		if o = strings.TrimSpace(o); o != "*" && o != "'self'" && !originRe.MatchString(o) {
			bad("TEND_WEB_ALLOWED_ORIGINS must list origins like https://www.clinic.example (or *), got %q", o)
		}
	}
	s := c.Security
	if s.WebSessionIdle <= 0 || s.WebSessionIdleAnonymous <= 0 {
		bad("TEND_WEB_SESSION_IDLE and TEND_WEB_SESSION_IDLE_ANONYMOUS must be positive durations like 30m")
	} else if s.WebSessionIdle > s.WebSessionIdleAnonymous {
		bad("TEND_WEB_SESSION_IDLE (verified chats) must not be longer than TEND_WEB_SESSION_IDLE_ANONYMOUS")
	}
	if s.WebAddressRatePerMinute < 0 {
		bad("TEND_WEB_ADDRESS_RATE_PER_MINUTE must be 0 (ten times TEND_WEB_RATE_PER_MINUTE) or more")
	}
	if s.WebStreamsPerSession < 1 || s.WebStreams < s.WebStreamsPerSession {
		bad("TEND_WEB_STREAMS_PER_SESSION must be at least 1 and TEND_WEB_STREAMS_MAX at least as large")
	}
	if s.WebStreamMaxAge < time.Second {
		bad("TEND_WEB_STREAM_MAX_AGE must be a duration of at least 1s, like 10m")
	}
	for _, p := range s.TrustedProxies {
		if _, ok := parsePrefix(p); !ok {
			bad("TEND_TRUSTED_PROXIES must list CIDRs or addresses like 10.0.0.0/8, got %q", p)
		}
	}
	if s.MetricsToken != "" && len(s.MetricsToken) < 16 {
		bad("TEND_METRICS_TOKEN must be at least 16 characters")
	}
	if s.MetricsAddr != "" && (!strings.Contains(s.MetricsAddr, ":") || s.MetricsAddr == c.Addr) {
		bad("TEND_METRICS_ADDR must be host:port or :port, other than TEND_ADDR")
	}
	return errs
}

// Load parses the process environment and validates the result.
func Load() (Config, error) { return LoadFrom(nil) }

// Defaults is the configuration of the empty environment, for tests that
// build a Config by hand and then change what they need.
func Defaults() Config {
	c, err := LoadFrom(map[string]string{})
	if err != nil {
		panic(err) // the defaults are tested to validate
	}
	return c
}

// LoadFrom parses the given environment (nil means the process environment).
func LoadFrom(environ map[string]string) (Config, error) {
	var c Config
	// Durations are read with surrounding spaces trimmed, so that a list
	// such as "72h, 24h" reads as it always has.
	opts := env.Options{FuncMap: map[reflect.Type]env.ParserFunc{
		reflect.TypeOf(time.Duration(0)): func(v string) (any, error) { return time.ParseDuration(strings.TrimSpace(v)) },
	}}
	if environ != nil {
		opts.Environment = environ
	}
	if err := env.ParseWithOptions(&c, opts); err != nil {
		return Config{}, namedParseErrors(err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// UsesPostgres reports whether PostgreSQL (not embedded SQLite) is the store.
func (c Config) UsesPostgres() bool { return c.DatabaseURL != "" }

// SQLitePath is the embedded database file.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "tend.db") }

// LLMEnabled reports whether answers may be generated by a chat model.
func (c Config) LLMEnabled() bool { return c.OpenAI.ChatModel != "" && c.OpenAI.hasEndpoint() }

// RemoteEmbeddings reports whether an OpenAI-compatible embedding model is configured.
func (c Config) RemoteEmbeddings() bool {
	return c.OpenAI.EmbeddingModel != "" && c.OpenAI.hasEndpoint()
}

// TurnsCallOut reports whether answering a message may wait on a network
// service (a chat model, remote embeddings, a FHIR schedule). Webhooks then
// only accept a message, for a job to answer, instead of answering it in
// the request (bot.Engine.Receive): a turn of seconds would hold the
// webhook past the channel's patience, and the channel would send it again.
func (c Config) TurnsCallOut() bool {
	return c.LLMEnabled() || c.RemoteEmbeddings() || c.Schedule.Backend == "fhir"
}

func (o OpenAI) hasEndpoint() bool { return o.APIKey != "" || o.BaseURL != "" }

// Keyring is the encryption keys from TEND_ENCRYPTION_KEY or
// TEND_ENCRYPTION_KEY_FILE; nil when neither is set (plaintext).
func (c Config) Keyring() (*sealed.Keyring, error) {
	switch {
	case c.EncryptionKey != "" && c.EncryptionKeyFile != "":
		return nil, errors.New("set TEND_ENCRYPTION_KEY or TEND_ENCRYPTION_KEY_FILE, not both")
	case c.EncryptionKey != "":
		k, err := sealed.Parse(c.EncryptionKey.Reveal())
		if err != nil {
			return nil, fmt.Errorf("TEND_ENCRYPTION_KEY: %w", err)
		}
		return k, nil
	case c.EncryptionKeyFile != "":
		k, err := sealed.ReadFile(c.EncryptionKeyFile)
		if err != nil {
			return nil, fmt.Errorf("TEND_ENCRYPTION_KEY_FILE: %w", err)
		}
		return k, nil
	}
	return nil, nil
}

// ReminderQuietHours are the hours no appointment reminder goes out:
// TEND_BOOKING_QUIET_HOURS when set, else TEND_QUIET_HOURS.
func (c Config) ReminderQuietHours() quiet.Hours {
	if c.Booking.ReminderQuietHours != nil {
		return *c.Booking.ReminderQuietHours
	}
	return c.QuietHours
}

var telegramSecretRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// Validate checks each field and the combinations between them; the error
// lists every problem found, each naming the variable to fix.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if strings.TrimSpace(c.DataDir) == "" {
		bad("TEND_DATA_DIR must not be empty")
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL.Reveal())
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("DATABASE_URL must be a postgres:// or postgresql:// URL")
		}
	}
	if c.DatabaseSessionURL != "" {
		u, err := url.Parse(c.DatabaseSessionURL.Reveal())
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || c.DatabaseURL == "" {
			bad("TEND_DATABASE_SESSION_URL must be a postgres:// or postgresql:// URL, beside DATABASE_URL")
		}
	}
	if c.DatabasePoolSize < 0 || c.DatabasePoolSize > 1000 {
		bad("TEND_DATABASE_POOL_SIZE must be between 1 and 1000 (0: the default)")
	}
	if !strings.Contains(c.Addr, ":") {
		bad("TEND_ADDR must be host:port or :port, got %q", c.Addr)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("TEND_PUBLIC_URL must be an absolute http(s) URL")
		}
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("TEND_LOG_LEVEL must be debug, info, warn or error, got %q", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("TEND_LOG_FORMAT must be text or json, got %q", c.LogFormat)
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		bad("TEND_ADMIN_TOKEN must be at least 16 characters")
	}
	if c.ConsoleIdle <= 0 || c.ConsoleSessionMax < c.ConsoleIdle {
		bad("TEND_CONSOLE_IDLE must be positive and TEND_CONSOLE_SESSION_MAX at least as long")
	}
	if c.WebRatePerMinute < 1 {
		bad("TEND_WEB_RATE_PER_MINUTE must be at least 1")
	}
	if c.ShutdownTimeout <= 0 {
		bad("TEND_SHUTDOWN_TIMEOUT must be positive")
	}
	for _, u := range []struct{ name, v string }{
		{"OPENAI_BASE_URL", c.OpenAI.BaseURL},
		{"TELEGRAM_API_ENDPOINT", c.Telegram.APIEndpoint},
		{"WHATSAPP_API_BASE", c.WhatsApp.APIBase},
		{"SLACK_API_URL", c.Slack.APIURL},
		{"TEND_FHIR_BASE_URL", c.Schedule.FHIRBaseURL},
	} {
		if u.v == "" {
			continue
		}
		// The Telegram endpoint is a format string; its %s verbs are not URL escapes.
		if p, err := url.Parse(strings.ReplaceAll(u.v, "%s", "x")); err != nil || p.Scheme == "" || p.Host == "" {
			bad("%s must be an absolute URL", u.name)
		}
	}
	if (c.OpenAI.ChatModel != "" || c.OpenAI.EmbeddingModel != "") && !c.OpenAI.hasEndpoint() {
		bad("TEND_CHAT_MODEL or TEND_EMBEDDING_MODEL needs OPENAI_API_KEY or OPENAI_BASE_URL")
	}
	if c.Telegram.APIEndpoint != "" && strings.Count(c.Telegram.APIEndpoint, "%s") != 2 {
		bad("TELEGRAM_API_ENDPOINT must contain two %%s (token, method), like https://api.telegram.org/bot%%s/%%s")
	}
	if c.Telegram.BotToken == "" && (c.Telegram.WebhookSecret != "" || c.Telegram.APIEndpoint != "") {
		bad("TELEGRAM_WEBHOOK_SECRET and TELEGRAM_API_ENDPOINT need TELEGRAM_BOT_TOKEN")
	}
	if c.Telegram.WebhookSecret != "" && !telegramSecretRe.MatchString(c.Telegram.WebhookSecret.Reveal()) {
		bad("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
	}
	wa := c.WhatsApp
	if wa.PhoneNumberID != "" || wa.AccessToken != "" || wa.AppSecret != "" || wa.VerifyToken != "" {
		for _, f := range []struct{ name, v string }{
			{"WHATSAPP_PHONE_NUMBER_ID", wa.PhoneNumberID},
			{"WHATSAPP_ACCESS_TOKEN", wa.AccessToken.Reveal()},
			{"WHATSAPP_APP_SECRET", wa.AppSecret.Reveal()},
			{"WHATSAPP_VERIFY_TOKEN", wa.VerifyToken.Reveal()},
		} {
			if f.v == "" {
				bad("WhatsApp needs %s as well (it is set up only when all four WHATSAPP_* credentials are set)", f.name)
			}
		}
	}
	sl := c.Slack
	if sl.AppToken != "" && sl.BotToken == "" {
		bad("SLACK_APP_TOKEN (Socket Mode) needs SLACK_BOT_TOKEN")
	}
	if sl.AppToken != "" && !strings.HasPrefix(sl.AppToken.Reveal(), "xapp-") {
		bad("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
	}
	if sl.BotToken != "" {
		if sl.HandoffChannel == "" {
			bad("SLACK_BOT_TOKEN needs SLACK_HANDOFF_CHANNEL (the channel ID where handoffs are posted)")
		}
		if sl.AppToken == "" && sl.SigningSecret == "" {
			bad("Slack over HTTP (no SLACK_APP_TOKEN) needs SLACK_SIGNING_SECRET")
		}
	}
	if sl.BotToken == "" && (sl.HandoffChannel != "" || sl.SigningSecret != "") {
		bad("SLACK_HANDOFF_CHANNEL and SLACK_SIGNING_SECRET need SLACK_BOT_TOKEN")
	}
	if _, err := mention.Parse(sl.UrgentMention); err != nil {
		bad("SLACK_URGENT_MENTION %v, got %q", err, sl.UrgentMention)
	}
	if sl.HandoffTimeout <= 0 {
		bad("SLACK_HANDOFF_TIMEOUT must be a positive duration such as 15m")
	}
	if sl.CardDetail != "" && sl.CardDetail != "full" && sl.CardDetail != "minimal" {
		bad("SLACK_CARD_DETAIL must be full or minimal, got %q", sl.CardDetail)
	}
	for _, r := range []struct {
		name string
		d    time.Duration
	}{{"TEND_RETENTION_MESSAGES", c.RetentionMessages}, {"TEND_RETENTION_SURVEYS", c.RetentionSurveys},
		{"TEND_RETENTION_APPOINTMENTS", c.RetentionAppointments}} {
		if r.d != 0 && r.d < 24*time.Hour {
			bad("%s must be 0 (keep) or at least 24h, like 17520h (2 years), got %s", r.name, r.d)
		}
	}
	if _, err := c.Keyring(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validateOutreach()...)
	errs = append(errs, c.validateHTTP()...)
	return errors.Join(errs...)
}

// validateOutreach checks booking, the schedule back end, surveys and quiet
// hours: the settings of the messages Tend sends on its own.
func (c Config) validateOutreach() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if !c.QuietHours.Valid() {
		bad("TEND_QUIET_HOURS must be HH:MM-HH:MM, like 20:00-08:00")
	}
	if h := c.Booking.ReminderQuietHours; h != nil && !h.Valid() {
		bad("TEND_BOOKING_QUIET_HOURS must be HH:MM-HH:MM, like 21:00-08:00")
	}
	b := c.Booking
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"TEND_BOOKING_VERIFY_TTL", b.VerifyTTL},
		{"TEND_BOOKING_LOCK_FOR", b.LockFor},
		{"TEND_BOOKING_FLOW_TTL", b.FlowTTL},
	} {
		if d.v <= 0 {
			bad("%s must be a positive duration like 30m", d.name)
		}
	}
	for _, d := range b.Reminders {
		if d <= 0 {
			bad("TEND_BOOKING_REMINDERS must list positive durations like 72h,24h")
			break
		}
	}
	if b.PrepDays < 0 || b.PrepDays > 30 {
		bad("TEND_BOOKING_PREP_DAYS must be 0 to 30")
	}
	if b.LockMax < b.LockFor {
		bad("TEND_BOOKING_LOCK_MAX must be at least TEND_BOOKING_LOCK_FOR")
	}
	if b.MaxFailures < 1 || b.MaxFailures > 100 {
		bad("TEND_BOOKING_VERIFY_MAX_FAILURES must be 1 to 100")
	}
	if b.VerifyBackoff < 0 || b.VerifyBackoff > b.LockFor {
		bad("TEND_BOOKING_VERIFY_BACKOFF must be a duration like 2s (0: none), at most TEND_BOOKING_LOCK_FOR")
	}
	if b.CodesPerHour < 1 || b.CodesPerDay < b.CodesPerHour {
		bad("TEND_BOOKING_CODES_PER_HOUR must be at least 1 and TEND_BOOKING_CODES_PER_DAY at least as large")
	}
	if b.CodeSecret != "" && len(b.CodeSecret) < 32 {
		bad("TEND_CODE_SECRET must be at least 32 characters (for example: openssl rand -base64 32)")
	}
	if b.CodeSender != "" && b.CodeSender != "log" {
		bad(`TEND_BOOKING_CODE_SENDER must be "log" (development) or empty`)
	}
	sc := c.Schedule
	switch {
	case sc.Backend != "db" && sc.Backend != "fhir":
		bad("TEND_SCHEDULE_BACKEND must be db or fhir, got %q", sc.Backend)
	case sc.Backend == "fhir" && sc.FHIRBaseURL == "":
		bad("TEND_SCHEDULE_BACKEND=fhir needs TEND_FHIR_BASE_URL")
	case sc.Backend == "db" && (sc.FHIRBaseURL != "" || sc.FHIRToken != ""):
		// Otherwise a clinic that forgot the switch books into Tend's own
		// schedule while it believes its EHR holds the appointments.
		bad("TEND_FHIR_BASE_URL and TEND_FHIR_TOKEN need TEND_SCHEDULE_BACKEND=fhir")
	}
	sv := c.Survey
	if sv.Delay < 0 {
		bad("TEND_SURVEY_DELAY must be a duration like 2h (0: at once)")
	}
	if sv.ExpireAfter <= 0 {
		bad("TEND_SURVEY_EXPIRE must be a positive duration like 168h")
	}
	if sv.RemindAfter < 0 {
		bad("TEND_SURVEY_REMINDER must be a duration like 48h (0: no reminder)")
	}
	return errs
}

// TelegramEnabled reports whether the Telegram channel runs.
func (c Config) TelegramEnabled() bool { return c.Telegram.BotToken != "" }

// WhatsAppEnabled reports whether the WhatsApp channel runs.
func (c Config) WhatsAppEnabled() bool { return c.WhatsApp.PhoneNumberID != "" }

// SlackEnabled reports whether staff handoff goes to Slack.
func (c Config) SlackEnabled() bool { return c.Slack.BotToken != "" }

// namedParseErrors rewrites the parser's errors to name the environment
// variable (the parser names the Go field, which means nothing to a user).
func namedParseErrors(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("config: %w", err)
	}
	var out []error
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			if name := envName(reflect.TypeOf(Config{}), pe.Name); name != "" {
				out = append(out, fmt.Errorf("%s: %v", name, pe.Err))
				continue
			}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// envName finds the env tag of the field named field in t or its nested structs.
func envName(t reflect.Type, field string) string {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Name == field {
			if tag := f.Tag.Get("env"); tag != "" {
				return tag
			}
		}
		if f.Type.Kind() == reflect.Struct {
			if n := envName(f.Type, field); n != "" {
				return n
			}
		}
	}
	return ""
}
