// Package versiontest pins the output of dag's built-in computations
// (data adapters, evaluation tasks, the SafeNLP score, report building)
// to their versions, so that one cannot change without the other.
//
// A built-in's version enters the cache key of every node it runs in
// (docs/caching.md). If its output changed while its version stayed, old
// cache entries would come back as hits with results the new code would
// not compute. Each built-in therefore has a golden test: it computes the
// built-in's output on fixed inputs and calls Check, which compares the
// output's digest with the one recorded beside the version in
// testdata/versions/. A changed output under an unchanged version fails
// with "bump VERSION"; after a bump, `go test -run Versions -update-versions`
// records the new output. The flag refuses to record a changed output
// under the old version.
package versiontest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

var update = flag.Bool("update-versions", false, "record the outputs of built-ins whose version was bumped")

// golden is what testdata/versions/<component>.json holds.
type golden struct {
	Component string        `json:"component"`
	Version   string        `json:"version"`
	Output    digest.Digest `json:"output"`
}

// Check compares output, the built-in component's output on the test's
// fixed inputs, with what was recorded for version. where names the
// constant that holds the version, for the message. Versions are positive
// integers that only grow: going back to an old number would serve the
// old entries made under it as hits.
func Check(t testing.TB, component, version, where string, output []byte) {
	t.Helper()
	if n, err := strconv.Atoi(version); err != nil || n < 1 {
		t.Fatalf("%s: version %q (%s): want a positive integer", component, version, where)
	}
	path := filepath.Join("testdata", "versions", strings.NewReplacer("/", "_", ":", "_").Replace(component)+".json")
	got := golden{Component: component, Version: version, Output: digest.FromBytes(output)}
	var want golden
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		t.Fatal(err)
	default:
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	switch {
	case want == got:
		return
	case want.Version == version:
		t.Fatalf("%s: its output on the golden inputs changed (%s -> %s) but its version is still %q: "+
			"bump VERSION (%s), then run go test -run Versions -update-versions. "+
			"Old cache entries would otherwise be served as hits.", component, short(want.Output), short(got.Output), version, where)
	case want.Version != "" && !above(version, want.Version):
		t.Fatalf("%s: version %q is not above the recorded %q (%s): a version only grows", component, version, want.Version, where)
	case !*update:
		t.Fatalf("%s: version %q has no recorded output (%s): run go test -run Versions -update-versions", component, version, path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: recorded version %q with output %s", component, version, short(got.Output))
}

// above reports whether version v is a larger integer than w.
func above(v, w string) bool {
	a, errA := strconv.Atoi(v)
	b, errB := strconv.Atoi(w)
	return errA == nil && errB == nil && a > b
}

func short(d digest.Digest) string {
	if s := d.Encoded(); len(s) > 12 {
		return d.Algorithm().String() + ":" + s[:12]
	}
	return d.String()
}

// JSON encodes values as JSON lines with every number rounded to 10
// significant digits, so that a golden output does not depend on the last
// bits of floating-point arithmetic (fused multiply-adds on some CPUs).
func JSON(t testing.TB, values ...any) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var tree any
		if err := dec.Decode(&tree); err != nil {
			t.Fatal(err)
		}
		b, err = json.Marshal(rounded(tree))
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func rounded(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x
		}
		return json.Number(strconv.FormatFloat(f, 'g', 10, 64))
	case map[string]any:
		for k, e := range x {
			x[k] = rounded(e)
		}
	case []any:
		for i, e := range x {
			x[i] = rounded(e)
		}
	}
	return v
}
