package okr

// Progress.
//
// A key result's progress comes from its metric: (current − start) /
// (target − start), clamped to 0..1, so a target below the start is a
// "reduce" goal; a missing start counts as 0 and without a target or a
// current value the progress is 0. A milestone's progress is its value,
// 0 or 1.
//
// An objective in ROLLUP mode has the weighted mean of the progress of all
// its children: its key results AND the objectives aligned under it. (An
// objective aligned under a key result does not move the key result, whose
// progress is its metric's.) A MANUAL objective keeps the progress its own
// check-ins give it. A null weight counts as 1, so siblings without weights
// split evenly and explicit weights are relative to that. Writes that would
// leave an objective's children with weights summing to 0 are refused (they
// cannot be normalised); should such a set remain after a delete, those
// children count evenly.
//
// Progress is stored and kept exact transactionally. A write that changes
// an item's progress, weight or place first locks the item and its
// ancestors with one query (a recursive CTE; FOR UPDATE on PostgreSQL,
// while SQLite serialises write transactions), then recomputes the
// ancestors bottom-up with one UPDATE per level, the weighted mean computed
// by the database. Locks are taken in id order in that one statement, so
// concurrent writes in one tree queue instead of deadlocking, and each
// level's mean reads its children after the lock, as committed.

import (
	"context"
	"math"
	"slices"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"okrgraph/ent"
	"okrgraph/ent/okritem"
	"okrgraph/ent/predicate"
	"okrgraph/ent/timeperiod"
	"okrgraph/internal/apperr"
	"okrgraph/internal/scope"
)

// KeyResultProgress is a key result's progress from its metric or
// milestone value.
func KeyResultProgress(milestone bool, start, target, current *float64) float64 {
	if current == nil {
		return 0
	}
	if milestone {
		if *current >= 1 {
			return 1
		}
		return 0
	}
	if target == nil {
		return 0
	}
	s := 0.0
	if start != nil {
		s = *start
	}
	if *target == s {
		if *current == s {
			return 1
		}
		return 0
	}
	return clamp01((*current - s) / (*target - s))
}

func clamp01(v float64) float64 {
	switch {
	case math.IsNaN(v) || v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// ownProgress is the progress an item has from its own fields: its metric
// for a key result; for an objective, the stored value (a rollup is
// computed by the database, a MANUAL value comes from check-ins).
func ownProgress(it *ent.OKRItem) float64 {
	if it.Kind == okritem.KindKEY_RESULT {
		return KeyResultProgress(it.Milestone, it.MetricStart, it.MetricTarget, it.MetricCurrent)
	}
	return it.Progress
}

// ProgressStatus is where an item's progress stands against the time
// elapsed in its period.
type ProgressStatus string

// Progress bands.
const (
	ProgressOnTrack ProgressStatus = "ON_TRACK"
	ProgressBehind  ProgressStatus = "BEHIND"
	ProgressAtRisk  ProgressStatus = "AT_RISK"
)

// Band thresholds: how far (0 to 1) actual progress may trail the progress
// expected by now.
const (
	BehindGap = 0.25
	AtRiskGap = 0.5
)

// Band compares progress with the elapsed fraction of [start, end) at now:
// BEHIND when the expected progress exceeds it by more than BehindGap,
// AT_RISK by more than AtRiskGap.
func Band(progress float64, start, end, now time.Time) ProgressStatus {
	expected := 1.0
	if span := end.Sub(start); span > 0 {
		expected = clamp01(float64(now.Sub(start)) / float64(span))
	}
	switch gap := expected - progress; {
	case gap > AtRiskGap:
		return ProgressAtRisk
	case gap > BehindGap:
		return ProgressBehind
	}
	return ProgressOnTrack
}

// tree is the locked part of the alignment tree: items by id.
type tree map[int]*ent.OKRItem

// lockTree locks the items ids (with their children when children is set)
// and all their ancestors, and returns them as they are once locked. One
// statement: a recursive CTE collects the ids; on PostgreSQL the rows are
// locked FOR UPDATE in id order.
func lockTree(ctx context.Context, c *ent.Client, orgID int, children bool, ids ...int) (tree, error) {
	if len(ids) == 0 {
		return tree{}, nil
	}
	sys := scope.System(ctx)
	chain := predicate.OKRItem(func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			b.Ident(s.C(okritem.FieldID)).WriteString(" IN (WITH RECURSIVE up_chain(id, depth) AS (SELECT id, 0 FROM okr_items WHERE org_id = ").Arg(orgID).WriteString(" AND (id IN (")
			for i, id := range ids {
				if i > 0 {
					b.Comma()
				}
				b.Arg(id)
			}
			b.WriteString(")")
			if children {
				b.WriteString(" OR parent_id IN (")
				for i, id := range ids {
					if i > 0 {
						b.Comma()
					}
					b.Arg(id)
				}
				b.WriteString(")")
			}
			b.WriteString(") UNION ALL SELECT o.parent_id, up_chain.depth + 1 FROM okr_items o JOIN up_chain ON o.id = up_chain.id WHERE o.parent_id IS NOT NULL AND up_chain.depth < ").
				Arg(MaxDepth + 1).
				WriteString(") SELECT id FROM up_chain)")
		}))
	})
	items, err := c.OKRItem.Query().
		Where(chain, okritem.OrgID(orgID)).
		Order(okritem.ByID()).
		Unique(false).
		Modify(func(s *sql.Selector) {
			if s.Dialect() == dialect.Postgres {
				s.ForUpdate()
			}
		}).
		All(sys)
	if err != nil {
		return nil, err
	}
	t := make(tree, len(items))
	for _, it := range items {
		t[it.ID] = it
	}
	return t, nil
}

