package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/clinic"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/outreach"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/quiet"
	"github.com/tend-health/tend/internal/store"
)

// Reasons a patient in the audience gets no message.
const (
	ReasonCapped = "capped"
	ReasonEnded  = "ended"
)

// Service previews and runs campaigns and sends their messages.
type Service struct {
	DB       *store.DB
	Engine   *bot.Engine
	Catalog  *catalog.Catalog
	Clinic   *clinic.Profile
	Clock    clock.Clock
	Log      *slog.Logger
	Channels outreach.Channels
	Quiet    quiet.Hours
}

// Exclusion is a patient in the audience who gets no message, and why.
type Exclusion struct {
	Patient string `json:"patient"` // record number
	Reason  string `json:"reason"`
}

// Sample is a message as one patient would read it.
type Sample struct {
	Patient string   `json:"patient"`
	Channel string   `json:"channel"`
	Lang    string   `json:"lang"`
	Text    string   `json:"text"`
	Buttons []string `json:"buttons,omitempty"`
}

// Plan is what a preview shows and a run did.
type Plan struct {
	Campaign   string         `json:"campaign"`
	Matched    int            `json:"matched"`  // in the audience
	Eligible   int            `json:"eligible"` // would be (or were) queued
	Excluded   map[string]int `json:"excluded"` // by reason
	Exclusions []Exclusion    `json:"exclusions"`
	Samples    []Sample       `json:"samples"`
	// Run only: newly queued, and already handled by an earlier run.
	Queued  int `json:"queued"`
	Already int `json:"already"`
}

// candidate is one audience member as evaluated.
type candidate struct {
	p       patients.Patient
	target  outreach.Target
	due     string
	reason  string
	lang    string
	sendAt  time.Time
	channel string
}

// evaluate walks the registry and decides, for each patient in the
// audience, whether and where the campaign can reach them.
func (s *Service) evaluate(ctx context.Context, q store.Q, c *Campaign, now time.Time) ([]candidate, error) {
	f, err := loadFacts(ctx, q, now)
	if err != nil {
		return nil, err
	}
	capped, err := recentSends(ctx, q, c, now)
	if err != nil {
		return nil, err
	}
	var out []candidate
	for after := int64(0); ; {
		page, err := patients.List(ctx, q, after, 500)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			return out, nil
		}
		after = page[len(page)-1].ID
		for _, p := range page {
			ok, due := c.Audience.matches(p, f, now, s.Clinic.Location())
			if !ok {
				continue
			}
			cand, err := s.decide(ctx, q, c, p, capped[p.ID], now)
			if err != nil {
				return nil, err
			}
			cand.due = due
			out = append(out, cand)
		}
	}
}

func (s *Service) decide(ctx context.Context, q store.Q, c *Campaign, p patients.Patient, sent int, now time.Time) (candidate, error) {
	cand := candidate{p: p}
	target, reachable, err := outreach.Find(ctx, q, p, c.Channels, nil, s.Channels)
	if err != nil {
		return cand, err
	}
	subject := consent.PatientSubject(p.ID)
	if reachable {
		subject = target.Subject(p)
	}
	d, err := consent.Check(ctx, q, subject, &p, consent.Campaigns)
	switch {
	case err != nil:
		return cand, err
	case !d.Allowed:
		cand.reason = d.Reason
	case !reachable:
		cand.reason = outreach.ReasonUnreachable
	case c.Cap.Max > 0 && sent >= c.Cap.Max:
		cand.reason = ReasonCapped
	}
	cand.target, cand.channel = target, target.Channel
	cand.lang = outreach.Lang(ctx, q, p, target)
	cand.sendAt = s.sendTime(c, now, p.Location(s.Clinic.Location()))
	if cand.reason == "" && cand.sendAt.IsZero() {
		cand.reason = ReasonEnded
	}
	return cand, nil
}

// recentSends counts each patient's campaign messages within the cap's
// period, from other campaigns.
func recentSends(ctx context.Context, q store.Q, c *Campaign, now time.Time) (map[int64]int, error) {
	if c.Cap.Max == 0 {
		return map[int64]int{}, nil
	}
	out, err := store.CountByID(q.Query(ctx, `SELECT patient_id, count(*) FROM campaign_deliveries WHERE status = 'sent'
		AND sent_at > $1 AND campaign_id <> $2 GROUP BY patient_id`, now.Add(-days(c.Cap.PerDays)), c.ID))
	if err != nil {
		return nil, fmt.Errorf("campaign: recent sends: %w", err)
	}
	return out, nil
}

