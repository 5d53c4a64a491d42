package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/fnv"
	"os"
	"path/filepath"
	"testing"

	"github.com/dagproject/dag/internal/versiontest"
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

// TestVersions pins each task's and the safety score's output on the
// golden files (testdata/golden) to its version: the documents, every
// request with and without few-shot examples, and the reports.
func TestVersions(t *testing.T) {
	for _, name := range TaskNames() {
		task, _ := Lookup(name)
		t.Run(name, func(t *testing.T) {
			docs := readGolden(t, name+".jsonl", func(f *os.File) ([]Doc, error) { return ReadDocs(task, f, 0) })
			fewshot := readGolden(t, name+"-fewshot.jsonl", func(f *os.File) ([]Doc, error) { return ReadDocs(task, f, 0) })
			var out bytes.Buffer
			enc := json.NewEncoder(&out)
			must(t, enc.Encode(docs))
			for _, shots := range []int{0, 3} {
				ctxs, err := Contexts(task, docs, fewshot, shots)
				if err != nil {
					t.Fatal(err)
				}
				must(t, enc.Encode(Requests(docs, ctxs)))
				rep, err := Evaluate(context.Background(), goldenScorer{}, task, docs, fewshot, shots, 5, nil)
				if err != nil {
					t.Fatal(err)
				}
				must(t, enc.Encode(rep))
			}
			versiontest.Check(t, "eval.task/"+name, task.Version, "Version in eval/tasks.go", out.Bytes())
		})
	}
	t.Run("safenlp", func(t *testing.T) {
		sents := readGolden(t, "safenlp.jsonl", func(f *os.File) ([]Sentence, error) { return ReadSentences(f) })
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		must(t, enc.Encode(SafetyRequests(sents)))
		rep, err := EvaluateSafety(context.Background(), goldenScorer{}, sents, 7, nil)
		if err != nil {
			t.Fatal(err)
		}
		must(t, enc.Encode(rep))
		vec := readGolden(t, "../safenlp-implicithate-vector.csv", func(f *os.File) ([]Sentence, error) { return ReadPerplexityCSV(f) })
		must(t, enc.Encode(SafetyScores(vec)))
		versiontest.Check(t, "eval.safenlp", SafeNLPVersion, "SafeNLPVersion in eval/safenlp.go", out.Bytes())
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
