package study

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

const goldenSep = "\n-- plan --\n"

// TestCompileGolden compiles each testdata/golden/*.txt study and compares
// the plan with the part after the separator. -update rewrites it.
func TestCompileGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			spec, want, found := strings.Cut(string(raw), goldenSep)
			if !found && !*update {
				t.Fatalf("%s: no %q separator", file, strings.TrimSpace(goldenSep))
			}
			s, err := Parse(filepath.Base(file), []byte(spec), filepath.Dir(file))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			p, err := Compile(s)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			got := renderPlan(t, p)
			if *update {
				if err := os.WriteFile(file, []byte(spec+goldenSep+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("plan differs from %s (run go test ./study -update to accept):\n%s", file, lineDiff(want, got))
			}
		})
	}
}

func renderPlan(t *testing.T, p *Plan) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("digest: " + p.Digest().String() + "\n")
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// lineDiff shows the first differing lines of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + a + "\n  got:  " + b
		}
	}
	return "(identical lines, different line endings)"
}
