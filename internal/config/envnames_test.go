package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestToolVariablesAreNotConfigOverrides keeps the RAMPART_ prefix for config
// overrides alone. Every RAMPART_* variable is read by every rampart command,
// and an unknown one is an error (a typo must not leave a default in force),
// so a script or test variable named RAMPART_FUZZ_TIME would make every
// rampart command in the shell that set it refuse to run.
func TestToolVariablesAreNotConfigOverrides(t *testing.T) {
	known := map[string]bool{EnvVarConfig: true,
		// The name for BENCH_DB: scripts/bench takes it, hands it on
		// as BENCH_DB and unsets it before anything runs.
		"RAMPART_BENCH_DB": true}
	for _, k := range Keys() {
		known[k.EnvVar] = true
	}
	root := filepath.Join("..", "..")
	// In scripts: any mention. In Go: names passed to the environment functions.
	scriptVar := regexp.MustCompile(`\bRAMPART_[A-Z0-9_]+`)
	goVar := regexp.MustCompile(`(?:Getenv|LookupEnv|Setenv|Unsetenv)\("(RAMPART_[A-Z0-9_]*)"`)
	var bad []string
	scan := func(path string, re *regexp.Regexp) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			name := m[len(m)-1]
			if !known[name] {
				bad = append(bad, path+": "+name)
			}
		}
	}
	for _, dir := range []string{"scripts", ".ci"} {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				scan(filepath.Join(root, dir, e.Name()), scriptVar)
			}
		}
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			scan(path, goVar)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("variables with the RAMPART_ prefix that are not config overrides (rampart would refuse to run in a shell that sets them; name them TEST_… or BENCH_…):\n%s",
			strings.Join(bad, "\n"))
	}
}

// The scripts' own variables must not bother a rampart command.
func TestScriptVariablesDoNotStopRampart(t *testing.T) {
	env := []string{"TEST_FUZZTIME=30s", "TEST_REQUIRE_TOOLS=1", "BENCH_TIME=10x", "BENCH_CLIENTS=4", "BENCH_FILTER=.", "BENCH_SEED_DIR=/tmp/x"}
	if _, err := Parse([]byte(valid()), env); err != nil {
		t.Errorf("a config with the scripts' variables set: %v", err)
	}
	if _, err := Parse([]byte(valid()), []string{"RAMPART_FUZZ_TIME=30s"}); err == nil || !strings.Contains(err.Error(), "RAMPART_FUZZ_TIME") {
		t.Errorf("an unknown RAMPART_ variable must stay an error, got %v", err)
	}
}