// lockRollupChain locks, for a change of item id's own progress, the rows
// whose progress changes with it: the item and its ancestors up to the
// first that is not a ROLLUP objective (a key result keeps its metric's
// progress, a MANUAL objective its check-ins'), which is not locked.
// Writes under one root therefore queue only where their rollups meet.
// One statement; FOR UPDATE on PostgreSQL, in id order.
func lockRollupChain(ctx context.Context, c *ent.Client, orgID, id int) (tree, error) {
	chain := predicate.OKRItem(func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			b.Ident(s.C(okritem.FieldID)).WriteString(" IN (WITH RECURSIVE up_chain(id, depth) AS (SELECT id, 0 FROM okr_items WHERE org_id = ").Arg(orgID).
				WriteString(" AND id = ").Arg(id).
				WriteString(" UNION ALL SELECT p.id, up_chain.depth + 1 FROM up_chain JOIN okr_items o ON o.id = up_chain.id JOIN okr_items p ON p.id = o.parent_id" +
					" WHERE p.kind = 'OBJECTIVE' AND p.progress_mode = 'ROLLUP' AND up_chain.depth < ").
				Arg(MaxDepth + 1).
				WriteString(") SELECT id FROM up_chain)")
		}))
	})
	items, err := c.OKRItem.Query().
		Where(chain, okritem.OrgID(orgID)).
		Order(okritem.ByID()).
		Unique(false).
		Modify(func(s *sql.Selector) {
			// The rows' time periods, for their status bands (read,
			// not locked).
			tp := sql.Table(timeperiod.Table).As("tp")
			s.LeftJoin(tp).On(s.C(okritem.FieldTimePeriodID), tp.C(timeperiod.FieldID))
			for col, as := range map[string]string{timeperiod.FieldStartsAt: periodStarts, timeperiod.FieldEndsAt: periodEnds} {
				if s.Dialect() == dialect.SQLite {
					// SQLite's driver has no scan type for a NULL
					// of a joined row: never NULL (asTime skips "").
					s.AppendSelectExprAs(sql.Expr("COALESCE("+tp.C(col)+", '')"), as)
				} else {
					s.AppendSelectAs(tp.C(col), as)
				}
			}
			// Whether the row's parent (as locked) is a ROLLUP
			// objective, for stale.
			s.AppendSelectExprAs(sql.ExprFunc(func(b *sql.Builder) {
				b.WriteString("(SELECT COUNT(*) FROM okr_items p WHERE p.id = ").Ident(s.C(okritem.FieldParentID)).
					WriteString(" AND p.kind = 'OBJECTIVE' AND p.progress_mode = 'ROLLUP')")
			}), parentRolls)
			if s.Dialect() == dialect.Postgres {
				s.ForUpdate(sql.WithLockTables(okritem.Table))
			}
		}).
		All(scope.System(ctx))
	if err != nil {
		return nil, err
	}
	t := make(tree, len(items))
	for _, it := range items {
		t[it.ID] = it
	}
	return t, nil
}

