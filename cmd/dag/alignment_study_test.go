package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dagproject/dag/study"
)

const alignmentStudy = "../../examples/alignment-study/study.yaml"

// TestAlignmentStudyAsWritten checks that the example declares the
// reference study: Llama-2-7b from the hub, pinned hf:// sources, LoRA
// r=8 alpha=16 and max length 1024 in every recipe, the six benchmarks
// and SafeNLP, on the hf backend.
func TestAlignmentStudyAsWritten(t *testing.T) {
	s, err := study.Load(alignmentStudy)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Model.Checkpoint, "hf://meta-llama/Llama-2-7b-hf@") {
		t.Errorf("model %q", s.Model.Checkpoint)
	}
	for _, ds := range s.Datasets {
		if rest, ok := strings.CutPrefix(ds.Source, "hf://datasets/"); ok && !strings.Contains(rest, "@") {
			t.Errorf("dataset %s: no revision in %s", ds.Name, ds.Source)
		}
	}
	for _, r := range s.Recipes {
		lora, _ := r.Params["lora"].(map[string]any)
		rank, _ := study.Number(lora["rank"])
		alpha, _ := study.Number(lora["alpha"])
		maxLen, _ := study.Number(r.Params["max_length"])
		if rank != 8 || alpha != 16 || maxLen != 1024 {
			t.Errorf("recipe %s: lora r=%v alpha=%v, max_length %v; want 8, 16, 1024", r.Name, rank, alpha, maxLen)
		}
	}
	var tasks []string
	for _, task := range s.Evaluations.Tasks {
		tasks = append(tasks, task.Name)
	}
	if strings.Join(tasks, " ") != strings.Join(study.Tasks, " ") || s.Evaluations.Safety == nil {
		t.Errorf("evaluations: tasks %v, safety %v", tasks, s.Evaluations.Safety != nil)
	}
	for _, k := range []study.Kind{study.KindSFT, study.KindDPO, study.KindEval, study.KindSafety} {
		if b := s.Backends.For(k); b != "hf" {
			t.Errorf("%s runs on %s, want hf", k, b)
		}
	}
	if s.Reference == nil || s.Reference.Source == "" {
		t.Error("no reference block")
	}
}

// TestPlanAlignmentStudyOffline plans the example with an empty home, no
// plugins and no network: it exits 0 and every node is BLOCKED with its
// reason (sources that cannot be fetched, the hf backend missing).
func TestPlanAlignmentStudyOffline(t *testing.T) {
	closed := closedAddr(t)
	t.Setenv("DAG_PLUGIN_PATH", "")
	t.Setenv("HF_TOKEN", "")
	t.Setenv("DAG_HF_ENDPOINT", "http://"+closed)
	// The study's https:// sources go to the closed port too, so nothing
	// leaves the machine whatever network the test runs on.
	b, err := os.ReadFile(alignmentStudy)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "study.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(b), "https://", "http://"+closed+"/")), 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, errs := dag(t, "plan", file, "--json", "--home", t.TempDir())
	if code != 0 {
		t.Fatalf("dag plan exited %d: %s", code, errs)
	}
	var p planJSON
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	kinds := map[string]int{}
	for _, n := range p.Nodes {
		kinds[n.Kind]++
		if n.Status != "blocked" || n.Key != nil {
			t.Errorf("%s: %s key %v, want blocked without a key", n.ID, n.Status, n.Key)
		}
		switch n.Kind {
		case "data":
			if !strings.HasPrefix(n.Reason, "cannot fetch") {
				t.Errorf("%s: reason %q", n.ID, n.Reason)
			}
		case "sft", "dpo", "eval", "safety":
			if !strings.Contains(n.Reason, "plugin hf is not installed") {
				t.Errorf("%s: reason %q does not name the missing backend", n.ID, n.Reason)
			}
		case "report":
			if !strings.HasPrefix(n.Reason, "waiting on ") {
				t.Errorf("%s: reason %q", n.ID, n.Reason)
			}
		}
	}
	// 6 models x (6 benchmarks + safety), 3 SFT and 2 DPO steps, 13 data
	// nodes (the model included), the report.
	want := map[string]int{"data": 13, "sft": 3, "dpo": 2, "eval": 36, "safety": 6, "report": 1}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s nodes, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
