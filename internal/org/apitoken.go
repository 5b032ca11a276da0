package org

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"slices"
	"strings"
	"time"

	"okrgraph/ent"
	"okrgraph/ent/apitoken"
	"okrgraph/ent/user"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/scope"
	"okrgraph/internal/store"
)

// API tokens (spec §7): created, listed and revoked by org admins (the
// org.manage action); opaque random secrets, prefixed so secret scanners
// recognise them, stored as their SHA-256 only; each acts as a service
// identity of its org, never as a person.
const (
	// APITokenPrefix starts every API token secret.
	APITokenPrefix = "okrg_"
	// ServiceIssuer is the issuer of API tokens' service identities.
	ServiceIssuer = "okrgraph:api-token"
	// ScopeRead reads what the policy lets a service identity read.
	ScopeRead = "read"

	defaultTokenTTL = 90 * 24 * time.Hour
	maxTokenTTL     = 2 * 366 * 24 * time.Hour
	lastUsedEvery   = time.Minute
)

// APITokenScopes are the scopes a token may carry.
var APITokenScopes = []string{ScopeRead}

// CreateAPITokenInput is the input of createApiToken.
type CreateAPITokenInput struct {
	Name string
	// Scopes default to ["read"].
	Scopes []string
	// ExpiresAt defaults to 90 days from now; at most two years ahead.
	ExpiresAt *time.Time
}

// HashAPIToken is the stored form of a secret.
func HashAPIToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateAPIToken creates a token of the selected org and returns it with
// its secret, which is never shown again.
func (s *Service) CreateAPIToken(ctx context.Context, in CreateAPITokenInput) (*ent.APIToken, string, error) {
	name := strings.TrimSpace(in.Name)
	if err := checkName("name", name, 100); err != nil {
		return nil, "", err
	}
	scopes := in.Scopes
	if len(scopes) == 0 {
		scopes = []string{ScopeRead}
	}
	scopes = slices.Compact(slices.Sorted(slices.Values(scopes)))
	for _, sc := range scopes {
		if !slices.Contains(APITokenScopes, sc) {
			return nil, "", apperr.BadInput("scopes", "unknown scope %q", sc)
		}
	}
	now := time.Now()
	expires := now.Add(defaultTokenTTL)
	if in.ExpiresAt != nil {
		expires = *in.ExpiresAt
		if !expires.After(now) {
			return nil, "", apperr.BadInput("expiresAt", "expiresAt must be in the future")
		}
		if expires.After(now.Add(maxTokenTTL)) {
			return nil, "", apperr.BadInput("expiresAt", "expiresAt must be at most two years ahead")
		}
	}
	secret := APITokenPrefix + rand.Text() // 26 base32 characters: 130 random bits
	t, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.APIToken, error) {
		a, err := s.require(ctx, c, authz.ActionOrgManage, authz.Resource{})
		if err != nil {
			return nil, err
		}
		sys := scope.System(ctx)
		svc, err := c.User.Create().
			SetKind(user.KindSERVICE).
			SetIssuer(ServiceIssuer).
			SetSub(rand.Text()).
			SetName(name).
			Save(sys)
		if err != nil {
			return nil, err
		}
		return c.APIToken.Create().
			SetName(name).
			SetSecretHash(HashAPIToken(secret)).
			SetScopes(scopes).
			SetCreatorID(a.UserID).
			SetServiceUserID(svc.ID).
			SetExpiresAt(expires).
			Save(ctx)
	})
	if err != nil {
		return nil, "", err
	}
	t, err = s.Client.APIToken.Get(ctx, t.ID)
	return t, secret, err
}

// APITokens lists the selected org's tokens, newest first (revoked ones
// included, with their revocation time). Org admins only.
func (s *Service) APITokens(ctx context.Context) ([]*ent.APIToken, error) {
	if _, err := s.require(ctx, s.Client, authz.ActionOrgManage, authz.Resource{}); err != nil {
		return nil, err
	}
	return s.Client.APIToken.Query().Order(ent.Desc(apitoken.FieldCreatedAt), ent.Desc(apitoken.FieldID)).All(ctx)
}

// RevokeAPIToken revokes a token of the selected org; the next request
// that uses it is refused.
func (s *Service) RevokeAPIToken(ctx context.Context, id int) (*ent.APIToken, error) {
	t, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.APIToken, error) {
		if _, err := s.require(ctx, c, authz.ActionOrgManage, authz.Resource{}); err != nil {
			return nil, err
		}
		t, err := c.APIToken.Get(ctx, id)
		if ent.IsNotFound(err) {
			return nil, apperr.NotFound("API token", id)
		}
		if err != nil {
			return nil, err
		}
		if t.RevokedAt != nil {
			return t, nil
		}
		return t.Update().SetRevokedAt(time.Now()).Save(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.APIToken.Get(ctx, t.ID)
}

// AuthenticateAPIToken finds the live token of a secret, with its
// service identity's facts (its requests' actor), in one statement.
// Unknown, revoked and expired tokens are UNAUTHENTICATED; the token's
// last use is recorded at most once a minute.
func (s *Service) AuthenticateAPIToken(ctx context.Context, secret string) (*access.ServiceCaller, error) {
	sys := scope.System(ctx)
	if !strings.HasPrefix(secret, APITokenPrefix) || len(secret) > 200 {
		return nil, apperr.Unauthenticated("invalid API token")
	}
	sc, err := access.LoadServiceToken(sys, s.Client, HashAPIToken(secret))
	if ent.IsNotFound(err) {
		return nil, apperr.Unauthenticated("invalid API token")
	}
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if err := sc.Live(now); err != nil {
		return nil, err
	}
	if t := sc.Token; t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= lastUsedEvery {
		if err := s.Client.APIToken.UpdateOneID(t.ID).SetLastUsedAt(now).Exec(sys); err != nil {
			return nil, err
		}
	}
	return sc, nil
}

type manageMembersKey struct{}

// MayManageMembers reports whether the caller may manage the selected
// org's members (the policy's org.manage_members), once per request: it
// guards what only org admins see of other members, such as their last
// sign-in.
func (s *Service) MayManageMembers(ctx context.Context) bool {
	ok, _ := access.Memo(ctx, manageMembersKey{}, func() (bool, error) {
		a, err := access.ReadActor(ctx, s.Client)
		if err != nil {
			return false, nil
		}
		d, _ := s.Guard.Decide(ctx, a.Input(authz.ActionOrgManageMember, authz.Resource{}))
		return d.Allow, nil
	})
	return ok
}
