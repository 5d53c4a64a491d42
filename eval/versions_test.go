package eval

import (
	"context"
	"hash/fnv"
	"os"
	"path/filepath"
	"testing"

	"github.com/dagproject/dag/internal/versiontest"
	"github.com/dagproject/dag/study"
)

// goldenScorer answers every request with log-likelihoods that depend only
// on its text, so a task's metrics on the golden files are fixed numbers.
type goldenScorer struct{}

func (goldenScorer) Loglikelihood(_ context.Context, reqs []Request) ([]Result, error) {
	out := make([]Result, len(reqs))
	for i, r := range reqs {
		h := fnv.New32a()
		h.Write([]byte(r.Context + "\x00" + r.Continuation))
		v := h.Sum32()
		out[i] = Result{
			Logprob: -float64(len(r.Continuation))*0.37 - float64(v%1000)/97,
			Tokens:  len(r.Continuation)/4 + 1,
			Greedy:  v%3 == 0,
		}
	}
	return out, nil
}

func readGolden[T any](t *testing.T, name string, read func(*os.File) ([]T, error)) []T {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := read(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// folderOf puts a golden file into a fresh folder as data.jsonl, as a
// data node's output is materialised.
func folderOf(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.jsonl"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestVersions pins each task's and the safety score's output on the
// golden files (testdata/golden) to its version: what an eval or safety
// node computes from its params and input folders (EvaluateNode), with
// and without few-shot examples and a limit, and the requests it sends.
func TestVersions(t *testing.T) {
	for _, name := range TaskNames() {
		task, _ := Lookup(name)
		t.Run(name, func(t *testing.T) {
			data, fewshot := folderOf(t, name+".jsonl"), folderOf(t, name+"-fewshot.jsonl")
			docs := readGolden(t, name+".jsonl", func(f *os.File) ([]Doc, error) { return ReadDocs(task, f, 0) })
			fs := readGolden(t, name+"-fewshot.jsonl", func(f *os.File) ([]Doc, error) { return ReadDocs(task, f, 0) })
			out := []any{docs}
			for _, params := range []map[string]any{
				{"task": name, "shots": int64(0)},
				{"task": name, "shots": int64(3), "limit": int64(7)},
			} {
				p, err := study.DecodeParams[study.EvalParams](params)
				if err != nil {
					t.Fatal(err)
				}
				few := fewshot
				if p.Shots == 0 {
					few = ""
				}
				rep, err := EvaluateNode(context.Background(), goldenScorer{}, params, data, few, 5, nil)
				if err != nil {
					t.Fatal(err)
				}
				n := len(docs)
				if p.Limit > 0 {
					n = p.Limit
				}
				ctxs, err := Contexts(task, docs[:n], fs, p.Shots)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, Requests(docs[:n], ctxs), rep)
			}
			versiontest.Check(t, "eval.task/"+name, task.Version, "Version in eval/tasks.go", versiontest.JSON(t, out...))
		})
	}
	t.Run("safenlp", func(t *testing.T) {
		sents := readGolden(t, "safenlp.jsonl", func(f *os.File) ([]Sentence, error) { return ReadSentences(f) })
		rep, err := EvaluateSafetyNode(context.Background(), goldenScorer{}, folderOf(t, "safenlp.jsonl"), 7, nil)
		if err != nil {
			t.Fatal(err)
		}
		vec := readGolden(t, "../safenlp-implicithate-vector.csv", func(f *os.File) ([]Sentence, error) { return ReadPerplexityCSV(f) })
		out := versiontest.JSON(t, SafetyRequests(sents), rep, SafetyScores(vec))
		versiontest.Check(t, "eval.safenlp", SafeNLPVersion, "SafeNLPVersion in eval/safenlp.go", out)
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
