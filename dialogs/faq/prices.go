package faq

import (
	"strconv"
	"strings"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/prices"
	"github.com/tend-health/tend/internal/textutil"
	"github.com/tend-health/tend/knowledge"
)

// Cost questions about a service of the clinic's price lists (the CMS
// price-transparency file) are answered from the list, not from prose:
// the service as the file names it, its codes and setting, the discounted
// cash price and, for the patient's plan, the negotiated charge with its
// methodology in plain words. Figures are the file's, never rounded or
// added up. A question the lists do not have goes on to the documents.

// PriceLists gives the installed price lists (prices.Module; nil: none).
type PriceLists interface {
	Catalog() *prices.Catalog
}

// priceState is what a price answer leaves for the next turn: the item,
// so that "and with the PPO?" is about it, and the question that asked.
type priceState struct {
	Ref      string `json:"ref"`
	Question string `json:"q"`
}

// priceLookup is one turn's price-list search, shared by Match and Handle.
type priceLookup struct {
	found  prices.Found
	follow *prices.Match // the previous answer's item, when this is a follow-up naming a plan
}

func (d Dialog) catalog() *prices.Catalog {
	if d.Prices == nil {
		return nil
	}
	return d.Prices.Catalog()
}

// asksPrice reports a question about what something costs, or naming a
// billing code.
func (d Dialog) asksPrice(t *bot.Turn) bool {
	text := t.Text()
	if prices.NamesCode(text) {
		return true
	}
	a := d.KB.Analyzer()
	var terms []string
	for _, tok := range a.Analyze(text, t.Lang()) {
		terms = append(terms, tok.Term)
	}
	for _, f := range a.FiguresAsked(text, terms) {
		if f == knowledge.FigurePrice {
			return true
		}
	}
	// "What does Platform PPO pay for ...", "breast biopsy acme hmo".
	names, err := d.catalog().NamesPlan(t.Ctx, t.Q(), text)
	return err == nil && names
}

func (d Dialog) lookupPrice(t *bot.Turn) (priceLookup, error) {
	v, err := t.Memo("faq:prices", func() (any, error) {
		var out priceLookup
		c := d.catalog()
		if c == nil {
			return out, nil
		}
		var prev state
		t.LoadState(Name, &prev)
		if p := prev.Price; p != nil && t.Now.Sub(prev.At) <= followUpWindow && isFollowUp(t.Text()) {
			m, ok, err := c.Item(t.Ctx, t.Q(), p.Ref)
			if err != nil {
				return out, err
			}
			if ok && len(prices.PickPlans(t.Text(), m.Item.Plans())) > 0 {
				out.follow = &m
				return out, nil
			}
		}
		if !d.asksPrice(t) {
			return out, nil
		}
		f, err := c.Find(t.Ctx, t.Q(), t.Text(), t.Lang())
		out.found = f
		return out, err
	})
	if err != nil {
		return priceLookup{}, err
	}
	return v.(priceLookup), nil
}

// answersPrice reports whether the price lists answer this turn (an
// unknown billing code is theirs too: they abstain).
func (l priceLookup) answers() bool {
	return l.follow != nil || len(l.found.Matches) > 0 || l.found.UnknownCode
}

// answerPrice answers from the price lists when they have the item; false
// when the question is not theirs.
func (d Dialog) answerPrice(t *bot.Turn) (bool, error) {
	l, err := d.lookupPrice(t)
	if err != nil || !l.answers() {
		return false, err
	}
	question := t.Text()
	if l.follow != nil {
		return true, d.replyPrice(t, *l.follow, question)
	}
	ms := l.found.Matches
	if len(ms) == 0 {
		// A code no price list has: the documents do not price by code,
		// so the question goes to editors rather than to a passage that
		// prices something else.
		return true, d.abstain(t, question, knowledge.Response{})
	}
	if len(ms) == 1 {
		return true, d.replyPrice(t, ms[0], question)
	}
	return true, d.askWhichItem(t, ms, question)
}

// handlePricePayload answers a button of a price reply: an item chosen
// ("price", ref) or a plan chosen ("plan", ref, index).
func (d Dialog) handlePricePayload(t *bot.Turn, action string, args []string) (bool, error) {
	c := d.catalog()
	if c == nil || len(args) == 0 {
		return false, nil
	}
	m, ok, err := c.Item(t.Ctx, t.Q(), args[0])
	if err != nil || !ok {
		if err == nil {
			t.Reply(bot.Reply{Text: t.T("faq.price.gone"), Action: bot.ActionAbstain})
		}
		return true, err
	}
	var prev state
	t.LoadState(Name, &prev)
	question := ""
	if prev.Price != nil {
		question = prev.Price.Question
	}
	if action == "plan" && len(args) == 2 {
		i, err := strconv.Atoi(args[1])
		if plans := m.Item.Plans(); err == nil && i >= 0 && i < len(plans) {
			return true, d.replyPlan(t, m, plans[i], question)
		}
	}
	return true, d.replyPrice(t, m, question)
}

