package study

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestDocumentedExample keeps docs/study.md's full example valid: the only
// problems it may have are its local data files, which the docs do not ship.
func TestDocumentedExample(t *testing.T) {
	raw, err := os.ReadFile("../docs/study.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml example in docs/study.md")
	}
	_, err = Parse("study.md", []byte(example), t.TempDir())
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("want only missing-file problems, got %v", err)
	}
	for _, p := range se.Problems {
		if !strings.Contains(p.Msg, "file not found") {
			t.Errorf("documented example: %v", p)
		}
	}
}
