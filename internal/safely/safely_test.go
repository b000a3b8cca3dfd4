package safely

import (
	"bytes"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

func TestDoTurnsAPanicIntoALoggedError(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	err := Do(log, "reading a WAV header", func() error {
		var b []byte
		_ = b[3] // index out of range, as a parser bug would
		return nil
	})
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Do returned %v, want a *PanicError", err)
	}
	if got := err.Error(); got != "internal error in reading a WAV header" || strings.Contains(got, "index out of range") {
		t.Errorf("the error shown to users is %q: it must name the work and not the panic", got)
	}
	out := logs.String()
	for _, want := range []string{`"level":"ERROR"`, `"work":"reading a WAV header"`, "index out of range", "safely_test.go"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s (the panic, the work and the stack):\n%s", want, out)
		}
	}
}

func TestDoPassesErrorsAndResultsThrough(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	want := errors.New("refused")
	if err := Do(log, "work", func() error { return want }); err != want {
		t.Errorf("Do = %v, want the function's own error", err)
	}
	if err := Do(log, "work", func() error { return nil }); err != nil {
		t.Errorf("Do = %v, want nil", err)
	}
}

// A goroutine that panics must not end the process: if Go did not recover,
// this test binary would crash rather than fail.
func TestGroupSurvivesPanickingGoroutinesAndWaits(t *testing.T) {
	var logs testutil.SyncBuffer
	g := NewGroup(slog.New(slog.NewJSONHandler(&logs, nil)))
	var finished atomic.Int32
	results := make([]<-chan error, 9)
	for i := range results {
		results[i] = g.Go("job", func() error {
			defer finished.Add(1)
			switch i % 3 {
			case 0:
				panic("boom")
			case 1:
				return errors.New("disk full")
			}
			return nil
		})
	}
	g.Wait()
	if n := finished.Load(); n != 9 {
		t.Fatalf("Wait returned after %d of 9 goroutines", n)
	}
	for i, r := range results {
		err := <-r
		var pe *PanicError
		switch i % 3 {
		case 0:
			if !errors.As(err, &pe) || pe.Value != "boom" {
				t.Errorf("job %d: result %v, want the recovered panic", i, err)
			}
		case 1:
			if err == nil || err.Error() != "disk full" {
				t.Errorf("job %d: result %v, want its own error", i, err)
			}
		default:
			if err != nil {
				t.Errorf("job %d: result %v, want nil", i, err)
			}
		}
	}
	if c := strings.Count(logs.String(), `"msg":"recovered panic"`); c != 3 {
		t.Errorf("%d recovered panics logged, want 3:\n%s", c, logs.String())
	}
}

// TestEveryGoroutineStartsHere keeps the rule true as workers arrive: the
// only go statement in Rampart's code (tests aside) is the one in Group.Go.
func TestEveryGoroutineStartsHere(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if g, ok := n.(*ast.GoStmt); ok {
				found = append(found, fset.Position(g.Pos()).String())
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || !strings.HasPrefix(found[0], filepath.Join(root, "internal", "safely", "safely.go")+":") {
		t.Errorf("go statements outside safely.Group.Go (start goroutines with a safely.Group so a panic cannot end the process):\n%s",
			strings.Join(found, "\n"))
	}
}
