package authz

import (
	"encoding/binary"
	"slices"
	"sync"
)

// The decision cache (decisioncache.go) is keyed by a canonical binary
// encoding of everything a decision depends on: which query (a single
// action or a list of them) and every field of the Input, in a fixed
// order. Every variable-length value carries its length, nil and empty
// lists and maps are told apart, and map entries are written in key
// order, so two keys are equal exactly when the inputs are: the encoding
// is prefix-free and can be read back field by field. There is no hash
// in the key; the map compares whole keys.

const (
	keySingle byte = 1 // Decide: the key holds in.Action as part of Input
	keyAll    byte = 2 // DecideAll: the key holds the action list, then Input
)

// appendKey appends the key of a decision on in (kind keySingle) or of
// DecideAll's decisions on in for actions (kind keyAll) to b, and returns
// its two parts: head (subject and org) and tail (kind, actions, action,
// resource). The pair is the key: each part is prefix-free, so equal pairs
// mean equal inputs.
func appendKey(b []byte, kind byte, in *Input, actions []string) (head, tail []byte) {
	b = appendSubject(b, &in.Subject)
	b = appendOrg(b, &in.Org)
	n := len(b)
	b = append(b, kind)
	if kind == keyAll {
		b = appendStrings(b, actions)
	}
	b = appendString(b, in.Action)
	b = appendResource(b, &in.Resource)
	return b[:n], b[n:]
}

// keyBufs holds the buffers keys are built in.
var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func getKeyBuf() *[]byte { return keyBufs.Get().(*[]byte) }

func putKeyBuf(b *[]byte, used []byte) {
	if cap(used) <= 64<<10 {
		*b = used[:0]
		keyBufs.Put(b)
	}
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendLen writes 0 for nil and n+1 for a list or map of n elements.
func appendLen(b []byte, isNil bool, n int) []byte {
	if isNil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

func appendStrings(b []byte, ss []string) []byte {
	b = appendLen(b, ss == nil, len(ss))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// appendPresent writes whether a pointer is set.
func appendPresent(b []byte, set bool) []byte { return appendBool(b, set) }

func appendSubject(b []byte, s *Subject) []byte {
	b = appendString(b, s.Type)
	b = appendStrings(b, s.Scopes)
	b = appendString(b, s.UserID)
	b = appendString(b, s.Role)
	b = appendBool(b, s.Observer)
	b = appendBool(b, s.PerformanceAdmin)
	b = appendBool(b, s.SSO)
	b = appendLen(b, s.TeamRoles == nil, len(s.TeamRoles))
	if len(s.TeamRoles) > 0 {
		var arr [16]string
		keys := arr[:0]
		for k := range s.TeamRoles {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b = appendString(b, k)
			b = appendString(b, s.TeamRoles[k])
		}
	}
	b = appendStrings(b, s.DirectReports)
	return appendStrings(b, s.Reports)
}

func appendDelegate(b []byte, d *Delegate) []byte {
	b = appendPresent(b, d != nil)
	if d == nil {
		return b
	}
	b = appendString(b, d.UserID)
	b = appendBool(b, d.DelegateKeyResults)
	return appendBool(b, d.NotifyOwner)
}

func appendResource(b []byte, r *Resource) []byte {
	b = appendString(b, r.ID)
	b = appendString(b, r.Kind)
	b = appendString(b, r.Level)
	b = appendLen(b, r.Teams == nil, len(r.Teams))
	for i := range r.Teams {
		t := &r.Teams[i]
		b = appendString(b, t.ID)
		b = appendString(b, t.Name)
		b = appendString(b, t.OKRCreation)
		b = appendStrings(b, t.Listed)
	}
	b = appendStrings(b, r.Owners)
	b = appendStrings(b, r.OwnerManagers)
	b = appendString(b, r.Creator)
	b = appendDelegate(b, r.Delegate)
	b = appendString(b, r.CheckInOwner)
	b = appendBool(b, r.Private)
	b = appendStrings(b, r.Viewers)
	b = appendStrings(b, r.Grants.Edit)
	b = appendStrings(b, r.Grants.CheckIn)
	b = appendStrings(b, r.Grants.Align)
	b = appendBool(b, r.AlignmentRestricted)
	b = appendPresent(b, r.Parent != nil)
	if p := r.Parent; p != nil {
		b = appendString(b, p.ID)
		b = appendString(b, p.Kind)
		b = appendStrings(b, p.Owners)
		b = appendDelegate(b, p.Delegate)
		b = appendBool(b, p.Restricted)
		b = appendStrings(b, p.AlignGrant)
	}
	b = appendString(b, r.User)
	b = appendBool(b, r.Closed)
	b = appendBool(b, r.TimePeriodClosed)
	b = appendBool(b, r.HasMetric)
	b = appendBool(b, r.Milestone)
	b = appendPresent(b, r.CheckIn != nil)
	if c := r.CheckIn; c != nil {
		b = appendString(b, c.ID)
		b = appendString(b, c.Author)
		b = binary.AppendVarint(b, c.AgeSeconds)
	}
	b = appendPresent(b, r.Previous != nil)
	if p := r.Previous; p != nil {
		b = appendString(b, p.Level)
		b = appendStrings(b, p.Teams)
	}
	b = appendPresent(b, r.TeamMember != nil)
	if m := r.TeamMember; m != nil {
		b = appendString(b, m.User)
		b = appendString(b, m.Role)
		b = appendString(b, m.NewRole)
	}
	b = appendPresent(b, r.Review != nil)
	if v := r.Review; v != nil {
		b = appendString(b, v.Type)
		b = appendString(b, v.Status)
		b = appendString(b, v.Reviewee)
		b = appendString(b, v.Reviewer)
		b = appendStrings(b, v.Approvers)
	}
	b = appendPresent(b, r.Cycle != nil)
	if c := r.Cycle; c != nil {
		b = appendString(b, c.ID)
		b = appendString(b, c.Status)
		b = appendBool(b, c.ApprovalRequired)
		b = appendString(b, c.ApproverRule)
	}
	return b
}

func appendOrg(b []byte, o *Org) []byte {
	b = appendString(b, o.ID)
	b = appendString(b, o.OKRCreation)
	b = appendStrings(b, o.OKRCreationListed)
	return appendString(b, o.TeamCreation)
}
