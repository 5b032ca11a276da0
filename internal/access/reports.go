package access

import (
	"context"
	"database/sql"
	"fmt"

	"okrgraph/ent"
)

// maxChain bounds reporting-line walks; cycles are refused on write, so it
// only guards against damaged data.
const maxChain = 1000

// reportsQuery walks the reporting line down from a membership in one
// recursive query (PostgreSQL and SQLite alike).
const reportsQuery = `WITH RECURSIVE r(id, user_id, depth) AS (
  SELECT id, user_id, 1 FROM memberships WHERE manager_id = $1
  UNION ALL
  SELECT m.id, m.user_id, r.depth + 1 FROM memberships m JOIN r ON m.manager_id = r.id WHERE r.depth < $2
) SELECT user_id, MIN(depth) FROM r GROUP BY user_id ORDER BY user_id`

// Reports returns the user ids of the direct reports of the membership and
// of all its reports, direct and indirect.
func Reports(ctx context.Context, c *ent.Client, membershipID int) (direct, all []int, err error) {
	rows, err := c.QueryContext(ctx, reportsQuery, membershipID, maxChain)
	if err != nil {
		return nil, nil, fmt.Errorf("reports: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var user, depth int
		if err := rows.Scan(&user, &depth); err != nil {
			return nil, nil, err
		}
		if depth == 1 {
			direct = append(direct, user)
		}
		all = append(all, user)
	}
	return direct, all, rows.Err()
}

// chainQuery walks the reporting line up from a membership.
const chainQuery = `WITH RECURSIVE up(id, manager_id, depth) AS (
  SELECT id, manager_id, 0 FROM memberships WHERE id = $1
  UNION ALL
  SELECT m.id, m.manager_id, up.depth + 1 FROM memberships m JOIN up ON m.id = up.manager_id WHERE up.depth < $3
) SELECT COUNT(*) FROM up WHERE id = $2`

// ManagesChain reports whether setting managerID as the manager of
// membershipID would make a cycle in the reporting line: true when
// membershipID is managerID itself or one of its managers up the chain.
func ManagesChain(ctx context.Context, c *ent.Client, membershipID, managerID int) (bool, error) {
	rows, err := c.QueryContext(ctx, chainQuery, managerID, membershipID, maxChain)
	if err != nil {
		return false, fmt.Errorf("reporting chain: %w", err)
	}
	defer rows.Close()
	var n sql.NullInt64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return false, err
		}
	}
	return n.Int64 > 0, rows.Err()
}