// The time period columns lockRollupChain adds to its rows.
const (
	periodStarts = "period_starts_at"
	periodEnds   = "period_ends_at"
)

// parentRolls is the column lockRollupChain adds: 1 when the row's parent
// is a ROLLUP objective.
const parentRolls = "parent_rolls"

// stale reports whether the chain locked in t for item id misses an
// objective its rollup reaches: on PostgreSQL the recursive part of the
// lock reads the tree as of the statement's start, so an item or
// objective moved by a transaction that commits while the lock waits
// comes back with a parent that was not locked. The caller locks again.
func (t tree) stale(id int) bool {
	for it, n := t[id], 0; it != nil && it.ParentID != nil && n <= MaxDepth; n++ {
		if it.ID != id && (it.Kind != okritem.KindOBJECTIVE || it.ProgressMode != okritem.ProgressModeROLLUP) {
			return false // the rollup stops here
		}
		next := t[*it.ParentID]
		if next == nil {
			v, err := it.Value(parentRolls)
			if err != nil {
				return false
			}
			switch v := v.(type) {
			case int64:
				return v > 0
			case float64:
				return v > 0
			}
			return false
		}
		it = next
	}
	return false
}

// lockedPeriod is the time period of an item read by lockRollupChain.
func lockedPeriod(it *ent.OKRItem) (start, end time.Time, ok bool) {
	if it.TimePeriodID == nil {
		return start, end, false
	}
	s, err1 := it.Value(periodStarts)
	e, err2 := it.Value(periodEnds)
	if err1 != nil || err2 != nil {
		return start, end, false
	}
	start, ok1 := asTime(s)
	end, ok2 := asTime(e)
	return start, end, ok1 && ok2
}

// asTime reads a time selected by expression: PostgreSQL's driver gives a
// time.Time; SQLite, which knows no type for an expression, the text it
// stored (see store.Open's _time_format).
func asTime(v any) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v, true
	case []byte:
		return asTime(string(v))
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00", time.RFC3339Nano, "2006-01-02 15:04:05"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// rollupChain computes, for item it whose new values are set and which
// was locked with its chain in t by lockRollupChain, the new progress and
// status of the ROLLUP objectives above it, deepest first: the weighted
// mean of their children's progress (as meanOfChildren computes it) and
// their status band (as followBand sets it). One query reads the
// children of those objectives; their progress is stable while the
// objectives are locked, for whoever changes a child's progress locks
// the objective above it too. The objectives are returned as copies with
// the new values, for writeCheckIn.
func rollupChain(ctx context.Context, c *ent.Client, t tree, it *ent.OKRItem, now time.Time) ([]*ent.OKRItem, error) {
	var chain []*ent.OKRItem
	for id := it.ParentID; id != nil && len(chain) <= MaxDepth; {
		o := t[*id]
		if o == nil || o.Kind != okritem.KindOBJECTIVE || o.ProgressMode != okritem.ProgressModeROLLUP {
			break
		}
		cp := *o
		chain = append(chain, &cp)
		id = o.ParentID
	}
	if len(chain) == 0 {
		return nil, nil
	}
	ids := make([]int, len(chain))
	for i, o := range chain {
		ids[i] = o.ID
	}
	kids, err := c.OKRItem.Query().
		Where(okritem.ParentIDIn(ids...)).
		Select(okritem.FieldID, okritem.FieldParentID, okritem.FieldWeight, okritem.FieldProgress).
		All(scope.System(ctx))
	if err != nil {
		return nil, err
	}
	byParent := make(map[int][]*ent.OKRItem, len(chain))
	for _, k := range kids {
		byParent[*k.ParentID] = append(byParent[*k.ParentID], k)
	}
	fresh := map[int]float64{it.ID: it.Progress}
	for _, o := range chain {
		o.Progress = weightedMean(byParent[o.ID], func(k *ent.OKRItem) float64 {
			if p, ok := fresh[k.ID]; ok {
				return p
			}
			return k.Progress
		})
		fresh[o.ID] = o.Progress
		if o.Status != okritem.StatusCLOSED {
			start, end, ok := lockedPeriod(o)
			o.Status = bandStatus(o.Status, o.Progress, start, end, ok, now)
		}
		o.UpdatedAt = now
	}
	return chain, nil
}

