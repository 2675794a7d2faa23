// Package booking is the follow-up booking dialog: it verifies who the
// patient is, offers open slots, books, reschedules and cancels, sends
// reminders and "what to expect" messages as durable jobs, serves calendar
// files, and gives staff the appointments list. Scheduling itself lives in
// package scheduling, patients in package patients.
package booking

import (
	"embed"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/textutil"
)

// Name is the dialog's key; its buttons are "booking:…".
const Name = "booking"

//go:embed locales/*.yaml
var locales embed.FS

// Locales are the dialog's catalog messages.
func Locales() fs.FS { return catalog.Locales(locales) }

// Dialog books, moves and cancels appointments.
type Dialog struct {
	svc    *scheduling.Service
	cfg    Config
	policy patients.Policy
	limits patients.Limits
	keys   patients.CodeKeys
	info   InfoSource
	codes  CodeSender
	links  *linkSigner
	log    *slog.Logger
	// clinicLoc is the clinic's time zone, for patients without their own.
	clinicLoc *time.Location
}

// newDialog assembles the dialog. info and codes may be nil (no knowledge
// base; no way to send codes, so web chat patients are asked to call).
func newDialog(svc *scheduling.Service, cfg Config, info InfoSource, codes CodeSender, links *linkSigner, log *slog.Logger) *Dialog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dialog{svc: svc, cfg: cfg, info: info, codes: codes, links: links, log: log, clinicLoc: time.UTC,
		policy: patients.Policy{TTL: cfg.VerifyTTL, LockFor: cfg.LockFor}.WithDefaults(), limits: verifyLimits(cfg)}
}

// Name implements bot.Dialog.
func (*Dialog) Name() string { return Name }

// offer is a slot shown to the patient, remembered so that a button press
// books exactly what was shown.
type offer struct {
	Provider string    `json:"p"`
	Location string    `json:"l"`
	Start    time.Time `json:"s"`
	End      time.Time `json:"e"`
	Ref      string    `json:"r,omitempty"`
}

func (o offer) slot() scheduling.Slot {
	return scheduling.Slot{ProviderID: o.Provider, LocationID: o.Location, Start: o.Start, End: o.End, Ref: o.Ref}
}

// state is the dialog's memory between messages. It holds no slot: nothing
// is reserved until the patient confirms, so an abandoned booking holds
// nothing, and it expires after Config.FlowTTL.
type state struct {
	Step     string    `json:"step"`
	Pending  string    `json:"pending,omitempty"`
	Expires  time.Time `json:"expires"`
	Visit    string    `json:"visit,omitempty"`
	Provider string    `json:"provider,omitempty"`
	When     *When     `json:"when,omitempty"`
	Offered  []offer   `json:"offered,omitempty"`
	Seq      int       `json:"seq,omitempty"`
	Chosen   *offer    `json:"chosen,omitempty"`
	ApptID   int64     `json:"appt,omitempty"`
	ApptVer  int       `json:"ver,omitempty"`
	Claim    string    `json:"claim,omitempty"`
}

// Steps.
const (
	stepContact = "verify_contact" // web: phone or email on file
	stepShare   = "verify_share"   // Telegram: share your contact
	stepDOB     = "verify_dob"
	stepCode    = "verify_code"
	stepVisit   = "visit"
	stepProv    = "provider"
	stepSlot    = "slot"
	stepDay     = "day"
	stepConfirm = "confirm"
	stepCancel  = "cancel_confirm"
	stepPick    = "pick"
)

// Handle implements bot.Dialog.
func (d *Dialog) Handle(t *bot.Turn) (bool, error) {
	var st state
	had := t.LoadState(Name, &st)
	expired := had && t.Now.After(st.Expires)
	if expired {
		st = state{}
	}
	tt, err := d.newTurn(t, &st)
	if err != nil {
		return false, err
	}
	var handled bool
	if action, args, ok := t.Payload(Name); ok {
		handled, err = true, tt.onButton(action, args)
	} else {
		handled, err = tt.text(expired)
	}
	if err != nil || !handled {
		if expired && err == nil {
			t.Finish(Name) // a stale flow should not keep catching messages
		}
		return handled, err
	}
	if tt.done || st.Step == "" {
		t.Finish(Name)
		return true, nil
	}
	st.Expires = t.Now.Add(d.cfg.FlowTTL)
	t.Start(Name)
	return true, t.SaveState(Name, st)
}

// Intents a message can carry.
const (
	intentBook    = "book"
	intentCancel  = "cancel"
	intentResched = "resched"
	intentList    = "list"
	intentConfirm = "confirm"
	intentAbout   = "about"
)

