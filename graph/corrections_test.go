package graph_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"okrgraph/ent/okritem"
	"okrgraph/internal/okr"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

type activityOut struct {
	Kind      string
	CheckInID *string `json:"checkInId"`
	CreatedAt string  `json:"createdAt"`
	Actor     *struct{ Email string }
	Changes   []struct {
		Field         string
		Before, After *string
	}
}

func (a activityOut) change(field string) string {
	for _, c := range a.Changes {
		if c.Field == field {
			s := func(p *string) string {
				if p == nil {
					return "null"
				}
				return *p
			}
			return s(c.Before) + "->" + s(c.After)
		}
	}
	return "unchanged"
}

func activityOf(t *testing.T, c *testenv.Client, id string) []activityOut {
	t.Helper()
	var out struct {
		Node struct {
			Activity struct {
				Edges []struct{ Node activityOut }
			}
		}
	}
	c.MustDo(t, `query($id: ID!) { node(id: $id) { ... on OKRItem { activity(first: 20) { edges { node {
		kind checkInId createdAt actor { email } changes { field before after } } } } } } }`, map[string]any{"id": id}, &out)
	var list []activityOut
	for _, e := range out.Node.Activity.Edges {
		list = append(list, e.Node)
	}
	return list
}

// TestCheckInCorrections: org admins correct and delete check-ins (others
// may not, and nothing is written then); the item's value, progress, status
// and its objective's rollup follow the latest remaining check-in; each
// correction stays visible in the item's activity to everyone who may view
// the item, and item edits are recorded there too.
func TestCheckInCorrections(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		adam, phil, steve := e.As("adam", "acme"), e.As("phil", "acme"), e.As("steve", "acme")
		emails, onboarding := demoItem(t, e, emails), demoItem(t, e, onboarding)
		before := lcGet(t, steve, emails)
		if len(before.Checkins.Edges) != 3 || *before.MetricCurrent != 60 {
			t.Fatalf("demo key result: %+v", before)
		}
		latest, middle, first := before.Checkins.Edges[0].Node, before.Checkins.Edges[1].Node, before.Checkins.Edges[2].Node
		const update = `mutation($in: UpdateCheckInInput!) { updateCheckIn(input: $in) { checkIn { id value progress status note editedAt author { email } }
			item { id metricCurrent progress status } } }`
		const del = `mutation($id: ID!) { deleteCheckIn(id: $id) { deletedId item { id metricCurrent progress status lastCheckinAt } } }`

		// Not the author, not an owner, not the delegate: org admins only.
		for who, c := range map[string]*testenv.Client{"author and delegate": phil, "member": steve, "owner": e.As("reed", "acme")} {
			if r := c.Do(t, update, map[string]any{"in": map[string]any{"id": latest.ID, "value": 10}}); r.Code() != "FORBIDDEN" {
				t.Errorf("%s corrects: %q", who, r.Code())
			}
			if r := c.Do(t, del, map[string]any{"id": latest.ID}); r.Code() != "FORBIDDEN" {
				t.Errorf("%s deletes: %q", who, r.Code())
			}
		}
		if r := adam.Do(t, update, map[string]any{"in": map[string]any{"id": latest.ID, "progress": 0.5}}); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("progress on a key result's check-in: %q", r.Code())
		}
		if r := adam.Do(t, update, map[string]any{"in": map[string]any{"id": latest.ID, "confidence": 11}}); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("confidence 11: %q", r.Code())
		}
		if r := adam.Do(t, update, map[string]any{"in": map[string]any{"id": onboarding, "value": 1}}); r.Code() != "NOT_FOUND" {
			t.Errorf("an item's id as a check-in's: %q", r.Code())
		}
		if got := lcGet(t, steve, emails); *got.MetricCurrent != 60 || len(activityOf(t, steve, emails)) != 0 {
			t.Fatalf("refused corrections wrote: %+v", got)
		}

		// Adam corrects the latest value: the item and the rollup follow.
		var out struct {
			UpdateCheckIn struct {
				CheckIn struct {
					ID       string
					Value    float64
					Progress float64
					Status   string
					Note     string
					EditedAt *string `json:"editedAt"`
					Author   struct{ Email string }
				}
				Item lcItem
			} `json:"updateCheckIn"`
		}
		adam.MustDo(t, update, map[string]any{"in": map[string]any{"id": latest.ID, "value": 76, "note": "Corrected: 76%"}}, &out)
		ci, it := out.UpdateCheckIn.CheckIn, out.UpdateCheckIn.Item
		if ci.Value != 76 || !lcApprox(ci.Progress, 0.8) || ci.EditedAt == nil || ci.Author.Email != "phil@acme.example" || ci.Note != "Corrected: 76%" {
			t.Errorf("corrected check-in: %+v", ci)
		}
		if *it.MetricCurrent != 76 || !lcApprox(it.Progress, 0.8) {
			t.Errorf("item after the correction: %+v", it)
		}
		if p := lcGet(t, steve, onboarding).Progress; !lcApprox(p, 0.8) {
			t.Errorf("objective's rollup after the correction: %v", p)
		}
		// Correcting an older check-in changes the history, not the item.
		adam.MustDo(t, update, map[string]any{"in": map[string]any{"id": first.ID, "value": 20, "status": "BEHIND"}}, &out)
		if it := out.UpdateCheckIn.Item; *it.MetricCurrent != 76 {
			t.Errorf("item after correcting an old check-in: %+v", it)
		}

		// The activity: newest first, who, when, before and after; any
		// member who may view the item reads it.
		acts := activityOf(t, steve, emails)
		if len(acts) != 2 {
			t.Fatalf("activity: %+v", acts)
		}
		a := acts[1]
		if a.Kind != "CHECKIN_CORRECTED" || a.Actor == nil || a.Actor.Email != "adam@acme.example" || a.CheckInID == nil || *a.CheckInID != latest.ID ||
			a.change("value") != "60->76" || a.change("note") != "All markets live->Corrected: 76%" || a.change("status") != "unchanged" || a.CreatedAt == "" {
			t.Errorf("correction entry: %+v", a)
		}
		if b := acts[0]; b.Kind != "CHECKIN_CORRECTED" || *b.CheckInID != first.ID || b.change("value") != "30->20" || b.change("status") != "ON_TRACK->BEHIND" {
			t.Errorf("second correction entry: %+v", b)
		}

		// Deleting the latest: the item goes back to the one before.
		var gone struct {
			DeleteCheckIn struct {
				DeletedID string `json:"deletedId"`
				Item      lcItem
			} `json:"deleteCheckIn"`
		}
		// Likes and comments on the check-in go with it.
		martha := e.As("martha", "acme")
		martha.MustDo(t, `mutation($id: ID!) { likeCheckIn(id: $id) { checkIn { id } } }`, map[string]any{"id": latest.ID}, &struct{}{})
		martha.MustDo(t, `mutation($id: ID!) { addComment(input: {checkInId: $id, body: "76, really?"}) { comment { id } } }`, map[string]any{"id": latest.ID}, &struct{}{})
		adam.MustDo(t, del, map[string]any{"id": latest.ID}, &gone)
		if it := gone.DeleteCheckIn.Item; gone.DeleteCheckIn.DeletedID != latest.ID || *it.MetricCurrent != 45 || !lcApprox(it.Progress, 45.0/95) || it.Status != "ON_TRACK" || it.LastCheckinAt == nil {
			t.Errorf("after deleting the latest check-in: %+v", gone)
		}
		if p := lcGet(t, steve, onboarding).Progress; !lcApprox(p, 45.0/95) {
			t.Errorf("objective's rollup after the deletion: %v", p)
		}
		if r := adam.Do(t, del, map[string]any{"id": latest.ID}); r.Code() != "NOT_FOUND" {
			t.Errorf("deleting twice: %q", r.Code())
		}
		acts = activityOf(t, phil, emails)
		if len(acts) != 3 || acts[0].Kind != "CHECKIN_DELETED" || acts[0].change("value") != "76->null" || acts[0].change("note") != "Corrected: 76%->null" {
			t.Errorf("deletion entry: %+v", acts)
		}
		// Deleting every check-in: back at the metric's start, NOT_STARTED.
		adam.MustDo(t, del, map[string]any{"id": middle.ID}, &gone)
		adam.MustDo(t, del, map[string]any{"id": first.ID}, &gone)
		if it := gone.DeleteCheckIn.Item; it.MetricCurrent == nil || *it.MetricCurrent != 0 || it.Progress != 0 || it.Status != "NOT_STARTED" || it.LastCheckinAt != nil {
			t.Errorf("after deleting every check-in: %+v", it)
		}

		// Item edits are in the activity too.
		adam.MustDo(t, `mutation($id: ID!) { updateOKRItem(input: {id: $id, title: "Onboarding emails within the hour"}) { item { id } } }`, map[string]any{"id": emails}, &struct{}{})
		if acts := activityOf(t, steve, emails); acts[0].Kind != "UPDATED" || acts[0].change("title") != "Onboarding emails sent within one hour of first booking->Onboarding emails within the hour" || len(acts[0].Changes) != 1 {
			t.Errorf("edit entry: %+v", acts[0])
		}
		// A private item's activity is hidden with it.
		olivia := e.As("olivia", "acme")
		secret := lcCreate(t, olivia, map[string]any{"kind": "OBJECTIVE", "title": "Secret", "private": true})
		olivia.MustDo(t, `mutation($id: ID!) { updateOKRItem(input: {id: $id, title: "Still secret"}) { item { id } } }`, map[string]any{"id": secret}, &struct{}{})
		var ids struct {
			Node struct {
				Activity struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
		}
		olivia.MustDo(t, `query($id: ID!) { node(id: $id) { ... on OKRItem { activity(first: 1) { edges { node { id } } } } } }`, map[string]any{"id": secret}, &ids)
		if len(ids.Node.Activity.Edges) != 1 {
			t.Fatalf("olivia's private activity: %+v", ids)
		}
		// Its check-ins cannot be corrected by those who may not see it,
		// org admins included (NOT_FOUND, not FORBIDDEN).
		var sci struct {
			CheckIn struct{ CheckIn struct{ ID string } } `json:"checkIn"`
		}
		olivia.MustDo(t, `mutation($id: ID!) { checkIn(input: {itemId: $id, note: "quiet"}) { checkIn { id } } }`, map[string]any{"id": secret}, &sci)
		for who, c := range map[string]*testenv.Client{"member": steve, "org admin": adam} {
			if r := c.Do(t, del, map[string]any{"id": sci.CheckIn.CheckIn.ID}); r.Code() != "NOT_FOUND" {
				t.Errorf("%s deletes a private item's check-in: %q", who, r.Code())
			}
		}
		r := steve.Do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ids.Node.Activity.Edges[0].Node.ID})
		if r.Code() != "NOT_FOUND" || strings.Contains(string(r.Data), ids.Node.Activity.Edges[0].Node.ID) {
			t.Errorf("steve reads the activity of a private item: %q %s", r.Code(), r.Data)
		}
	})
}