// Preview evaluates the campaign without sending or recording anything.
func (s *Service) Preview(ctx context.Context, c *Campaign) (Plan, error) {
	cands, err := s.evaluate(ctx, s.DB.Q(), c, s.Clock.Now())
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{Campaign: c.ID, Excluded: map[string]int{}}
	for _, cand := range cands {
		s.count(&plan, c, cand)
	}
	return plan, nil
}

func (s *Service) count(plan *Plan, c *Campaign, cand candidate) {
	plan.Matched++
	if cand.reason != "" {
		plan.Excluded[cand.reason]++
		plan.Exclusions = append(plan.Exclusions, Exclusion{Patient: cand.p.ExternalID, Reason: cand.reason})
		return
	}
	plan.Eligible++
	if len(plan.Samples) < 5 {
		r := s.reply(c, cand.lang, cand.p.FirstName, cand.due, 0)
		sample := Sample{Patient: cand.p.ExternalID, Channel: cand.channel, Lang: cand.lang, Text: r.Text}
		for _, b := range r.Buttons {
			sample.Buttons = append(sample.Buttons, b.Label)
		}
		plan.Samples = append(plan.Samples, sample)
	}
}

// reply is the campaign's message to one patient, with its buttons.
func (s *Service) reply(c *Campaign, lang, firstName, due string, deliveryID int64) bot.Reply {
	text := c.Render(lang, Fields{FirstName: firstName, Clinic: s.Clinic.Name, Phone: s.Clinic.Phone, DueDate: due})
	r := bot.Reply{Text: text, Kind: bot.KindCampaign,
		// Outside WhatsApp's window the template says only that the clinic
		// has news: no health details.
		Template: &bot.Template{Purpose: bot.KindCampaign, Params: []string{s.Clinic.Name}}}
	id := fmt.Sprint(deliveryID)
	for _, b := range c.Buttons {
		r.Buttons = append(r.Buttons, bot.Button{Label: s.Catalog.Text(lang, "campaign.button."+b, nil),
			Payload: bot.Payload(Name, b, id)})
	}
	return r
}

// sendTime is the first moment at or after now (and the start date) in
// the campaign's window and outside quiet hours, in loc; zero when the
// campaign has ended before then.
func (s *Service) sendTime(c *Campaign, now time.Time, loc *time.Location) time.Time {
	t := now
	if c.Starts != "" {
		if start, err := time.ParseInLocation(time.DateOnly, c.Starts, loc); err == nil && start.After(t) {
			t = start
		}
	}
	var end time.Time
	if c.Ends != "" {
		if e, err := time.ParseInLocation(time.DateOnly, c.Ends, loc); err == nil {
			end = e.AddDate(0, 0, 1)
		}
	}
	for i := 0; i < 8*24*4; i++ {
		if !end.IsZero() && !t.Before(end) {
			return time.Time{}
		}
		if s.allowed(c, t, loc) {
			return t
		}
		t = t.Truncate(15 * time.Minute).Add(15 * time.Minute)
	}
	return time.Time{}
}

// allowed reports whether t is in the campaign's window and not quiet.
func (s *Service) allowed(c *Campaign, t time.Time, loc *time.Location) bool {
	if s.Quiet.Contains(t, loc) {
		return false
	}
	lt := t.In(loc)
	if len(c.Window.Days) > 0 && !slices.Contains(c.Window.Days, strings.ToLower(dayNames[lt.Weekday()])) {
		return false
	}
	if c.Window.Start != "" {
		w, _ := quiet.Parse(c.Window.Start + "-" + c.Window.End)
		// The window is the span that is "quiet" for the Hours type.
		if !w.Contains(t, loc) {
			return false
		}
	}
	return true
}

// saveDefinition keeps the campaign as run, for the send jobs.
func saveDefinition(ctx context.Context, q store.Q, c *Campaign, now time.Time) error {
	def, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO campaigns (id, definition, created_at, updated_at) VALUES ($1, $2, $3, $3)
		ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`, c.ID, string(def), now)
	if err != nil {
		return fmt.Errorf("campaign: save definition: %w", err)
	}
	return nil
}

func loadDefinition(ctx context.Context, q store.Q, id string) (*Campaign, error) {
	var def string
	if err := q.QueryRow(ctx, `SELECT definition FROM campaigns WHERE id = $1`, id).Scan(&def); err != nil {
		return nil, err
	}
	var c Campaign
	if err := json.Unmarshal([]byte(def), &c); err != nil {
		return nil, fmt.Errorf("campaign %s: stored definition: %w", id, err)
	}
	return &c, nil
}

// sortExclusions orders exclusions by reason, then patient.
func sortExclusions(ex []Exclusion) {
	sort.Slice(ex, func(i, j int) bool {
		if ex[i].Reason != ex[j].Reason {
			return ex[i].Reason < ex[j].Reason
		}
		return ex[i].Patient < ex[j].Patient
	})
}