var (
	bookWords = []string{"book", "appointment", "appointments", "appt", "schedule", "follow up", "followup", "follow-up", "see the doctor",
		"see dr", "see a doctor", "cita", "citas", "agendar", "reservar", "programar", "turno", "seguimiento", "consulta", "ver al doctor",
		"ver a la doctora", "ver al medico", "visit"}
	bookVerbs = []string{"book", "schedule", "make", "need", "want", "get", "agendar", "reservar", "sacar", "hacer", "necesito", "quiero", "pedir"}
	faqWords  = []string{"cost", "price", "how much", "pay", "insurance", "cover", "bring", "prepare", "hours", "open", "parking",
		"fee", "fees", "charge", "penalty", "length", "how long", "last",
		"cuanto", "cuesta", "precio", "seguro", "cubre", "traer", "preparar", "horario", "abren", "estacionamiento",
		"cargo", "multa", "dura", "duracion"}
	cancelWords = []string{"cancel", "cancelar", "anular"}
	apptWords   = []string{"appointment", "appt", "visit", "cita", "consulta", "booking", "reserva", "turno"}
	// rescheduleWords say it on their own; moveWords only next to an appointment
	// word ("move my prescriptions" is not a reschedule).
	rescheduleWords = []string{"reschedule", "re schedule", "reprogramar"}
	moveWords       = []string{"move my", "change my", "another time", "different time", "cambiar mi", "cambiar la",
		"mover mi", "otra hora", "otro dia"}
	listWords    = []string{"my appointments", "my appointment", "when is my", "mis citas", "mi cita", "cuando es mi", "upcoming"}
	confirmWords = map[string]bool{"c": true, "confirm": true, "confirmed": true, "i confirm": true, "confirmo": true,
		"confirmar": true, "si confirmo": true, "yes confirm": true, "confirmado": true}
	aboutWords = []string{"about", "who is", "tell me", "quien es", "sobre", "hablame", "cuentame", "speak", "habla"}
	// escapeWords leave a booking in progress for the menu and the other dialogs.
	escapeWords = []string{"menu", "main menu", "help", "never mind", "nevermind", "forget it", "stop booking",
		"menu principal", "ayuda", "olvidalo", "dejalo", "no importa"}
)

// infoStarts open a sentence that asks for information ("how do I book a
// mammogram?", "what do I bring to my appointment?", "¿cómo cambio mi
// cita?"): those are the knowledge base's to answer even when they name an
// appointment. availability phrases are the exception: "when can I see Dr.
// Chen?" asks for a booking.
var (
	infoStarts = []string{"what", "whats", "how", "where", "which", "who", "why", "is", "are", "does", "do i", "do you",
		"should", "would it", "que", "como", "donde", "cual", "cuanto", "cuanta", "quien", "por que", "hay", "es", "se puede",
		"con cuanto", "con cuanta", "con cuantos", "con cuantas", "a que", "en cuanto", "en cuantos", "hasta que", "cuantos", "cuantas"}
	availabilityWords = []string{"when can i", "when could i", "do you have", "tienen", "opening", "openings", "availability", "available",
		"next available", "earliest", "soonest", "cuando puedo", "hay citas", "disponibilidad", "disponible", "lo antes posible"}
)

// phoneWords ask for the clinic's number, which the knowledge base gives
// and the booking flow does not ("phone number to make an appointment",
// "phone # to book a mammo").
var phoneWords = []string{"phone number", "phone no", "phone to book", "phone to make", "phone to schedule", "number to call",
	"what number", "numero de telefono", "telefono para", "numero para"}

// policyStarts open a yes/no question about what happens or is allowed
// ("will I lose my appointment?", "if I do a video visit, do I pay
// twice?", "can I bring my kids to my appointment?"). Unlike infoStarts
// they also open requests ("can I make an appointment?"), so they count
// only in a message with a question mark and a sentence that asks for no
// booking, cancellation or change.
var policyStarts = []string{"will", "would", "could", "can", "am i", "did", "may", "must", "puedo", "pierdo",
	"me cobran", "me van a", "tengo que", "si"}

// conditionStarts open a question about a case ("if I do a video visit and
// the doctor says I need to come in, do I pay twice?"): a question about
// the rules even when it names a booking verb.
var conditionStarts = []string{"if", "what if", "y si"} // "si" is also "sí": a policy start

// clauseStarts open an information question after a comma ("doc ordered
// an x-ray of my wrist, do I need to schedule or can I just walk in"):
// question words only, since "is"/"are" after a comma often ask about a
// booking ("I'd like to book, is Tuesday ok?"), and "how about Tuesday"
// proposes a time. Spanish "que" and "como" are left out: without their
// accents they also say "que sea temprano" and "como a las 3".
var (
	clauseStarts    = []string{"what", "whats", "how", "where", "which", "why", "do i", "should i", "donde", "cual"}
	proposingStarts = []string{"how about", "what about", "que tal", "y el", "y la"}
)

