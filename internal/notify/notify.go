// Package notify sends notifications to users. Reminders go through the
// Notifier interface; Log writes them to a structured log, for deployments
// without a mail or chat integration and for dry runs.
package notify

import (
	"context"
	"log/slog"
	"time"
)

// Reminder asks one user to check in on one OKR item.
type Reminder struct {
	OrgID   int
	OrgSlug string
	ItemID  int
	Title   string
	UserID  int
	Email   string
	Name    string
	// LastCheckinAt is the item's latest check-in; nil when it has none.
	LastCheckinAt *time.Time
	// DueSince is when the check-in fell due.
	DueSince time.Time
}

// Notifier delivers reminders.
type Notifier interface {
	Remind(ctx context.Context, r Reminder) error
}

// Log is a Notifier that writes each reminder as a log record.
type Log struct {
	Logger *slog.Logger
}

// Remind logs r.
func (l Log) Remind(ctx context.Context, r Reminder) error {
	log := l.Logger
	if log == nil {
		log = slog.Default()
	}
	attrs := []any{
		"org", r.OrgSlug, "item_id", r.ItemID, "title", r.Title,
		"user_id", r.UserID, "email", r.Email, "due_since", r.DueSince,
	}
	if r.LastCheckinAt != nil {
		attrs = append(attrs, "last_checkin_at", *r.LastCheckinAt)
	}
	log.InfoContext(ctx, "check-in reminder", attrs...)
	return nil
}
