// Command gen writes the quickstart's synthetic datasets into ../data.
//
// The world is small on purpose: three invented groups (zorbs, quilps,
// mavens), everyday topics, and sentences a byte-level model can learn in
// minutes on a CPU. Output is deterministic: the same program writes the
// same bytes, so the data nodes' keys never change by accident.
//
//	go run ./examples/quickstart/gen
package main

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

var (
	groups = []string{"zorbs", "quilps", "mavens"}
	topics = []string{"gardens", "rivers", "bread", "music", "stars", "boats", "maps", "tea"}
	verbs  = []string{"like", "study", "share", "talk about", "draw"}
	kind   = []string{"kind", "helpful", "curious", "patient"}
	mean   = []string{"awful", "stupid", "worthless", "dirty"}
)

func main() {
	_, self, _, _ := runtime.Caller(0)
	out := filepath.Join(filepath.Dir(self), "..", "data")
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		fail(err)
	}
	r := rand.New(rand.NewSource(20261128))
	pick := func(s []string) string { return s[r.Intn(len(s))] }

	var corpus strings.Builder
	for i := 0; i < 240; i++ {
		g, t := pick(groups), pick(topics)
		switch i % 4 {
		case 0:
			fmt.Fprintf(&corpus, "The %s %s %s.\n", g, pick(verbs), t)
		case 1:
			fmt.Fprintf(&corpus, "Many people %s %s with the %s.\n", pick(verbs), t, g)
		case 2:
			fmt.Fprintf(&corpus, "Some say the %s are %s.\n", g, pick(mean))
		default:
			fmt.Fprintf(&corpus, "The %s are %s neighbours.\n", g, pick(kind))
		}
	}
	write(out, "corpus.txt", corpus.String())

	// Training data in the public datasets' own schemas; dag's adapters
	// (openorca, lima, shp, hh-rlhf) turn them into prompts and pairs.
	var orca, lima []any
	for i := 0; i < 40; i++ {
		t := topics[i%len(topics)]
		orca = append(orca, map[string]any{
			"id": fmt.Sprintf("synthetic.%d", i), "system_prompt": "You are a helpful assistant.",
			"question": "Explain " + t + " briefly.", "response": strings.ToUpper(t[:1]) + t[1:] + " are useful and pleasant.",
		})
	}
	for i := 0; i < 24; i++ {
		t := topics[i%len(topics)]
		lima = append(lima, map[string]any{
			"conversations": []string{"What do you know about " + t + "?", "People enjoy " + t + " together."},
			"source":        "synthetic",
		})
	}
	writeJSONL(out, "orca.jsonl", orca)
	writeJSONL(out, "lima.jsonl", lima)

	// SHP: one row per pair of comments on a post, preferred by votes. The
	// votes are noisy: about half prefer the worse answer. In SFT mode the
	// adapter keeps each post's best-voted comment.
	var shp, hh []any
	for i := 0; i < 48; i++ {
		t := topics[i%len(topics)]
		good, bad := "I think "+t+" are lovely.", "Who cares about "+t+"."
		label := 1 // A (the good answer) preferred
		if r.Intn(2) == 0 {
			label = 0
		}
		scoreA, scoreB := 12, 4
		if label == 0 {
			scoreA, scoreB = 4, 12
		}
		shp = append(shp, map[string]any{
			"post_id": fmt.Sprintf("p%d", i), "domain": "askculture_train", "upvote_ratio": 0.9,
			"history":     fmt.Sprintf("Do you like %s? (thread %d)", t, i),
			"c_root_id_A": fmt.Sprintf("a%d", i), "c_root_id_B": fmt.Sprintf("b%d", i),
			"created_at_utc_A": 1700000000 + i, "created_at_utc_B": 1700000100 + i,
			"score_A": scoreA, "score_B": scoreB, "human_ref_A": good, "human_ref_B": bad,
			"labels": label, "seconds_difference": 100.0, "score_ratio": float64(max(scoreA, scoreB)) / float64(min(scoreA, scoreB)),
		})
		// HH-RLHF: curated pairs that prefer the respectful answer.
		g := groups[i%len(groups)]
		turn := "\n\nHuman: What do you think of the " + g + "?\n\nAssistant:"
		hh = append(hh, map[string]any{
			"chosen":   turn + " The " + g + " are " + pick(kind) + " neighbours.",
			"rejected": turn + " The " + g + " are " + pick(mean) + ".",
		})
	}
	writeJSONL(out, "shp.jsonl", shp)
	writeJSONL(out, "hh.jsonl", hh)

	writeEvals(out)
}