// depth is the number of ancestors of id in t.
func (t tree) depth(id int) int {
	d := 0
	for it := t[id]; it != nil && it.ParentID != nil && d <= MaxDepth+1; it = t[*it.ParentID] {
		d++
	}
	return d
}

// rollup recomputes the progress of the ROLLUP objectives from each of
// from upwards, stopping at key results and MANUAL objectives: one UPDATE
// per objective, deepest first, each objective once.
func rollup(ctx context.Context, c *ent.Client, t tree, from ...*int) error {
	var todo []int
	for _, f := range from {
		for id := f; id != nil; {
			it := t[*id]
			if it == nil || it.Kind != okritem.KindOBJECTIVE || it.ProgressMode != okritem.ProgressModeROLLUP || slices.Contains(todo, it.ID) {
				break
			}
			todo = append(todo, it.ID)
			id = it.ParentID
		}
	}
	slices.SortStableFunc(todo, func(a, b int) int { return t.depth(b) - t.depth(a) })
	for _, id := range todo {
		if err := rollupOne(ctx, c, id); err != nil {
			return err
		}
	}
	return followBand(ctx, c, todo)
}

// rollupOne sets objective id's progress to the weighted mean of its
// children's, in one UPDATE.
func rollupOne(ctx context.Context, c *ent.Client, id int) error {
	return c.OKRItem.Update().
		Where(okritem.ID(id)).
		Modify(func(u *sql.UpdateBuilder) {
			u.Set(okritem.FieldProgress, meanOfChildren(id))
		}).
		Exec(scope.System(ctx))
}

// meanOfChildren is the SQL expression of the weighted mean of the
// progress of parentID's children (0 without children).
func meanOfChildren(parentID int) sql.Querier {
	return sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("COALESCE((SELECT CASE WHEN SUM(COALESCE(kids.weight, 1)) > 0 " +
			"THEN SUM(COALESCE(kids.weight, 1) * kids.progress) / SUM(COALESCE(kids.weight, 1)) " +
			"ELSE AVG(kids.progress) END FROM okr_items kids WHERE kids.parent_id = ").
			Arg(parentID).
			WriteString("), 0)")
	})
}

// checkWeightSum refuses weight for item (0 for a new one) under parentID
// when the parent's children would then all weigh 0.
func checkWeightSum(ctx context.Context, c *ent.Client, parentID, itemID int, weight *float64) error {
	if weight == nil || *weight != 0 {
		return nil
	}
	ok, err := c.OKRItem.Query().
		Where(okritem.ParentID(parentID), okritem.IDNEQ(itemID), okritem.Or(okritem.WeightIsNil(), okritem.WeightGT(0))).
		Exist(scope.System(ctx))
	if err != nil {
		return err
	}
	if !ok {
		return apperr.BadInput("weight", "the weights of the children of item %d would sum to 0 and cannot be normalised", parentID)
	}
	return nil
}

// checkProgressShape validates the progress-related input of an item of
// kind: milestone, progress mode and metric.
func checkProgressShape(kind okritem.Kind, milestone *bool, mode *okritem.ProgressMode, start, target, current *float64) error {
	if mode != nil {
		if err := okritem.ProgressModeValidator(*mode); err != nil {
			return apperr.BadInput("progressMode", "invalid progressMode %q", *mode)
		}
		if kind == okritem.KindKEY_RESULT && *mode != okritem.ProgressModeROLLUP {
			return apperr.BadInput("progressMode", "a key result's progress comes from its metric: progressMode is for objectives")
		}
	}
	if milestone != nil && *milestone {
		if kind != okritem.KindKEY_RESULT {
			return apperr.BadInput("milestone", "only key results can be milestones")
		}
		if start != nil || target != nil {
			return apperr.BadInput("metricTarget", "a milestone has no start or target: its value is 0 or 1")
		}
		if current != nil && *current != 0 && *current != 1 {
			return apperr.BadInput("metricCurrent", "a milestone's value is 0 or 1")
		}
		return nil
	}
	if start != nil && target != nil && *start == *target {
		return apperr.BadInput("metricTarget", "metricTarget must differ from metricStart")
	}
	return nil
}

