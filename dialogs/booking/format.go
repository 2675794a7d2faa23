package booking

import (
	"fmt"
	"strconv"
	"time"

	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/scheduling"
)

// texts renders catalog messages in one language, for turns and for jobs
// (which have no turn).
type texts struct {
	cat  *catalog.Catalog
	lang string
}

func (x texts) T(id string, data ...map[string]any) string {
	var d map[string]any
	if len(data) > 0 {
		d = data[0]
	}
	return x.cat.Text(x.lang, id, d)
}

// clock renders a time of day ("9:40 AM", "9:40").
func (x texts) clock(t time.Time) string {
	h, m := t.Hour(), t.Minute()
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	return x.T("booking.format.time", map[string]any{"H24": h, "H12": h12, "Min": fmt.Sprintf("%02d", m), "PM": h >= 12})
}

// date renders a day ("Tue, Dec 1", "mar 1 dic").
func (x texts) date(t time.Time) string {
	return x.T("booking.format.date", map[string]any{"Weekday": x.T("booking.weekday." + strconv.Itoa(int(t.Weekday()))),
		"Month": x.T("booking.month." + strconv.Itoa(int(t.Month()))), "Day": t.Day(), "Year": t.Year()})
}

// when renders a date and time in loc.
func (x texts) when(t time.Time, loc *time.Location) string {
	lt := t.In(loc)
	return x.T("booking.format.when", map[string]any{"Date": x.date(lt), "Time": x.clock(lt)})
}

// slotLabel is a slot button ("Tue, Dec 1, 9:40 AM").
func (x texts) slotLabel(s scheduling.Slot, loc *time.Location) string {
	lt := s.Start.In(loc)
	return x.T("booking.format.slot", map[string]any{"Date": x.date(lt), "Time": x.clock(lt)})
}