func (d Dialog) savePrice(t *bot.Turn, m prices.Match, question string) error {
	return t.SaveState(Name, state{Question: question, At: t.Now, Price: &priceState{Ref: m.Ref(), Question: question}})
}

// askWhichItem offers the items a question matches (at most five).
func (d Dialog) askWhichItem(t *bot.Turn, ms []prices.Match, question string) error {
	if err := t.SaveState(Name, state{Question: question, At: t.Now,
		Price: &priceState{Question: question}}); err != nil {
		return err
	}
	if len(ms) > prices.MaxChoices {
		ms = ms[:prices.MaxChoices]
	}
	descs := map[string]int{}
	lists := map[int64]bool{}
	for _, m := range ms {
		descs[m.Item.Description]++
		lists[m.List.ID] = true
	}
	var buttons []bot.Button
	for _, m := range ms {
		label := m.Item.Description
		if descs[label] > 1 {
			label += " (" + t.T("faq.price.setting."+m.Item.Setting) + ")"
		}
		if len(lists) > 1 && len(m.List.File.Locations) > 0 {
			label += " — " + m.List.File.Locations[0]
		}
		buttons = append(buttons, bot.Button{Label: clipLabel(label), Payload: bot.Payload(Name, "price", m.Ref())})
	}
	t.Reply(bot.Reply{Text: t.T("faq.price.which"), Action: bot.ActionAnswer, Buttons: buttons, Confidence: 1})
	return nil
}

func clipLabel(s string) string {
	r := []rune(s)
	if len(r) <= 60 {
		return s
	}
	return string(r[:59]) + "…"
}

// replyPrice answers one item: for the plan the question names, or the
// cash price with the range of negotiated charges and the plans to pick.
func (d Dialog) replyPrice(t *bot.Turn, m prices.Match, question string) error {
	plans := prices.PickPlans(question+" "+t.Text(), m.Item.Plans())
	if len(plans) == 1 {
		return d.replyPlan(t, m, plans[0], question)
	}
	if err := d.savePrice(t, m, question); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(d.itemLine(t, m))
	d.cashLines(t, &b, m.Item)
	choices := m.Item.Plans()
	if len(plans) > 1 {
		choices = plans
	}
	if len(choices) > 0 {
		if r := rangeText(t, m.Item); r != "" {
			b.WriteString("\n" + r)
		}
		b.WriteString("\n" + t.T("faq.price.pick_plan"))
	}
	var buttons []bot.Button
	all := m.Item.Plans()
	for _, p := range choices {
		if len(buttons) == prices.MaxChoices {
			break
		}
		buttons = append(buttons, bot.Button{Label: clipLabel(p.Payer + " " + p.Plan),
			Payload: bot.Payload(Name, "plan", m.Ref(), strconv.Itoa(indexOf(all, p)))})
	}
	d.closing(t, &b, m)
	buttons = append(buttons, t.Button("faq.price.button.estimate", bot.Payload(handoff.Name, "request", handoff.ReasonAsked)))
	t.Reply(bot.Reply{Text: b.String(), Action: bot.ActionAnswer, Buttons: buttons, Confidence: 1, Sources: priceSources(m)})
	return nil
}

func indexOf(ps []prices.Payer, p prices.Payer) int {
	for i, q := range ps {
		if q == p {
			return i
		}
	}
	return -1
}

// replyPlan answers one item for one plan.
func (d Dialog) replyPlan(t *bot.Turn, m prices.Match, p prices.Payer, question string) error {
	if err := d.savePrice(t, m, question); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(d.itemLine(t, m))
	d.cashLines(t, &b, m.Item)
	for _, r := range m.Item.RatesOf(p) {
		b.WriteString("\n• " + rateText(t, r))
	}
	d.closing(t, &b, m)
	buttons := []bot.Button{t.Button("faq.price.button.estimate", bot.Payload(handoff.Name, "request", handoff.ReasonAsked))}
	t.Reply(bot.Reply{Text: b.String(), Action: bot.ActionAnswer, Buttons: buttons, Confidence: 1, Sources: priceSources(m)})
	return nil
}

func (d Dialog) itemLine(t *bot.Turn, m prices.Match) string {
	it := m.Item
	var codes []string
	for _, c := range it.Codes {
		codes = append(codes, c.String())
	}
	return t.T("faq.price.item", map[string]any{"Description": it.Description, "Codes": strings.Join(codes, ", "),
		"Setting": t.T("faq.price.setting." + it.Setting), "Unit": unitText(it)})
}

func unitText(it prices.Item) string {
	if !it.DrugUnit.Set() {
		return ""
	}
	return string(it.DrugUnit) + " " + it.DrugType
}

