package tinylm

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

const sftTemplate = "Q: {prompt}\nA: "

func sftRecords(t testing.TB) string {
	var recs []map[string]string
	for _, x := range things {
		recs = append(recs, map[string]string{"prompt": "Why do people like " + x + "?", "response": "Because " + x + " are calming."})
	}
	return jsonl(t, recs)
}

// responseNLL is the mean negative log-likelihood per response token of
// the SFT records under the model in dir.
func responseNLL(t *testing.T, dir string) float64 {
	var reqs []plugins.LoglikelihoodRequest
	for _, x := range things {
		reqs = append(reqs, plugins.LoglikelihoodRequest{
			Context:      renderPrompt(sftTemplate, "", "Why do people like "+x+"?"),
			Continuation: "Because " + x + " are calming.",
		})
	}
	var sum float64
	var n int
	for _, r := range score(t, dir, `{"add_bos": true}`, reqs) {
		sum -= r.Logprob
		n += r.Tokens
	}
	return sum / float64(n)
}

func TestSFTLowersLoss(t *testing.T) {
	base := baseModel(t)
	data := writeFile(t, t.TempDir(), recordsFile, sftRecords(t))
	out, rec, res := train(t, plugins.KindSFT, map[string]string{plugins.InputModel: base, plugins.InputData: data},
		`{"epochs": 6, "batch_size": 8, "learning_rate": 0.005, "prompt_template": "Q: {prompt}\nA: ", "log_every": 1,
		  "lora": {"rank": 4, "alpha": 8, "target_modules": ["q", "k", "v", "o", "up", "down"]}}`, "")
	metrics := rec.of(plugins.EventMetrics)
	if len(metrics) != 12 || res.Step != 12 {
		t.Fatalf("%d metrics events, step %d; want 12 steps (6 epochs of 2)", len(metrics), res.Step)
	}
	first, last := metrics[0].Metrics[plugins.MetricLoss], metrics[len(metrics)-1].Metrics[plugins.MetricLoss]
	before, after := responseNLL(t, base), responseNLL(t, out)
	t.Logf("training loss %.3f -> %.3f; response NLL %.3f -> %.3f", first, last, before, after)
	if !(last < first) || !(after < before*0.8) {
		t.Errorf("SFT did not lower the loss: training %.3f -> %.3f, response NLL %.3f -> %.3f", first, last, before, after)
	}
}

func TestDPOImprovesHeldOutRewards(t *testing.T) {
	base := baseModel(t)
	pair := func(x string) map[string]string {
		return map[string]string{"prompt": "Do you like " + x + "?", "chosen": "Yes, " + x + " are nice.", "rejected": "No."}
	}
	var trainRecs []map[string]string
	for _, x := range things[:12] {
		trainRecs = append(trainRecs, pair(x))
	}
	data := writeFile(t, t.TempDir(), recordsFile, jsonl(t, trainRecs))
	out, rec, _ := train(t, plugins.KindDPO, map[string]string{plugins.InputModel: base, plugins.InputData: data},
		`{"epochs": 8, "batch_size": 4, "learning_rate": 0.005, "beta": 0.1, "prompt_template": "Q: {prompt}\nA: ", "log_every": 3,
		  "lora": {"rank": 4, "alpha": 8, "target_modules": ["q", "k", "v", "o", "up", "down"]}}`, "")
	ms := rec.of(plugins.EventMetrics)
	for _, m := range []string{plugins.MetricLoss, plugins.MetricRewardMargin, plugins.MetricRewardAccuracy, plugins.MetricRewardChosen, plugins.MetricRewardRejected} {
		if _, ok := ms[len(ms)-1].Metrics[m]; !ok {
			t.Errorf("metrics lack %s", m)
		}
	}
	t.Logf("training: first %v last %v", ms[0].Metrics, ms[len(ms)-1].Metrics)

	// Implicit rewards on held-out pairs: beta * (log pi - log pi_ref).
	const beta = 0.1
	var acc, margin float64
	held := things[12:]
	for _, x := range held {
		p := pair(x)
		ctx := renderPrompt(sftTemplate, "", p["prompt"])
		reqs := []plugins.LoglikelihoodRequest{{Context: ctx, Continuation: p["chosen"]}, {Context: ctx, Continuation: p["rejected"]}}
		pol, ref := score(t, out, `{"add_bos": true}`, reqs), score(t, base, `{"add_bos": true}`, reqs)
		rc := beta * (pol[0].Logprob - ref[0].Logprob)
		rr := beta * (pol[1].Logprob - ref[1].Logprob)
		if rc > rr {
			acc++
		}
		margin += rc - rr
	}
	acc /= float64(len(held))
	margin /= float64(len(held))
	t.Logf("held-out reward accuracy %.2f, margin %.3f (both 0 before training)", acc, margin)
	if acc < 0.75 || margin <= 0 {
		t.Errorf("DPO did not generalise: held-out accuracy %.2f, margin %.3f", acc, margin)
	}
}

