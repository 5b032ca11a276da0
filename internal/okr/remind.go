package okr

import (
	"context"
	"errors"
	"time"

	"okrgraph/ent"
	"okrgraph/ent/okritem"
	"okrgraph/ent/organization"
	"okrgraph/ent/timeperiod"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/notify"
	"okrgraph/internal/scope"
)

// DefaultCadenceDays is the check-in cadence of an organization without one.
const DefaultCadenceDays = 7

// DueCheckin is an open item due a check-in and whom to remind.
type DueCheckin struct {
	Item          *ent.OKRItem
	LastCheckinAt *time.Time
	DueSince      time.Time
	Recipients    []*ent.User
}

// DueCheckins lists the open items of the selected organization due a
// check-in at now, in periodID or (nil) in any open period or none, with
// their reminder recipients. Org admins only (org.manage); the items are
// those the admin may view.
func (s *Service) DueCheckins(ctx context.Context, periodID *int) ([]*DueCheckin, error) {
	a, err := access.ReadActor(ctx, s.Client)
	if err != nil {
		return nil, err
	}
	if err := s.Guard.Require(ctx, a.Input(authz.ActionOrgManage, authz.Resource{})); err != nil {
		return nil, err
	}
	if periodID != nil {
		if err := periodExists(ctx, s.Client, *periodID); err != nil {
			return nil, err
		}
	}
	o, err := s.Client.Organization.Get(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	return dueCheckins(ctx, s.Client, o, periodID, time.Now())
}

func cadence(o *ent.Organization) int {
	if o.CheckinCadenceDays > 0 {
		return o.CheckinCadenceDays
	}
	return DefaultCadenceDays
}

// dueCheckins finds the due items of org o with a fixed number of queries:
// open items of open periods (or without a period) whose last check-in, or
// creation when they have none, is a cadence or more ago.
func dueCheckins(ctx context.Context, c *ent.Client, o *ent.Organization, periodID *int, now time.Time) ([]*DueCheckin, error) {
	days := cadence(o)
	cutoff := now.AddDate(0, 0, -days)
	q := c.OKRItem.Query().Where(
		okritem.OrgID(o.ID),
		okritem.StatusNEQ(okritem.StatusCLOSED),
		okritem.Or(
			okritem.LastCheckinAtLTE(cutoff),
			okritem.And(okritem.LastCheckinAtIsNil(), okritem.CreatedAtLTE(cutoff)),
		),
	)
	if periodID != nil {
		q.Where(okritem.TimePeriodID(*periodID), okritem.HasTimePeriodWith(timeperiod.Closed(false)))
	} else {
		q.Where(okritem.Or(okritem.TimePeriodIDIsNil(), okritem.HasTimePeriodWith(timeperiod.Closed(false))))
	}
	items, err := q.Order(okritem.ByID()).All(ctx)
	if err != nil {
		return nil, err
	}
	recipients, err := Recipients(ctx, c, items)
	if err != nil {
		return nil, err
	}
	out := make([]*DueCheckin, len(items))
	for i, it := range items {
		ref := it.CreatedAt
		if it.LastCheckinAt != nil {
			ref = *it.LastCheckinAt
		}
		out[i] = &DueCheckin{Item: it, LastCheckinAt: it.LastCheckinAt, DueSince: ref.AddDate(0, 0, days), Recipients: recipients[it.ID]}
	}
	return out, nil
}

// RemindOptions select what Remind does.
type RemindOptions struct {
	// OrgSlug limits reminders to one organization; "" means all.
	OrgSlug string
	// DryRun lists the reminders without sending them.
	DryRun bool
	// Now is the reference time (zero: time.Now()).
	Now time.Time
}

// Remind sends a check-in reminder to each recipient of every item due a
// check-in, in every organization or the one named, through n. It runs
// as the system (a scheduled job), over private items too. It returns the
// reminders sent (or, with DryRun, that would be sent); sending goes on
// past a failing reminder and the failures are returned together.
func (s *Service) Remind(ctx context.Context, n notify.Notifier, opts RemindOptions) ([]notify.Reminder, error) {
	ctx = scope.System(ctx)
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	q := s.Client.Organization.Query().Order(organization.ByID())
	if opts.OrgSlug != "" {
		q.Where(organization.Slug(opts.OrgSlug))
	}
	orgs, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	if opts.OrgSlug != "" && len(orgs) == 0 {
		return nil, apperr.NotFound("organization", opts.OrgSlug)
	}
	var sent []notify.Reminder
	var errs []error
	for _, o := range orgs {
		due, err := dueCheckins(ctx, s.Client, o, nil, now)
		if err != nil {
			return sent, err
		}
		for _, d := range due {
			for _, u := range d.Recipients {
				r := notify.Reminder{
					OrgID: o.ID, OrgSlug: o.Slug, ItemID: d.Item.ID, Title: d.Item.Title,
					UserID: u.ID, Email: deref(u.Email), Name: u.Name,
					LastCheckinAt: d.LastCheckinAt, DueSince: d.DueSince,
				}
				if !opts.DryRun {
					if err := n.Remind(ctx, r); err != nil {
						errs = append(errs, err)
						continue
					}
				}
				sent = append(sent, r)
			}
		}
	}
	return sent, errors.Join(errs...)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