func (d Dialog) cashLines(t *bot.Turn, b *strings.Builder, it prices.Item) {
	if it.Cash.Set() {
		b.WriteString("\n• " + t.T("faq.price.cash", map[string]any{"Amount": it.Cash.Dollars()}))
	}
	if it.Gross.Set() {
		b.WriteString("\n• " + t.T("faq.price.gross", map[string]any{"Amount": it.Gross.Dollars()}))
	}
	if !it.Cash.Set() && !it.Gross.Set() {
		b.WriteString("\n• " + t.T("faq.price.no_cash"))
	}
}

// rangeText is the de-identified minimum and maximum negotiated charge.
func rangeText(t *bot.Turn, it prices.Item) string {
	if !it.Min.Set() || !it.Max.Set() {
		return ""
	}
	return t.T("faq.price.range", map[string]any{"Min": it.Min.Dollars(), "Max": it.Max.Dollars()})
}

// rateText is one plan's negotiated charge in plain words.
func rateText(t *bot.Turn, r prices.Rate) string {
	data := map[string]any{"Plan": r.Payer + " " + r.Plan, "Method": methodText(t, r.Methodology),
		"Dollar": r.Dollar.Dollars(), "Percent": string(r.Percentage), "Algorithm": r.Algorithm,
		"Median": r.Median.Dollars(), "P10": r.P10.Dollars(), "P90": r.P90.Dollars(), "Count": r.Count,
		"Estimated": r.Estimated.Dollars(), "Notes": r.Notes}
	var s string
	switch {
	case r.Dollar.Set():
		s = t.T("faq.price.rate.dollar", data)
	case r.Percentage.Set():
		s = t.T("faq.price.rate.percent", data)
	case r.Algorithm != "":
		s = t.T("faq.price.rate.algorithm", data)
	default:
		s = t.T("faq.price.rate.notes", data)
	}
	if r.Median.Set() && r.P10.Set() && r.P90.Set() {
		s += " " + t.T("faq.price.rate.percentiles", data)
	}
	if r.Estimated.Set() {
		s += " " + t.T("faq.price.rate.estimated", data)
	}
	if r.Notes != "" && (r.Dollar.Set() || r.Percentage.Set() || r.Algorithm != "") {
		s += " " + t.T("faq.price.rate.note", data)
	}
	return s
}

func methodText(t *bot.Turn, m string) string {
	if m == "" {
		return ""
	}
	return t.T("faq.price.method." + strings.ReplaceAll(m, " ", "_"))
}

// closing adds the source, that the figure is the clinic's charge and not
// the patient's share, how plans usually apply (from the documents, when
// they say), and the offer of a Good Faith Estimate.
func (d Dialog) closing(t *bot.Turn, b *strings.Builder, m prices.Match) {
	f := m.List.File
	b.WriteString("\n\n" + t.T("faq.price.source", map[string]any{"Hospital": f.HospitalName, "File": m.List.Name,
		"Locations": strings.Join(f.Locations, ", "), "Updated": f.LastUpdatedOn}))
	b.WriteString("\n" + t.T("faq.price.not_your_share"))
	if how := d.howPlansApply(t); how != "" {
		b.WriteString("\n" + how)
	}
	b.WriteString("\n" + t.T("faq.price.estimate"))
}

// planQuestion asks the documents how a plan's share works.
var planQuestion = map[string]string{
	"en": "how do copays, coinsurance and deductibles work with my insurance",
	"es": "como funcionan el copago, el coseguro y el deducible con mi seguro",
}

// howPlansApply quotes the clinic's documents on copays, coinsurance and
// deductibles, when they answer that with confidence.
func (d Dialog) howPlansApply(t *bot.Turn) string {
	q, ok := planQuestion[t.Lang()]
	if !ok {
		q = planQuestion["en"]
	}
	kb, err := d.kbState(t)
	if err != nil {
		return ""
	}
	resp, err := d.KB.Search(t.Ctx, t.Q(), q, knowledge.SearchOptions{Lang: t.Lang(), Mode: d.Mode, Limit: 1, State: kb})
	if err != nil || len(resp.Results) == 0 || resp.Confidence < d.minConfidence(resp) {
		return ""
	}
	r := resp.Results[0]
	if !textutil.HasAny(textutil.Normalize(r.Text), "deductible", "copay", "coinsurance", "deducible", "copago", "coseguro") {
		return ""
	}
	return TrimForChat(r.Text, 300) + " (" + sourceLine(t, r) + ")"
}

func priceSources(m prices.Match) []bot.Source {
	return []bot.Source{{Document: m.List.Name, Title: m.List.File.HospitalName, Section: m.Item.Description,
		Updated: m.List.File.LastUpdatedOn, Score: 1}}
}
