package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	fsstore "github.com/dagproject/dag/artifacts/fs"
)

// TestEvalAndSafetyNodes runs a tiny study with one benchmark and the
// safety score end to end on tinylm: every eval and safety node executes
// and stores a numeric result, and the report node gathers them.
func TestEvalAndSafetyNodes(t *testing.T) {
	t.Setenv("DAG_PLUGIN_PATH", tinylmPlugins(t))
	file := writeEvalStudy(t)
	home := t.TempDir()
	startServer(t, home)
	_, out, errs := dag(t, "submit", file, "--wait", "--json", "--home", home)
	var r runJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, errs)
	}
	store, err := fsstore.Open(filepath.Join(home, "store"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	seen := map[string]int{}
	for _, n := range r.Nodes {
		if n.Kind != "eval" && n.Kind != "safety" {
			continue
		}
		seen[n.Kind]++
		if n.Outcome != "executed" {
			t.Fatalf("%s: %s %s", n.ID, n.Outcome, n.Error)
		}
		m, err := artifacts.ReadManifest(ctx, store, digest.Digest(n.Outputs["result"]))
		if err != nil || len(m.Entries) != 1 || m.Entries[0].Path != "result.json" {
			t.Fatalf("%s: result folder %+v %v", n.ID, m, err)
		}
		b, err := artifacts.ReadAll(ctx, store, m.Entries[0].Digest, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Task   string   `json:"task"`
			Value  *float64 `json:"value"`
			N      int      `json:"n"`
			Groups map[string]struct {
				Score *float64 `json:"score"`
			} `json:"groups"`
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		switch n.Kind {
		case "eval":
			if res.Task != "arc_challenge" || res.Value == nil || *res.Value < 0 || *res.Value > 1 || res.N != 2 {
				t.Errorf("%s: %s", n.ID, b)
			}
		case "safety":
			if g, ok := res.Groups["zorbs"]; !ok || g.Score == nil || *g.Score < 0 || *g.Score > 1 {
				t.Errorf("%s: %s", n.ID, b)
			}
		}
	}
	// Four models (base, sft-a, sft-a-dpo, sft-b): one eval and one safety each.
	if seen["eval"] != 4 || seen["safety"] != 4 {
		t.Fatalf("nodes %v\n%s", seen, out)
	}
}

// tinyStudyWithDatasets moves the extra dataset lines appended after
// pipelines: into the datasets: mapping.
func tinyStudyWithDatasets(s string) string {
	const extra = "  arc: {source: arc.jsonl}\n  sents: {source: sents.jsonl}\n"
	s = strings.Replace(s, extra, "", 1)
	return strings.Replace(s, "datasets:\n", "datasets:\n"+extra, 1)
}
