package authz

import (
	"reflect"
	"sync"
	"testing"
)

// fuzzWords are the values fuzzed strings take: ids, roles, kinds and
// levels the policy compares against, so random inputs reach its rules.
var fuzzWords = []string{
	"", "u-ann", "u-bob", "u-carl", "u-dan", "u-eve", "u-zed", "t-sales", "okr-0", "okr-1", "org-1",
	"MEMBER", "ADMIN", "OWNER", "OBJECTIVE", "KEY_RESULT", "ORGANIZATION", "TEAM", "INDIVIDUAL",
	SubjectUser, SubjectService, "read", "write", "EVERYONE", "ADMINS", "LISTED", "TEAM_MEMBERS",
	"ACTIVE", "DRAFT", "SELF", "MANAGER", "SUBMITTED",
}

// fuzzInput overwrites fields of in from data: each field of the type (the
// traversal follows Input's declaration) is kept or replaced as the next
// byte says, lists and maps get 0-2 elements, pointers are set or cleared.
func fuzzInput(data []byte, in *Input) {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	var set func(v reflect.Value)
	set = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				set(v.Field(i))
			}
			return
		case reflect.Pointer:
			switch next() % 3 {
			case 0: // keep
			case 1:
				v.Set(reflect.Zero(v.Type()))
			case 2:
				if v.IsNil() {
					v.Set(reflect.New(v.Type().Elem()))
				}
			}
			if !v.IsNil() {
				set(v.Elem())
			}
			return
		}
		b := next()
		if b%2 == 0 { // keep
			return
		}
		b /= 2
		switch v.Kind() {
		case reflect.String:
			v.SetString(fuzzWords[int(b)%len(fuzzWords)])
		case reflect.Bool:
			v.SetBool(b%2 == 1)
		case reflect.Int64:
			v.SetInt(int64(b) * 3600)
		case reflect.Slice:
			if b%4 == 0 {
				v.Set(reflect.Zero(v.Type()))
				return
			}
			n := int(b%4) - 1 // 0 to 2 elements
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				set(s.Index(i))
			}
			v.Set(s)
		case reflect.Map:
			if b%4 == 0 {
				v.Set(reflect.Zero(v.Type()))
				return
			}
			m := reflect.MakeMap(v.Type())
			for range int(b%4) - 1 {
				k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				set(k)
				set(e)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	}
	set(reflect.ValueOf(in).Elem())
}

var (
	fuzzCachedOnce sync.Once
	fuzzCached     *Engine
)

// FuzzDecisionCache: for random inputs, a cached engine answers exactly
// as an uncached one (allow, reasons, by, failure), before and after the
// answer is cached, for Decide and DecideAll; and two inputs share a cache
// key only when they are deeply equal.
func FuzzDecisionCache(f *testing.F) {
	f.Add([]byte{}, []byte{1, 3})
	f.Add([]byte{1, 5, 1, 9, 0, 3, 1, 1, 7}, []byte{1, 5, 1, 9, 0, 3, 1, 1, 9})
	f.Add([]byte{3, 11, 3, 13, 1, 15, 0, 0, 0, 0, 1, 1, 3, 3}, []byte{0, 0, 0, 1, 21})
	f.Add([]byte("a service token without scopes"), []byte("an admin of another team"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		fuzzCachedOnce.Do(func() {
			var err error
			if fuzzCached, err = NewEngine(); err != nil {
				t.Fatal(err)
			}
		})
		in, other := updateInput(), updateInput()
		fuzzInput(a, in)
		fuzzInput(b, other)
		if same, equal := cacheKey(keySingle, in, nil) == cacheKey(keySingle, other, nil), reflect.DeepEqual(in, other); same != equal {
			t.Fatalf("same key %v, deeply equal %v:\n%+v\n%+v", same, equal, in, other)
		}
		actions := allOKRActions
		if len(a) > 0 {
			actions = actions[int(a[0])%len(actions):]
		}
		assertSameAnswers(t, fuzzCached, uncachedEngine(t), in, actions)
	})
}
