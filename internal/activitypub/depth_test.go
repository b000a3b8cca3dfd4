package activitypub

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCheckDepthRefusesOnlyWhatNestsTooDeep(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	if err := CheckDepth([]byte(nest(MaxDepth))); err != nil {
		t.Fatalf("depth %d refused: %v", MaxDepth, err)
	}
	if err := CheckDepth([]byte(nest(MaxDepth + 1))); err == nil {
		t.Fatalf("depth %d accepted", MaxDepth+1)
	}
	// Brackets inside strings, escaped quotes included, are not nesting.
	inString := `{"a":"` + strings.Repeat(`[{\"`, 100) + `"}`
	if err := CheckDepth([]byte(inString)); err != nil {
		t.Fatalf("brackets in a string counted: %v", err)
	}
	// Many siblings are not depth.
	if err := CheckDepth([]byte("[" + strings.Repeat("{},", 1000) + "{}]")); err != nil {
		t.Fatal(err)
	}
}

// FuzzCheckDepth: on valid JSON, CheckDepth refuses exactly the documents
// nested deeper than MaxDepth.
func FuzzCheckDepth(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"[[["}]}`))
	f.Add([]byte(strings.Repeat("[", 40) + strings.Repeat("]", 40)))
	f.Add([]byte(`"\\\"[["`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if json.Unmarshal(b, &v) != nil {
			_ = CheckDepth(b) // any answer, no panic
			return
		}
		if got, want := CheckDepth(b) == nil, depthOf(v) <= MaxDepth; got != want {
			t.Fatalf("CheckDepth accepted=%v for depth %d", got, depthOf(v))
		}
	})
}

func depthOf(v any) int {
	deepest := 0
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			deepest = max(deepest, depthOf(e))
		}
		return deepest + 1
	case map[string]any:
		for _, e := range x {
			deepest = max(deepest, depthOf(e))
		}
		return deepest + 1
	}
	return 0
}
