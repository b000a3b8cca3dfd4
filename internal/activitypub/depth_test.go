package activitypub

import (
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