// methodWords name the way of doing something ("can I move my appointment
// by text", "can I book online?"): a yes/no question opened by a
// policyStart that names one asks how the clinic works, and the knowledge
// base answers it, with or without a question mark.
var methodWords = []string{"by text", "text back", "by texting", "by email", "online", "on line", "on the website",
	"through the portal", "in the portal", "on the portal", "by phone", "over the phone", "on the app", "in the app",
	"por mensaje", "por texto", "en linea", "por internet", "por el portal", "en el portal", "por telefono", "por correo"}

// asksForInformation reports whether any sentence of the message is an
// information question and none asks about availability.
func asksForInformation(text string) bool {
	norm := textutil.Normalize(text)
	if textutil.HasAny(norm, phoneWords...) && !textutil.HasAny(norm, "my phone", "my number", "mi telefono", "mi numero") {
		return true
	}
	if textutil.HasAny(norm, availabilityWords...) {
		return false
	}
	question := strings.Contains(text, "?")
	for _, sentence := range strings.FieldsFunc(text, func(r rune) bool { return r == '?' || r == '.' || r == '!' || r == '¿' || r == ';' }) {
		words := textutil.Normalize(sentence)
		if startsWithAny(words, infoStarts) {
			return true
		}
		if question && (startsWithAny(words, conditionStarts) || startsWithAny(words, policyStarts) && !asksForBooking(words)) {
			return true
		}
		if startsWithAny(words, policyStarts) && textutil.HasAny(words, methodWords...) {
			return true
		}
		// A terse question with its question word last: "cancel appt how".
		if w := strings.Fields(words); len(w) > 1 && (w[len(w)-1] == "how" || w[len(w)-1] == "como") {
			return true
		}
		for _, clause := range strings.Split(sentence, ",")[1:] {
			c := textutil.Normalize(clause)
			if startsWithAny(c, clauseStarts) && !startsWithAny(c, proposingStarts) {
				return true
			}
		}
	}
	return false
}

func startsWithAny(words string, starts []string) bool {
	for _, w := range starts {
		if words == w || strings.HasPrefix(words, w+" ") {
			return true
		}
	}
	return false
}

// asksForBooking reports a booking, cancelling or rescheduling verb in a
// sentence.
func asksForBooking(words string) bool {
	return textutil.HasAny(words, bookVerbs...) || textutil.HasAny(words, cancelWords...) ||
		textutil.HasAny(words, rescheduleWords...) || textutil.HasAny(words, moveWords...)
}

// intent reads what a message asks of booking ("" for nothing).
func (tt *turn) intent() string {
	norm := textutil.Normalize(tt.Text())
	switch {
	case norm == "":
		return ""
	case confirmWords[norm]:
		return intentConfirm
	case asksForInformation(tt.Text()):
		return ""
	case textutil.HasAny(norm, cancelWords...) && textutil.HasAny(norm, apptWords...):
		return intentCancel
	case textutil.HasAny(norm, rescheduleWords...),
		textutil.HasAny(norm, moveWords...) && textutil.HasAny(norm, apptWords...):
		return intentResched
	case textutil.HasAny(norm, listWords...) && !textutil.HasAny(norm, bookVerbs...) && !textutil.HasAny(norm, faqWords...):
		return intentList
	}
	if tt.dir != nil && textutil.HasAny(norm, aboutWords...) {
		if _, ok := tt.dir.FindProvider(norm); ok {
			return intentAbout
		}
	}
	if textutil.HasAny(norm, bookWords...) {
		if textutil.HasAny(norm, faqWords...) && !textutil.HasAny(norm, bookVerbs...) {
			return "" // "how much is a follow-up visit?" is a question for the FAQ
		}
		return intentBook
	}
	return ""
}

// Match implements bot.Matcher. It reads the text first and asks the
// database only for the intents that need it, since every unclaimed
// message passes through here.
func (d *Dialog) Match(t *bot.Turn) int {
	var st state
	tt := &turn{Turn: t, d: d, st: &st}
	norm := textutil.Normalize(t.Text())
	if textutil.HasAny(norm, aboutWords...) {
		tt.dir, _ = d.svc.Directory(t.Ctx, t.Q())
	}
	switch tt.intent() {
	case intentConfirm:
		if tt.remindedAppointment() != nil {
			return 95
		}
		return 0
	case intentCancel, intentResched:
		return 90
	case intentList, intentAbout:
		return 85
	case intentBook:
		return 75
	}
	return 0
}

// looksLikeQuestion tells a question for another dialog from an answer
// the patient got wrong; questions pass through to the FAQ.
func looksLikeQuestion(text string) bool {
	return strings.Contains(text, "?") || len(textutil.Words(text)) >= 7
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