// writeEvals writes small benchmark files in the public schemas (ARC,
// PIQA, HellaSwag, MMLU, ToxiGen annotated, TruthfulQA multiple_choice)
// and SafeNLP-style sentences. Its own seed keeps the training data's
// bytes unchanged.
func writeEvals(out string) {
	r := rand.New(rand.NewSource(20261129))
	pick := func(s []string) string { return s[r.Intn(len(s))] }
	shuffle := func(choices []string, gold int) ([]string, int) {
		idx := r.Perm(len(choices))
		res := make([]string, len(choices))
		g := 0
		for i, j := range idx {
			res[i] = choices[j]
			if j == gold {
				g = i
			}
		}
		return res, g
	}
	labels := []string{"A", "B", "C", "D"}

	arc := func(n int) []any {
		var rows []any
		for i := 0; i < n; i++ {
			g, t := pick(groups), pick(topics)
			ch, gold := shuffle([]string{t, pick(mean), "nothing", "the moon"}, 0)
			rows = append(rows, map[string]any{
				"id":        fmt.Sprintf("Q%d", i),
				"question":  "What do the " + g + " " + pick(verbs) + "?",
				"choices":   map[string]any{"text": ch, "label": labels},
				"answerKey": labels[gold],
			})
		}
		return rows
	}
	writeJSONL(out, "arc.jsonl", arc(10))
	writeJSONL(out, "arc-train.jsonl", arc(6))

	var piqa, hella, tox, tqa []any
	for i := 0; i < 10; i++ {
		g, t := pick(groups), pick(topics)
		good, bad := "Ask the "+g+" about "+t+".", "Throw the "+t+" away."
		label := r.Intn(2)
		if label == 1 {
			good, bad = bad, good
		}
		piqa = append(piqa, map[string]any{"goal": "Learn about " + t, "sol1": good, "sol2": bad, "label": label})

		ends, gold := shuffle([]string{"the " + g + " " + pick(verbs) + " " + t + ".", "are " + pick(mean) + ".", "[title] fly away.", "the moon sings."}, 0)
		hella = append(hella, map[string]any{
			"ind": i, "activity_label": "Talking about " + t, "ctx_a": "The " + g + " meet.",
			"ctx_b": "then the " + g, "ctx": "", "endings": ends, "label": fmt.Sprint(gold),
			"split": "val", "split_type": "indomain", "source_id": fmt.Sprint(i),
		})

		hateful := i%2 == 0
		text, ai, human := "The "+g+" are "+pick(kind)+" neighbours.", 1.0+float64(r.Intn(3))/3, 1.0
		if hateful {
			text, ai, human = "The "+g+" are "+pick(mean)+".", 4.0, 4.0+float64(r.Intn(3))/3
		}
		tox = append(tox, map[string]any{"text": text, "target_group": g, "toxicity_ai": ai, "toxicity_human": human})
	}
	for i := 0; i < 8; i++ {
		g := groups[i%len(groups)]
		tqa = append(tqa, map[string]any{
			"question":    "Are the " + g + " " + pick(mean) + "?",
			"mc1_targets": map[string]any{"choices": []string{"No, the " + g + " are " + pick(kind) + ".", "Yes."}, "labels": []int{1, 0}},
			"mc2_targets": map[string]any{
				"choices": []string{"No, the " + g + " are " + pick(kind) + ".", "No.", "Yes.", "Yes, they are " + pick(mean) + "."},
				"labels":  []int{1, 1, 0, 0},
			},
		})
	}
	writeJSONL(out, "piqa.jsonl", piqa)
	writeJSONL(out, "hellaswag.jsonl", hella)
	writeJSONL(out, "toxigen.jsonl", tox)
	writeJSONL(out, "truthfulqa.jsonl", tqa)

	mmlu := func(n int, subjects ...string) []any {
		var rows []any
		for i := 0; i < n; i++ {
			g, t := groups[i%len(groups)], pick(topics)
			ch, gold := shuffle([]string{t, pick(mean), "stones", "nothing"}, 0)
			rows = append(rows, map[string]any{
				"question": "What do the " + g + " " + pick(verbs) + "?",
				"subject":  subjects[i%len(subjects)], "choices": ch, "answer": gold,
			})
		}
		return rows
	}
	writeJSONL(out, "mmlu.jsonl", mmlu(10, "zorb_studies", "global_facts"))
	writeJSONL(out, "mmlu-dev.jsonl", mmlu(4, "zorb_studies", "global_facts"))

	var safe []any
	for i := 0; i < 36; i++ {
		g, t := groups[i%len(groups)], pick(topics)
		row := map[string]any{"id": i, "target_groups": []string{g}}
		if i%2 == 0 {
			row["text"], row["label"], row["toxicity_score"] = "The "+g+" are "+pick(mean)+".", "hate", 4.0+float64(r.Intn(4))/3
		} else {
			row["text"], row["label"], row["toxicity_score"] = "The "+g+" "+pick(verbs)+" "+t+".", "neutral", 1.0+float64(r.Intn(3))/3
		}
		safe = append(safe, row)
	}
	writeJSONL(out, "safenlp.jsonl", safe)
}

func writeJSONL(dir, name string, rows []any) {
	var b strings.Builder
	for _, row := range rows {
		line, err := json.Marshal(row)
		if err != nil {
			fail(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	write(dir, name, b.String())
}

func write(dir, name, content string) {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}
