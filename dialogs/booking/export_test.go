package booking

import (
	"time"

	"github.com/riverqueue/river"
)

// SendTime exposes the quiet-hours rule to tests.
func SendTime(c Config, at, visit time.Time, loc *time.Location) time.Time {
	return c.sendTime(at, visit, loc)
}

// ReminderInsertOpts are the options reminders are enqueued with.
func ReminderInsertOpts(at time.Time) *river.InsertOpts { return reminderOpts(at) }
