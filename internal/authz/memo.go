package authz

import (
	"maps"
	"slices"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
)

// A GraphQL request asks many decisions for one viewer in one org (every
// viewerCan field of a list), so the engine remembers the input terms of
// recently seen subjects and orgs instead of rebuilding them each time.
// The memo is a fixed table of slots indexed by a hash of the value; a slot
// holds a deep copy of the value and is used only when the copy equals the
// value asked for, so a hit is exact and memory stays bounded. Terms are
// immutable once built and shared between concurrent evaluations.

const memoSlots = 256

type memo[T any] struct {
	slots [memoSlots]atomic.Pointer[memoEntry[T]]
}

type memoEntry[T any] struct {
	v T
	t *ast.Term
}

func (m *memo[T]) get(h uint64, v *T, equal func(a, b *T) bool) *ast.Term {
	if e := m.slots[h%memoSlots].Load(); e != nil && equal(&e.v, v) {
		return e.t
	}
	return nil
}

func (m *memo[T]) put(h uint64, v T, t *ast.Term) {
	m.slots[h%memoSlots].Store(&memoEntry[T]{v: v, t: t})
}

// FNV-1a, inlined to stay allocation free.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	h ^= 0xff // field separator
	h *= fnvPrime
	return h
}

func hashBool(h uint64, b bool) uint64 {
	if b {
		h ^= 1
	}
	h *= fnvPrime
	return h
}

func hashStrings(h uint64, ss []string) uint64 {
	h = hashBool(h, ss == nil)
	for _, s := range ss {
		h = hashString(h, s)
	}
	return hashString(h, "")
}

func hashSubject(s *Subject) uint64 {
	h := hashString(fnvOffset, s.UserID)
	h = hashString(h, s.Type)
	h = hashStrings(h, s.Scopes)
	h = hashString(h, s.Role)
	h = hashBool(h, s.Observer)
	h = hashBool(h, s.PerformanceAdmin)
	h = hashBool(h, s.SSO)
	var roles uint64 // order-independent over the map
	for k, v := range s.TeamRoles {
		roles += hashString(hashString(fnvOffset, k), v)
	}
	h = hashBool(h, s.TeamRoles == nil)
	h ^= roles
	h *= fnvPrime
	h = hashStrings(h, s.DirectReports)
	return hashStrings(h, s.Reports)
}

func equalStrings(a, b []string) bool { return (a == nil) == (b == nil) && slices.Equal(a, b) }

func equalSubject(a, b *Subject) bool {
	return a.UserID == b.UserID && a.Type == b.Type && equalStrings(a.Scopes, b.Scopes) && a.Role == b.Role && a.Observer == b.Observer &&
		a.PerformanceAdmin == b.PerformanceAdmin && a.SSO == b.SSO &&
		(a.TeamRoles == nil) == (b.TeamRoles == nil) && maps.Equal(a.TeamRoles, b.TeamRoles) &&
		equalStrings(a.DirectReports, b.DirectReports) && equalStrings(a.Reports, b.Reports)
}

func cloneSubject(s *Subject) Subject {
	c := *s
	c.Scopes = slices.Clone(s.Scopes)
	c.TeamRoles = maps.Clone(s.TeamRoles)
	c.DirectReports = slices.Clone(s.DirectReports)
	c.Reports = slices.Clone(s.Reports)
	return c
}

func hashOrg(o *Org) uint64 {
	h := hashString(fnvOffset, o.ID)
	h = hashString(h, o.OKRCreation)
	h = hashStrings(h, o.OKRCreationListed)
	return hashString(h, o.TeamCreation)
}

func equalOrg(a, b *Org) bool {
	return a.ID == b.ID && a.OKRCreation == b.OKRCreation && a.TeamCreation == b.TeamCreation &&
		equalStrings(a.OKRCreationListed, b.OKRCreationListed)
}

func cloneOrg(o *Org) Org {
	c := *o
	c.OKRCreationListed = slices.Clone(o.OKRCreationListed)
	return c
}

// inputMemo remembers subject and org terms for one engine.
type inputMemo struct {
	subjects memo[Subject]
	orgs     memo[Org]
}

func (m *inputMemo) subject(s *Subject) *ast.Term {
	h := hashSubject(s)
	if t := m.subjects.get(h, s, equalSubject); t != nil {
		return t
	}
	var b builder // own slab: the memo must not keep a request's terms alive
	t := b.subject(s)
	m.subjects.put(h, cloneSubject(s), t)
	return t
}

func (m *inputMemo) org(o *Org) *ast.Term {
	h := hashOrg(o)
	if t := m.orgs.get(h, o, equalOrg); t != nil {
		return t
	}
	var b builder
	t := b.org(o)
	m.orgs.put(h, cloneOrg(o), t)
	return t
}
