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
