package media

import (
	"errors"
	"testing"
)

func TestParseFocusTakesExactlyTwoFiniteNumbersInRange(t *testing.T) {
	for in, want := range map[string][2]float64{"": {0, 0}, "  ": {0, 0}, "0.5,-0.2": {0.5, -0.2}, "-1,1": {-1, 1}, " 0.25 , 1e-1 ": {0.25, 0.1},
		".5,-.5": {0.5, -0.5}, "+1,-0": {1, 0}} {
		x, y, err := parseFocus(in)
		if err != nil || x != want[0] || y != want[1] {
			t.Errorf("parseFocus(%q) = %v, %v, %v; want %v", in, x, y, err, want)
		}
	}
	for _, in := range []string{"nan,nan", "NaN,0", "0,nan", "inf,0", "0,-Inf", "infinity,0", "0.5,0.5,0.5", "0.5", "0.5,", ",0.5", "0.5;0.5",
		"0.5,0.5x", "0.5,0.5 junk", "1.5,0", "0,-1.0001", "1e400,0", "0x1p-1,0", "1_0,0", "0.5 0.5", "--1,0", "0.5,0.5\x00", "½,0"} {
		if x, y, err := parseFocus(in); !errors.Is(err, ErrRejected) {
			t.Errorf("parseFocus(%q) = %v, %v, %v; want a rejection", in, x, y, err)
		}
	}
}
