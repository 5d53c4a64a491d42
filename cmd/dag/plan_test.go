package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dagproject/dag/artifacts"
	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/datasets"
	"github.com/dagproject/dag/planner"
	"github.com/dagproject/dag/study"
)

// dag runs the CLI in-process and returns its exit code and output.
func dag(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// copyQuickstart copies the quickstart into a temp dir so tests can edit it.
func copyQuickstart(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	src := "../../examples/quickstart"
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

type planJSON struct {
	Study string `json:"study"`
	Nodes []struct {
		ID     string   `json:"id"`
		Kind   string   `json:"kind"`
		Key    *string  `json:"key"`
		Status string   `json:"status"`
		Reason string   `json:"reason"`
		Deps   []string `json:"deps"`
	} `json:"nodes"`
}

func planQuickstart(t *testing.T, file, home string) planJSON {
	t.Helper()
	code, out, errs := dag(t, "plan", file, "--json", "--home", home)
	if code != 0 {
		t.Fatalf("dag plan exited %d: %s", code, errs)
	}
	var p planJSON
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	return p
}

func TestPlanJSONFollowsContract(t *testing.T) {
	home := t.TempDir()
	p := planQuickstart(t, "../../examples/quickstart/study.yaml", home)
	if p.Study != "quickstart" || len(p.Nodes) == 0 {
		t.Fatalf("study %q with %d nodes", p.Study, len(p.Nodes))
	}
	ids := map[string]bool{}
	for _, n := range p.Nodes {
		ids[n.ID] = true
	}
	kinds := map[string]bool{"data": true, "pretrain": true, "sft": true, "dpo": true, "eval": true, "safety": true, "report": true}
	seenKinds := map[string]bool{}
	for _, n := range p.Nodes {
		seenKinds[n.Kind] = true
		if !kinds[n.Kind] {
			t.Errorf("%s: kind %q", n.ID, n.Kind)
		}
		for _, d := range n.Deps {
			if !ids[d] {
				t.Errorf("%s: dep %s is not a node", n.ID, d)
			}
		}
		if n.Deps == nil {
			t.Errorf("%s: deps must be a list, not null", n.ID)
		}
		switch n.Status {
		case "hit", "miss":
			if n.Key == nil || !strings.HasPrefix(*n.Key, "sha256:") {
				t.Errorf("%s: %s without a key", n.ID, n.Status)
			}
		case "blocked":
			if n.Key != nil {
				t.Errorf("%s: blocked with a key", n.ID)
			}
		default:
			t.Errorf("%s: status %q", n.ID, n.Status)
		}
		if n.Kind == "data" && n.Key == nil {
			t.Errorf("%s: a data node's key must be known on an empty home", n.ID)
		}
		if n.Reason == "" {
			t.Errorf("%s: no reason", n.ID)
		}
	}
	for _, k := range []string{"data", "pretrain", "sft", "dpo"} {
		if !seenKinds[k] {
			t.Errorf("the quickstart has no %s node", k)
		}
	}
	for _, id := range []string{"pretrain/base", "sft/orca", "dpo/orca+hh", "dpo/shp+shp-pref"} {
		if !ids[id] {
			t.Errorf("no node %s", id)
		}
	}
}

// TestPlanExplainsEditedDataset: run the data nodes, edit one dataset
// file, and check that exactly its key changed and the table says why.
func TestPlanExplainsEditedDataset(t *testing.T) {
	dir := copyQuickstart(t)
	home := t.TempDir()
	file := filepath.Join(dir, "study.yaml")
	before := planQuickstart(t, file, home)

	runDataNodes(t, file, home)

	orca := filepath.Join(dir, "data", "orca.jsonl")
	f, err := os.OpenFile(orca, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"prompt":"Hi?","response":"Hello."}` + "\n")
	f.Close()

	after := planQuickstart(t, file, home)
	keys := map[string]*string{}
	for _, n := range before.Nodes {
		keys[n.ID] = n.Key
	}
	for _, n := range after.Nodes {
		if n.Kind != "data" {
			continue
		}
		changed := *n.Key != *keys[n.ID]
		if changed != (n.ID == "data/orca") {
			t.Errorf("%s: key changed=%v", n.ID, changed)
		}
		want := "hit"
		if n.ID == "data/orca" {
			want = "miss"
		}
		if n.Status != want {
			t.Errorf("%s: %s, want %s", n.ID, n.Status, want)
		}
	}

	code, out, errs := dag(t, "plan", file, "--home", home)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "data/orca ") {
			line = l
		}
	}
	if !strings.Contains(line, "MISS") || !strings.Contains(line, "source data/orca.jsonl changed") {
		t.Fatalf("human output does not say which input changed:\n%s", out)
	}
	if !strings.Contains(out, "14 cached") { // 15 data nodes, one edited
		t.Errorf("summary line: %s", strings.SplitN(out, "\n", 2)[0])
	}
}

func TestPlanBadStudy(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "study.yaml")
	os.WriteFile(file, []byte("version: 1\nname: x\nmodle: {}\n"), 0o644)
	code, out, errs := dag(t, "plan", file, "--home", t.TempDir())
	if code == 0 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errs, file+":3:1: ") || !strings.Contains(errs, `unknown field "modle"`) {
		t.Fatalf("stderr does not name file:line:col and the field:\n%s", errs)
	}

	code, _, errs = dag(t, "plan", filepath.Join(dir, "nope.yaml"), "--home", t.TempDir())
	if code == 0 || !strings.Contains(errs, "nope.yaml") {
		t.Fatalf("missing study: exit %d, %s", code, errs)
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"plan", "--help"}} {
		if code, out, _ := dag(t, args...); code != 0 || !strings.Contains(out, "Usage") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
}

// runDataNodes executes and publishes a study's data nodes into the store
// `dag plan --home home` reads, as a run would.
func runDataNodes(t *testing.T, file, home string) {
	t.Helper()
	s, err := study.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := study.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	store, err := fsstore.Open(filepath.Join(home, "store"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := planner.Plan(ctx, p, planner.Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range p.Nodes {
		if n.Kind != study.KindData {
			continue
		}
		src, err := datasets.Upload(ctx, store, n.Source)
		if err != nil {
			t.Fatal(err)
		}
		out, err := datasets.Prepare(ctx, store, &p.Nodes[i], src)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := artifacts.Publish(ctx, store, artifacts.Publication{Preimage: res.Nodes[i].Preimage, Node: n.ID, Outputs: out, Producer: artifacts.Producer{}, Started: time.Now(), Finished: time.Now(), Ref: planner.RefName("default", p.Study, n.ID)}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPlanPredictsKeysWithInstalledPlugins: once the data is cached, the
// base model's key is predicted with the installed backend's digest; with
// no backend installed it is blocked and says so.
func TestPlanPredictsKeysWithInstalledPlugins(t *testing.T) {
	t.Setenv("DAG_PLUGIN_PATH", "")
	home := t.TempDir()
	file := "../../examples/quickstart/study.yaml"
	runDataNodes(t, file, home)

	status := func() map[string]string {
		p := planQuickstart(t, file, home)
		m := map[string]string{}
		for _, n := range p.Nodes {
			key := "-"
			if n.Key != nil {
				key = *n.Key
			}
			m[n.ID] = n.Status + " " + key + " " + n.Reason
		}
		return m
	}
	got := status()["pretrain/base"]
	if !strings.HasPrefix(got, "blocked - plugin tinylm is not installed") {
		t.Fatalf("without plugins: %s", got)
	}

	installExamplePlugin(t, buildExamplePlugin(t), filepath.Join(home, "plugins"), "tinylm")
	nodes := status()
	if got := nodes["pretrain/base"]; !strings.HasPrefix(got, "miss sha256:") || !strings.HasSuffix(got, "not in cache") {
		t.Fatalf("with tinylm installed: %s", got)
	}
	if got := nodes["sft/orca"]; got != "blocked - waiting on pretrain/base" {
		t.Fatalf("sft/orca: %s", got)
	}
}