// RecomputeAll recomputes the progress of every item of an organization
// from its metrics and its children, bottom-up in memory, and writes the
// values that changed in batches; the ROLLUP objectives among them take
// the status of their band (followBand). For repairs and seeding; normal
// writes keep progress exact as they go.
func RecomputeAll(ctx context.Context, c *ent.Client, orgID int) (changed int, err error) {
	sys := scope.System(ctx)
	items, err := c.OKRItem.Query().
		Where(okritem.OrgID(orgID)).
		Select(okritem.FieldID, okritem.FieldParentID, okritem.FieldKind, okritem.FieldProgressMode, okritem.FieldWeight,
			okritem.FieldMilestone, okritem.FieldMetricStart, okritem.FieldMetricTarget, okritem.FieldMetricCurrent, okritem.FieldProgress).
		All(sys)
	if err != nil {
		return 0, err
	}
	byID := make(map[int]*ent.OKRItem, len(items))
	kids := make(map[int][]*ent.OKRItem, len(items))
	for _, it := range items {
		byID[it.ID] = it
		if it.ParentID != nil {
			kids[*it.ParentID] = append(kids[*it.ParentID], it)
		}
	}
	progress := make(map[int]float64, len(items))
	var visit func(it *ent.OKRItem, depth int) float64
	visit = func(it *ent.OKRItem, depth int) float64 {
		if p, ok := progress[it.ID]; ok {
			return p
		}
		p := ownProgress(it)
		if it.Kind == okritem.KindOBJECTIVE && it.ProgressMode == okritem.ProgressModeROLLUP && depth <= MaxDepth {
			p = weightedMean(kids[it.ID], func(k *ent.OKRItem) float64 { return visit(k, depth+1) })
		}
		progress[it.ID] = p
		return p
	}
	var ids []int
	for _, it := range items {
		if p := visit(it, 0); math.Abs(p-it.Progress) > 1e-12 {
			ids = append(ids, it.ID)
		}
	}
	const batch = 500
	for start := 0; start < len(ids); start += batch {
		chunk := ids[start:min(start+batch, len(ids))]
		err := c.OKRItem.Update().
			Where(okritem.IDIn(chunk...)).
			Modify(func(u *sql.UpdateBuilder) {
				u.Set(okritem.FieldProgress, progressByID(chunk, func(id int) float64 { return progress[id] }))
			}).
			Exec(sys)
		if err != nil {
			return 0, err
		}
		// A ROLLUP objective's status follows its band, as on every
		// write that moves its progress.
		if err := followBand(ctx, c, chunk); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// lockParent locks parent's chain before an item is created under it,
// refusing a tree deeper than MaxDepth and a zero sum of weights.
func (s *Service) lockParent(ctx context.Context, c *ent.Client, orgID int, parent *ent.OKRItem, weight *float64) (tree, error) {
	if parent == nil {
		return nil, nil
	}
	t, err := lockTree(ctx, c, orgID, false, parent.ID)
	if err != nil {
		return nil, err
	}
	if t.depth(parent.ID)+1 >= MaxDepth {
		return nil, apperr.BadInput("parentId", "the alignment tree would be deeper than %d levels", MaxDepth)
	}
	return t, checkWeightSum(ctx, c, parent.ID, 0, weight)
}

// progressInput reports whether an update touches what progress depends on.
func progressInput(in UpdateInput) bool {
	return in.Weight.IsSet() || in.MetricStart.IsSet() || in.MetricTarget.IsSet() || in.MetricCurrent.IsSet() ||
		in.ParentID.IsSet() || in.Milestone != nil || in.ProgressMode != nil
}

// checkUpdateShape validates the progress fields of an update against the
// item they will apply to.
func checkUpdateShape(it *ent.OKRItem, in UpdateInput) error {
	if !progressInput(in) {
		return nil
	}
	start, target, current := it.MetricStart, it.MetricTarget, it.MetricCurrent
	if in.MetricStart.IsSet() {
		start = in.MetricStart.Value()
	}
	if in.MetricTarget.IsSet() {
		target = in.MetricTarget.Value()
	}
	if in.MetricCurrent.IsSet() {
		current = in.MetricCurrent.Value()
	}
	milestone := it.Milestone
	if in.Milestone != nil {
		milestone = *in.Milestone
	}
	if !milestone && !in.MetricStart.IsSet() && !in.MetricTarget.IsSet() {
		// Only what changed is checked against the metric rules.
		start, target = nil, nil
	}
	return checkProgressShape(it.Kind, &milestone, in.ProgressMode, start, target, current)
}

// lockForUpdate locks the item, its ancestors and its new parent's when
// the update touches progress, and checks the weights.
func (s *Service) lockForUpdate(ctx context.Context, c *ent.Client, orgID int, it *ent.OKRItem, in UpdateInput) (tree, error) {
	if !progressInput(in) {
		return nil, nil
	}
	ids := []int{it.ID}
	parent := it.ParentID
	if in.ParentID.IsSet() {
		if parent = in.ParentID.Value(); parent != nil {
			ids = append(ids, *parent)
		}
	}
	t, err := lockTree(ctx, c, orgID, false, ids...)
	if err != nil {
		return nil, err
	}
	weight := it.Weight
	if in.Weight.IsSet() {
		weight = in.Weight.Value()
	}
	if parent != nil {
		if err := checkWeightSum(ctx, c, *parent, it.ID, weight); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// settle brings saved's own progress and its ancestors' (old and new
// parents') up to date after a change locked in t.
func settle(ctx context.Context, c *ent.Client, t tree, saved *ent.OKRItem, oldParent *int) error {
	if t == nil {
		return nil
	}
	switch {
	case saved.Kind == okritem.KindKEY_RESULT:
		if p := ownProgress(saved); p != saved.Progress {
			if err := c.OKRItem.Update().Where(okritem.ID(saved.ID)).SetProgress(p).Exec(ctx); err != nil {
				return err
			}
		}
	case saved.ProgressMode == okritem.ProgressModeROLLUP:
		if err := rollupOne(ctx, c, saved.ID); err != nil {
			return err
		}
	}
	return rollup(ctx, c, t, saved.ParentID, oldParent)
}

// weightedMean is the progress a ROLLUP objective takes from its
// children: their progress (as progressOf gives it) weighted by their
// weights (1 when unset), the plain mean when the weights sum to 0, and
// 0 without children. meanOfChildren is its SQL twin.
func weightedMean(kids []*ent.OKRItem, progressOf func(*ent.OKRItem) float64) float64 {
	var sum, weighted, plain float64
	for _, k := range kids {
		w := 1.0
		if k.Weight != nil {
			w = *k.Weight
		}
		p := progressOf(k)
		sum += w
		weighted += w * p
		plain += p
	}
	switch {
	case sum > 0:
		return weighted / sum
	case len(kids) > 0:
		return plain / float64(len(kids))
	}
	return 0
}

// bandStatus is the status an open ROLLUP objective takes at progress:
// its band in its time period (start, end when hasPeriod), else ON_TRACK
// once it has progress, else the status it has.
func bandStatus(cur okritem.Status, progress float64, start, end time.Time, hasPeriod bool, now time.Time) okritem.Status {
	switch {
	case hasPeriod:
		return okritem.Status(Band(progress, start, end, now))
	case progress > 0:
		return okritem.StatusON_TRACK
	}
	return cur
}

// progressByID is the SQL expression giving each row of ids the progress
// progressOf returns for it (CASE id WHEN … THEN …), for UPDATEs that
// write many items' progress at once.
func progressByID(ids []int, progressOf func(id int) float64) sql.Querier {
	return sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("CASE ").Ident(okritem.FieldID)
		for _, id := range ids {
			b.WriteString(" WHEN ").Arg(id).WriteString(" THEN CAST(").Arg(progressOf(id)).WriteString(" AS DOUBLE PRECISION)")
		}
		b.WriteString(" END")
	})
}
