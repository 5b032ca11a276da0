package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"okrgraph/ent"
	"okrgraph/ent/membership"
	"okrgraph/ent/organization"
	"okrgraph/ent/user"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/policy/module"
	"okrgraph/internal/scope"
)

// ReadDir reads the *.rego files of dir (not its subdirectories) as a
// policy's modules, in name order; *_test.rego files hold its tests. Files
// beyond the size limits are refused before they are read whole.
func ReadDir(dir string) ([]module.Module, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.rego"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no .rego files in %s", dir)
	}
	if len(paths) > authz.MaxTenantModules {
		return nil, fmt.Errorf("%d .rego files in %s; the limit is %d", len(paths), dir, authz.MaxTenantModules)
	}
	sort.Strings(paths)
	mods := make([]module.Module, 0, len(paths))
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		if fi.Size() > authz.MaxTenantModuleBytes {
			return nil, fmt.Errorf("%s: %d bytes; the limit is %d per module", p, fi.Size(), authz.MaxTenantModuleBytes)
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		mods = append(mods, module.Module{Name: filepath.Base(p), Source: string(src)})
	}
	return mods, nil
}

// ActAs returns ctx scoped to the user with email acting in the
// organization with slug, for the command line. The user must be a member;
// whether they may manage the policy is the policy's to decide.
func ActAs(ctx context.Context, c *ent.Client, orgSlug, email string) (context.Context, error) {
	sys := scope.System(ctx)
	email = strings.ToLower(strings.TrimSpace(email))
	u, err := c.User.Query().Where(user.Email(email)).Only(sys)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound("user", email)
	}
	if err != nil {
		return nil, err
	}
	o, err := c.Organization.Query().
		Where(organization.Slug(strings.ToLower(orgSlug)), organization.HasMembershipsWith(membership.UserID(u.ID))).
		Only(sys)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound("organization", orgSlug)
	}
	if err != nil {
		return nil, err
	}
	return scope.With(ctx, scope.Scope{UserID: u.ID, OrgID: o.ID}), nil
}
