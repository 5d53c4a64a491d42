package tinylm

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/dagproject/dag/plugins"
)

// TestQuickstartTimings runs each stage on the quickstart's data with the
// default architecture and small fixed params, and logs the time of each
// (TINYLM_QUICKSTART=1): a quick check of per-stage speed outside dag.
func TestQuickstartTimings(t *testing.T) {
	if os.Getenv("TINYLM_QUICKSTART") == "" {
		t.Skip("set TINYLM_QUICKSTART=1")
	}
	corpusText, err := os.ReadFile("../../examples/quickstart/data/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	var sft, dpo []map[string]string
	for i := range 100 {
		x := things[i%len(things)]
		f := folks[i%len(folks)]
		sft = append(sft, map[string]string{"prompt": fmt.Sprintf("Why do %s like %s?", f, x), "response": fmt.Sprintf("Because %s are calming.", x)})
		dpo = append(dpo, map[string]string{"prompt": fmt.Sprintf("Do %s like %s?", f, x), "chosen": fmt.Sprintf("Yes, %s like %s.", f, x), "rejected": "No idea."})
	}
	timed := func(name string, f func()) {
		start := time.Now()
		f()
		t.Logf("%-8s %6.1fs", name, time.Since(start).Seconds())
	}
	var base, tuned string
	timed("pretrain", func() {
		data := writeFile(t, t.TempDir(), corpusFile, string(corpusText))
		base, _, _ = train(t, plugins.KindPretrain, map[string]string{plugins.InputData: data}, `{"steps": 200, "seed": 1}`, "")
	})
	timed("sft", func() {
		data := writeFile(t, t.TempDir(), recordsFile, jsonl(t, sft))
		tuned, _, _ = train(t, plugins.KindSFT, map[string]string{plugins.InputModel: base, plugins.InputData: data},
			`{"lora": {"rank": 8, "alpha": 16, "target_modules": ["q", "v"]}, "learning_rate": 1.0e-3, "epochs": 1,
			  "batch_size": 8, "max_length": 128, "prompt_template": "### Question:\n{prompt}\n### Answer:\n", "seed": 1}`, "")
	})
	timed("dpo", func() {
		data := writeFile(t, t.TempDir(), recordsFile, jsonl(t, dpo))
		train(t, plugins.KindDPO, map[string]string{plugins.InputModel: tuned, plugins.InputData: data},
			`{"beta": 0.1, "label_smoothing": 0, "learning_rate": 5.0e-4, "epochs": 1, "batch_size": 8, "seed": 1}`, "")
	})
	timed("score", func() {
		var reqs []plugins.LoglikelihoodRequest
		for i := range 200 {
			reqs = append(reqs, plugins.LoglikelihoodRequest{Context: fmt.Sprintf("Question: Do the %s like %s?\nAnswer:", folks[i%4], things[i%16]), Continuation: " Yes"})
		}
		score(t, tuned, `{}`, reqs)
	})
}