func TestResumeAndDeterminism(t *testing.T) {
	base := baseModel(t)
	data := writeFile(t, t.TempDir(), recordsFile, sftRecords(t))
	inputs := map[string]string{plugins.InputModel: base, plugins.InputData: data}
	const params = `{"epochs": 3, "batch_size": 4, "learning_rate": 0.005, "lora": {"rank": 2, "target_modules": ["q", "v", "up"]}`

	// Two uninterrupted runs, with different execution-only settings.
	outA, _, _ := train(t, plugins.KindSFT, inputs, params+`, "checkpoint_every": 0, "log_every": 1}`, "")
	ckpts := t.TempDir()
	outB, rec, _ := train(t, plugins.KindSFT, inputs, params+`, "checkpoint_every": 5, "log_every": 7}`, ckpts)
	if a, b := digestDir(t, outA), digestDir(t, outB); a != b {
		t.Fatalf("two runs differ: %s vs %s", a, b)
	}
	cps := rec.of(plugins.EventCheckpoint)
	if len(cps) != 2 || cps[0].Step != 5 || cps[1].Step != 10 {
		t.Fatalf("checkpoints %+v, want steps 5 and 10 of 12", cps)
	}
	for _, f := range []string{configFile, weightsFile, tokenizerFile, optimizerFile, stateFile, plugins.MetricsFile} {
		if _, err := os.Stat(filepath.Join(cps[0].Dir, f)); err != nil {
			t.Errorf("checkpoint lacks %s", f)
		}
	}

	// Resume from step 5.
	resumed := map[string]string{plugins.InputResume: cps[0].Dir}
	for k, v := range inputs {
		resumed[k] = v
	}
	outC, rec, res := train(t, plugins.KindSFT, resumed, params+`, "log_every": 1}`, "")
	prog := rec.of(plugins.EventProgress)
	if len(prog) != 7 || prog[0].Step != 6 || res.Step != 12 {
		t.Fatalf("resumed run: %d progress events from step %d to %d; want 7 from 6 to 12", len(prog), prog[0].Step, res.Step)
	}
	if a, c := digestDir(t, outA), digestDir(t, outC); a != c {
		t.Fatalf("resumed run differs from an uninterrupted one: %s vs %s", a, c)
	}
	// The training log holds every step, the first attempt's included,
	// whatever log_every was.
	b, err := os.ReadFile(filepath.Join(outC, plugins.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 12 || !strings.HasPrefix(lines[0], `{"loss":`) || !strings.HasSuffix(lines[0], `"step":1}`) || !strings.HasSuffix(lines[11], `"step":12}`) {
		t.Errorf("training log of the resumed run:\n%s", b)
	}

	// A checkpoint from other params is refused.
	_, err = New().Train(t.Context(), plugins.TrainRequest{Kind: plugins.KindSFT, Inputs: resumed,
		Params: []byte(`{"epochs": 3, "batch_size": 4, "seed": 2}`), OutputDir: t.TempDir()}, plugins.Discard)
	if !errdefs.IsFailedPrecondition(err) {
		t.Errorf("resume with other params: got %v, want FailedPrecondition", err)
	}
}

func TestPretrainResume(t *testing.T) {
	data := writeFile(t, t.TempDir(), corpusFile, corpus())
	inputs := map[string]string{plugins.InputData: data}
	params := `{` + tinyArch + `, "steps": 6, "batch_size": 4, "warmup_steps": 2, "checkpoint_every": 4}`
	ckpts := t.TempDir()
	outA, rec, _ := train(t, plugins.KindPretrain, inputs, params, ckpts)
	cps := rec.of(plugins.EventCheckpoint)
	if len(cps) != 1 {
		t.Fatalf("checkpoints %+v", cps)
	}
	inputs[plugins.InputResume] = cps[0].Dir
	outB, _, _ := train(t, plugins.KindPretrain, inputs, params, "")
	if a, b := digestDir(t, outA), digestDir(t, outB); a != b {
		t.Fatalf("resumed pretrain differs: %s vs %s", a, b)
	}
}

func TestBadInputs(t *testing.T) {
	base := baseModel(t)
	cases := []struct {
		name, kind, file, content, params string
		check                             func(error) bool
	}{
		{"sft record in dpo", "dpo", recordsFile, `{"prompt": "a", "response": "b"}` + "\n", `{}`, errdefs.IsInvalidArgument},
		{"bad json line 2", "sft", recordsFile, `{"prompt": "a", "response": "b"}` + "\n{oops\n", `{}`, errdefs.IsInvalidArgument},
		{"missing field", "sft", recordsFile, `{"prompt": "a"}` + "\n", `{}`, errdefs.IsInvalidArgument},
		{"corpus for sft", "sft", corpusFile, "hello\n", `{}`, errdefs.IsInvalidArgument},
		{"no data file", "sft", "other.txt", "x", `{}`, errdefs.IsNotFound},
		{"unknown param", "sft", recordsFile, `{"prompt": "a", "response": "b"}` + "\n", `{"lora": {"rnk": 2}}`, errdefs.IsInvalidArgument},
		{"unknown module", "sft", recordsFile, `{"prompt": "a", "response": "b"}` + "\n", `{"lora": {"target_modules": ["qq"]}}`, errdefs.IsInvalidArgument},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := writeFile(t, t.TempDir(), c.file, c.content)
			_, err := New().Train(t.Context(), plugins.TrainRequest{Kind: plugins.Kind(c.kind),
				Inputs: map[string]string{plugins.InputModel: base, plugins.InputData: data},
				Params: []byte(c.params), OutputDir: t.TempDir()}, plugins.Discard)
			if !c.check(err) {
				t.Errorf("got %v", err)
			}
			if c.name == "bad json line 2" && err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%s line 2", filepath.Join(data, recordsFile))) {
				t.Errorf("error does not name the file and line: %v", err)
			}
		})
	}
}

// TestFingerprintBytes pins the checkpoint fingerprint's params encoding
// to what earlier releases wrote (the params with their execution-only
// fields zeroed, in struct order), so checkpoints stored before an
// upgrade still resume after it.
func TestFingerprintBytes(t *testing.T) {
	p, err := parseParams([]byte(`{"log_every": 3, "checkpoint_every": 7, "score_batch_size": 5, "steps": 9}`))
	if err != nil {
		t.Fatal(err)
	}
	old := p
	old.LogEvery, old.CheckpointEvery, old.ScoreBatchSize = 0, 0, 0
	want, _ := json.Marshal(old)
	if got := p.fingerprintJSON(); string(got) != string(want) {
		t.Errorf("fingerprint params\n%s\nwant\n%s", got, want)
	}
}