// TestDelegationReminders: Reed's objective is delegated to Phil with its
// key results. Phil receives the reminders Reed would have received; Reed
// keeps them only with notifyOwner — in reminderRecipients, dueCheckins
// and the remind job.
func TestDelegationReminders(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		reed, adam := e.As("reed", "acme"), e.As("adam", "acme")
		onboarding, emails := demoItem(t, e, onboarding), demoItem(t, e, emails)
		philID := e.UserID(t, "phil")
		sys := scope.System(context.Background())
		for _, id := range []string{onboarding, emails} {
			n, _ := strconv.Atoi(id)
			testenv.Must(t, e.App.DB.Client.OKRItem.UpdateOneID(n).SetLastCheckinAt(time.Now().AddDate(0, 0, -10)).Exec(sys))
		}
		const setDelegate = `mutation($in: SetDelegateInput!) { setDelegate(input: $in) { item { id } } }`
		check := func(notify bool, want string) {
			t.Helper()
			reed.MustDo(t, setDelegate, map[string]any{"in": map[string]any{"id": onboarding, "delegateId": philID, "delegateKeyResults": true, "notifyOwner": notify}}, &struct{}{})
			got := lcEmails(lcGet(t, reed, onboarding).ReminderRecipients) + " | " + lcEmails(lcGet(t, reed, emails).ReminderRecipients)
			if got != want+" | "+want {
				t.Errorf("notifyOwner %v: reminderRecipients %s, want %s for both", notify, got, want)
			}
			var d struct {
				DueCheckins []struct {
					Item       struct{ ID string }
					Recipients []struct{ Email string }
				} `json:"dueCheckins"`
			}
			adam.MustDo(t, `{ dueCheckins { item { id } recipients { email } } }`, nil, &d)
			due := map[string]string{}
			for _, x := range d.DueCheckins {
				due[x.Item.ID] = lcEmails(x.Recipients)
			}
			if due[onboarding] != want || due[emails] != want {
				t.Errorf("notifyOwner %v: dueCheckins %v, want %s", notify, due, want)
			}
			sent, err := e.App.OKRs.Remind(context.Background(), &lcRecorder{}, okr.RemindOptions{OrgSlug: "acme", DryRun: true})
			testenv.Must(t, err)
			var to []string
			for _, r := range sent {
				if id := strconv.Itoa(r.ItemID); id == onboarding || id == emails {
					to = append(to, strings.Split(r.Email, "@")[0])
				}
			}
			if got, w := strings.Join(to, ","), want+","+want; got != w {
				t.Errorf("notifyOwner %v: remind sends to %s, want %s", notify, got, w)
			}
		}
		check(false, "phil")
		check(true, "phil,reed")
		// A check-in owner who is not an owner keeps the reminder: the
		// delegate gets what the owner would have had, which is nothing.
		reed.MustDo(t, `mutation($id: ID!, $u: ID) { setCheckinOwner(input: {id: $id, userId: $u}) { item { id } } }`, map[string]any{"id": emails, "u": e.UserID(t, "carl")}, &struct{}{})
		if got := lcEmails(lcGet(t, reed, emails).ReminderRecipients); got != "carl" {
			t.Errorf("explicit check-in owner: %s", got)
		}
		// Without a delegate, the owner again.
		reed.MustDo(t, setDelegate, map[string]any{"in": map[string]any{"id": onboarding, "delegateId": nil}}, &struct{}{})
		if got := lcEmails(lcGet(t, reed, onboarding).ReminderRecipients); got != "reed" {
			t.Errorf("without a delegate: %s", got)
		}
	})
}

