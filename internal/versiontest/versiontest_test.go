package versiontest

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB whose Fatal ends the call under test and keeps
// the message.
type recorder struct {
	testing.TB
	failed string
}

type stop struct{}

func (r *recorder) Helper()                   {}
func (r *recorder) Logf(string, ...any)       {}
func (r *recorder) Fatal(args ...any)         { r.failed = fmt.Sprint(args...); panic(stop{}) }
func (r *recorder) Fatalf(f string, a ...any) { r.failed = fmt.Sprintf(f, a...); panic(stop{}) }

// check runs Check and returns its failure ("" when it passed).
func check(t *testing.T, version string, output string, updating bool) (failed string) {
	t.Helper()
	r := &recorder{TB: t}
	old := *update
	*update = updating
	defer func() {
		*update = old
		failed = r.failed
		if v := recover(); v != nil {
			if _, ok := v.(stop); !ok {
				panic(v)
			}
		}
	}()
	Check(r, "demo/part", version, "Version in demo.go", []byte(output))
	return ""
}

func TestCheck(t *testing.T) {
	t.Chdir(t.TempDir())
	steps := []struct {
		name, version, output string
		update                bool
		fails                 string // substring of the failure; "" passes
	}{
		{"nothing recorded", "1", "a", false, "has no recorded output"},
		{"recorded", "1", "a", true, ""},
		{"unchanged", "1", "a", false, ""},
		{"changed without a bump", "1", "b", false, "bump VERSION"},
		{"-update-versions does not help", "1", "b", true, "bump VERSION"},
		{"bumped, not recorded yet", "2", "b", false, "has no recorded output"},
		{"bumped and recorded", "2", "b", true, ""},
		{"bumped output is kept", "2", "b", false, ""},
		{"going back", "1", "a", true, "not above"},
		{"not a number", "v3", "b", true, "positive integer"},
		{"bumped without a change", "3", "b", true, ""},
	}
	for _, s := range steps {
		got := check(t, s.version, s.output, s.update)
		if (got == "") != (s.fails == "") || !strings.Contains(got, s.fails) {
			t.Fatalf("%s: failure %q, want one containing %q", s.name, got, s.fails)
		}
	}
}

func TestJSONRoundsNumbers(t *testing.T) {
	a := JSON(t, map[string]any{"x": 0.1 + 0.2, "y": []float64{1.0 / 3}}, 7)
	b := JSON(t, map[string]any{"x": 0.3, "y": []float64{0.33333333333}}, 7)
	if string(a) != string(b) {
		t.Errorf("%s != %s", a, b)
	}
	if c := JSON(t, 0.3001); string(c) == string(JSON(t, 0.3)) {
		t.Error("a difference in the 4th digit must show")
	}
}
