package access

import (
	"context"

	"okrgraph/ent"
	"okrgraph/ent/membership"
)

// Reports returns the user ids of the direct reports of the membership and
// of all its reports, direct and indirect, walking the reporting line in
// memory from one query over the org's reporting edges.
func Reports(ctx context.Context, c *ent.Client, membershipID int) (direct, all []int, err error) {
	edges, err := c.Membership.Query().
		Where(membership.ManagerIDNotNil()).
		Select(membership.FieldID, membership.FieldUserID, membership.FieldManagerID).
		All(ctx)
	if err != nil {
		return nil, nil, err
	}
	children := make(map[int][]*ent.Membership, len(edges))
	for _, m := range edges {
		children[*m.ManagerID] = append(children[*m.ManagerID], m)
	}
	seen := map[int]bool{membershipID: true}
	queue := []int{membershipID}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, r := range children[id] {
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			if id == membershipID {
				direct = append(direct, r.UserID)
			}
			all = append(all, r.UserID)
			queue = append(queue, r.ID)
		}
	}
	return direct, all, nil
}

// ManagesChain reports whether setting managerID as the manager of
// membershipID would make a cycle in the reporting line: true when
// membershipID is managerID itself or one of its managers up the chain.
func ManagesChain(ctx context.Context, c *ent.Client, membershipID, managerID int) (bool, error) {
	cur := managerID
	for seen := 0; seen < 10000; seen++ {
		if cur == membershipID {
			return true, nil
		}
		m, err := c.Membership.Query().
			Where(membership.ID(cur)).
			Select(membership.FieldManagerID).
			Only(ctx)
		if err != nil {
			return false, err
		}
		if m.ManagerID == nil {
			return false, nil
		}
		cur = *m.ManagerID
	}
	return true, nil
}
