package okr

import (
	"context"

	"okrgraph/ent"
)

// LockRollupChainStale locks item id's rollup chain, forgets the locked
// row drop (0: none), and reports how many rows were locked and whether
// the chain then looks stale.
func LockRollupChainStale(ctx context.Context, c *ent.Client, orgID, id, drop int) (locked int, stale bool, err error) {
	t, err := lockRollupChain(ctx, c, orgID, id)
	delete(t, drop)
	return len(t), t.stale(id), err
}