// TestKeyResultPeriodsAndRollupStatus: a key result takes its objective's
// time period (so it has a progressStatus), also when the objective's
// period changes and for rows written before; a ROLLUP objective's status
// follows its band.
func TestKeyResultPeriodsAndRollupStatus(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		olivia := e.As("olivia", "acme")
		now := time.Now()
		p1 := lcPeriod(t, olivia, "Now", now.Add(-10*24*time.Hour), now.Add(80*24*time.Hour))
		p2 := lcPeriod(t, olivia, "Late", now.Add(-95*24*time.Hour), now.Add(5*24*time.Hour))
		o := lcCreate(t, olivia, map[string]any{"kind": "OBJECTIVE", "title": "Periodic", "timePeriodId": p1})
		kr := lcCreate(t, olivia, map[string]any{"kind": "KEY_RESULT", "title": "No period given", "parentId": o, "metricTarget": 10})
		period := func(id string) string {
			var out struct {
				Node struct {
					TimePeriod     *struct{ ID string } `json:"timePeriod"`
					ProgressStatus *string              `json:"progressStatus"`
					Status         string
				}
			}
			olivia.MustDo(t, `query($id: ID!) { node(id: $id) { ... on OKRItem { timePeriod { id } progressStatus status } } }`, map[string]any{"id": id}, &out)
			s := "none"
			if out.Node.TimePeriod != nil {
				s = out.Node.TimePeriod.ID
			}
			ps := "null"
			if out.Node.ProgressStatus != nil {
				ps = *out.Node.ProgressStatus
			}
			return s + "/" + ps + "/" + out.Node.Status
		}
		if got := period(kr); got != p1+"/ON_TRACK/NOT_STARTED" {
			t.Errorf("new key result: %s", got)
		}
		if r := olivia.Do(t, `mutation($id: ID!, $p: ID) { updateOKRItem(input: {id: $id, timePeriodId: $p}) { item { id } } }`, map[string]any{"id": kr, "p": p2}); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("setting a key result's own period: %q", r.Code())
		}
		olivia.MustDo(t, `mutation($id: ID!, $p: ID) { updateOKRItem(input: {id: $id, timePeriodId: $p}) { item { id } } }`, map[string]any{"id": o, "p": p2}, &struct{}{})
		// 0.3 of the way, 0.95 expected: AT_RISK, and the ROLLUP objective's
		// status follows its band.
		lcCheckIn(t, olivia, map[string]any{"itemId": kr, "value": 3})
		if got := period(kr) + " " + period(o); got != p2+"/AT_RISK/AT_RISK "+p2+"/AT_RISK/AT_RISK" {
			t.Errorf("after moving the objective's period and a check-in: %s", got)
		}
		lcCheckIn(t, olivia, map[string]any{"itemId": kr, "value": 9.9})
		if got := period(o); got != p2+"/ON_TRACK/ON_TRACK" {
			t.Errorf("objective after progress: %s", got)
		}
		// Rows written before key results inherited their period are
		// repaired at start.
		n, _ := strconv.Atoi(kr)
		sys := scope.System(context.Background())
		testenv.Must(t, e.App.DB.Client.OKRItem.UpdateOneID(n).ClearTimePeriodID().Exec(sys))
		if got := period(kr); !strings.HasPrefix(got, "none/null") {
			t.Fatalf("cleared: %s", got)
		}
		testenv.Must(t, okr.InheritPeriods(context.Background(), e.App.DB.Client))
		if got := period(kr); !strings.HasPrefix(got, p2+"/ON_TRACK") {
			t.Errorf("repaired: %s", got)
		}
		// Every demo key result has its objective's period.
		krs, err := e.App.DB.Client.OKRItem.Query().Where(okritem.KindEQ(okritem.KindKEY_RESULT)).WithParent().All(sys)
		testenv.Must(t, err)
		for _, k := range krs {
			p := k.Edges.Parent
			if p == nil || (k.TimePeriodID == nil) != (p.TimePeriodID == nil) || (k.TimePeriodID != nil && *k.TimePeriodID != *p.TimePeriodID) {
				t.Errorf("key result %q: period %v", k.Title, k.TimePeriodID)
			}
		}
	})
}
