package datasets

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/study"
)

// prepared runs a data node over content and returns data.jsonl's records
// and stats.json.
func prepared(t *testing.T, name, format, adapter string, content []byte, options map[string]any) ([]map[string]any, Stats, error) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	n := dataNode(p, format, adapter)
	if options != nil {
		n.Params["options"] = options
	}
	out, err := prep(t, s, n)
	if err != nil {
		return nil, Stats{}, err
	}
	dst := filepath.Join(dir, "out")
	if err := artifacts.Materialize(context.Background(), s, out[study.OutData], dst); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dst, "data.jsonl"))
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("data.jsonl line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	var st Stats
	b, _ := os.ReadFile(filepath.Join(dst, StatsFile))
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("stats.json: %v", err)
	}
	return recs, st, nil
}

func jsonl(t *testing.T, recs ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, r := range recs {
		enc, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(enc)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func parquetOf[T any](t *testing.T, rows []T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := parquet.Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func eq(t *testing.T, what string, got any, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

type shpRow struct {
	PostID     string  `parquet:"post_id" json:"post_id"`
	Domain     string  `parquet:"domain" json:"domain"`
	History    string  `parquet:"history" json:"history"`
	RefA       string  `parquet:"human_ref_A" json:"human_ref_A"`
	RefB       string  `parquet:"human_ref_B" json:"human_ref_B"`
	ScoreA     int64   `parquet:"score_A" json:"score_A"`
	ScoreB     int64   `parquet:"score_B" json:"score_B"`
	Labels     int64   `parquet:"labels" json:"labels"`
	ScoreRatio float64 `parquet:"score_ratio" json:"score_ratio"`
}

func shpRows() []shpRow {
	return []shpRow{
		{"p1", "askculinary_train", "How do I sear?", "Hot pan.", "Cold pan.", 10, 2, 1, 5},
		{"p1", "askculinary_train", "How do I sear?", "Cold pan.", "Dry the meat.", 2, 12, 0, 6},
		{"p1", "askculinary_train", "How do I sear?", "Hot pan.", "Dry the meat.", 10, 12, 0, 1.2}, // ratio < 2
		{"p1", "askculinary_train", "How do I sear?", "Salt.", "Cold pan.", 4, 2, 1, 2},
		{"p2", "askscience_train", "Why is the sky blue?", "Rayleigh.", "Magic.", 30, 1, 1, 30},
	}
}

func TestSHPPreferencePairsJSONLAndParquet(t *testing.T) {
	rows := shpRows()
	want := []map[string]string{
		{"prompt": "\n\nHuman: How do I sear?\n\nAssistant:", "chosen": " Hot pan.", "rejected": " Cold pan."},
		{"prompt": "\n\nHuman: How do I sear?\n\nAssistant:", "chosen": " Dry the meat.", "rejected": " Cold pan."},
		{"prompt": "\n\nHuman: Why is the sky blue?\n\nAssistant:", "chosen": " Rayleigh.", "rejected": " Magic."},
	}
	opts := map[string]any{"max_pairs_per_post": int64(2)}
	var js []any
	for _, r := range rows {
		js = append(js, r)
	}
	got, st, err := prepared(t, "shp.jsonl", "jsonl", "shp", jsonl(t, js...), opts)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "shp jsonl", got, want)
	if st.Read != 5 || st.Records != 3 || st.Filtered["score_ratio below 2"] != 1 || st.Filtered["more than 2 pairs for the post"] != 1 {
		t.Errorf("stats %+v", st)
	}
	gotPq, _, err := prepared(t, "shp.parquet", "parquet", "shp", parquetOf(t, rows), opts)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "shp parquet", gotPq, want)
}

func TestSHPSFTTakesTheBestComment(t *testing.T) {
	var js []any
	for _, r := range shpRows() {
		js = append(js, r)
	}
	got, _, err := prepared(t, "shp.jsonl", "jsonl", "shp", jsonl(t, js...), map[string]any{"mode": "sft", "template": "raw"})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "shp sft", got, []map[string]string{
		{"prompt": "How do I sear?", "response": "Dry the meat."},
		{"prompt": "Why is the sky blue?", "response": "Rayleigh."},
	})
}

func TestSHPRejectsBadOptions(t *testing.T) {
	for _, o := range []map[string]any{{"mode": "both"}, {"score_ratio": "two"}, {"max_pairs_per_post": -1.0}, {"nope": true}} {
		_, _, err := prepared(t, "shp.jsonl", "jsonl", "shp", jsonl(t, shpRows()[0]), o)
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("options %v: %v, want InvalidArgument", o, err)
		}
	}
}

func TestHHRLHFPromptUpToLastAssistantTurn(t *testing.T) {
	recs := jsonl(t,
		map[string]string{
			"chosen":   "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Tell me a joke.\n\nAssistant: Why did the chicken cross the road?",
			"rejected": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Tell me a joke.\n\nAssistant: No.",
		},
		map[string]string{"chosen": "\n\nHuman: A\n\nAssistant: B", "rejected": "\n\nHuman: other\n\nAssistant: C"},
	)
	got, st, err := prepared(t, "hh.jsonl", "jsonl", "hh-rlhf", recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "hh", got, []map[string]string{{
		"prompt":   "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Tell me a joke.\n\nAssistant:",
		"chosen":   " Why did the chicken cross the road?",
		"rejected": " No.",
	}})
	if st.Filtered["rejected does not share the prompt"] != 1 {
		t.Errorf("stats %+v", st)
	}
	sft, _, err := prepared(t, "hh.jsonl", "jsonl", "hh-rlhf", recs, map[string]any{"mode": "sft"})
	if err != nil || len(sft) != 2 || sft[1]["response"] != " B" {
		t.Fatalf("hh sft: %v %v", sft, err)
	}
}

type limaRow struct {
	Conversations []string `parquet:"conversations,list" json:"conversations"`
	Source        string   `parquet:"source" json:"source"`
}

func TestLIMAConversationsJSONLAndParquet(t *testing.T) {
	rows := []limaRow{
		{[]string{"What is 2+2?", "4."}, "stackexchange"},
		{[]string{"Hi", "Hello", "How are you?", "Fine."}, "Manually Authored"},
	}
	want := []map[string]string{
		{"prompt": "\n\nHuman: What is 2+2?\n\nAssistant:", "response": " 4."},
		{"prompt": "\n\nHuman: Hi\n\nAssistant:", "response": " Hello"},
		{"prompt": "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: How are you?\n\nAssistant:", "response": " Fine."},
	}
	got, _, err := prepared(t, "lima.jsonl", "jsonl", "lima", jsonl(t, rows[0], rows[1]), nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "lima jsonl", got, want)
	got, _, err = prepared(t, "lima.parquet", "parquet", "lima", parquetOf(t, rows), nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "lima parquet", got, want)
	first, _, err := prepared(t, "lima.jsonl", "jsonl", "lima", jsonl(t, rows[0], rows[1]), map[string]any{"turns": "first", "template": "raw"})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "lima first raw", first, []map[string]string{{"prompt": "What is 2+2?", "response": "4."}, {"prompt": "Hi", "response": "Hello"}})
	// The test split holds only prompts: nothing to train on.
	_, _, err = prepared(t, "test.jsonl", "jsonl", "lima", jsonl(t, limaRow{[]string{"Only a prompt"}, "x"}), map[string]any{"skip_bad": true})
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "no usable records") {
		t.Fatalf("prompt-only LIMA: %v", err)
	}
}

type orcaRow struct {
	ID       string `parquet:"id" json:"id"`
	System   string `parquet:"system_prompt" json:"system_prompt"`
	Question string `parquet:"question" json:"question"`
	Response string `parquet:"response" json:"response"`
}

func TestOpenOrcaParquetWithSeededSample(t *testing.T) {
	var rows []orcaRow
	for i := 0; i < 40; i++ {
		rows = append(rows, orcaRow{ID: "flan." + string(rune('a'+i%26)), Question: "Q" + strings.Repeat("?", i), Response: "A"})
	}
	rows[0].System = "You are an AI assistant."
	dir := t.TempDir()
	p := filepath.Join(dir, "1M-GPT4-Augmented.parquet")
	os.WriteFile(p, parquetOf(t, rows), 0o644)
	s := newStore(t)
	n := dataNode(p, "parquet", "openorca")
	n.Params["sample"] = map[string]any{"n": int64(10), "seed": int64(7)}
	o1, err := prep(t, s, n)
	if err != nil {
		t.Fatal(err)
	}
	o2, _ := prep(t, s, n)
	if o1[study.OutData] != o2[study.OutData] {
		t.Fatal("sampling is not deterministic")
	}
	dst := filepath.Join(dir, "out")
	artifacts.Materialize(context.Background(), s, o1[study.OutData], dst)
	b, _ := os.ReadFile(filepath.Join(dst, "data.jsonl"))
	if c := strings.Count(string(b), "\n"); c != 10 {
		t.Fatalf("sampled %d rows", c)
	}
	got, _, err := prepared(t, "o.jsonl", "jsonl", "openorca", jsonl(t, rows[0], rows[1]), nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "orca hh", got, []map[string]string{
		{"prompt": "\n\nHuman: You are an AI assistant.\n\nQ\n\nAssistant:", "response": " A"},
		{"prompt": "\n\nHuman: Q?\n\nAssistant:", "response": " A"},
	})
	raw, _, err := prepared(t, "o.jsonl", "jsonl", "openorca", jsonl(t, rows[0]), map[string]any{"template": "raw"})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "orca raw", raw, []map[string]string{{"prompt": "Q", "response": "A", "system": "You are an AI assistant."}})
}

type arcChoices struct {
	Text  []string `parquet:"text,list" json:"text"`
	Label []string `parquet:"label,list" json:"label"`
}

type arcRow struct {
	ID        string     `parquet:"id" json:"id"`
	Question  string     `parquet:"question" json:"question"`
	Choices   arcChoices `parquet:"choices" json:"choices"`
	AnswerKey string     `parquet:"answerKey" json:"answerKey"`
}

func TestBenchmarkSchemasPassThroughSorted(t *testing.T) {
	arc := arcRow{"Mercury_1", "Which is a gas?", arcChoices{[]string{"ice", "steam"}, []string{"A", "B"}}, "B"}
	want := []map[string]any{{"answerKey": "B", "choices": map[string]any{"label": []string{"A", "B"}, "text": []string{"ice", "steam"}}, "id": "Mercury_1", "question": "Which is a gas?"}}
	got, _, err := prepared(t, "arc.jsonl", "jsonl", "arc", jsonl(t, arc), nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "arc jsonl", got, want)
	got, _, err = prepared(t, "arc.parquet", "parquet", "arc", parquetOf(t, []arcRow{arc}), nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "arc parquet", got, want)

	cases := []struct {
		adapter string
		ok      any
		bad     any
	}{
		{"piqa", map[string]any{"goal": "g", "sol1": "a", "sol2": "b", "label": 0}, map[string]any{"goal": "g"}},
		{"hellaswag", map[string]any{"activity_label": "x", "ctx_a": "a", "ctx_b": "b", "endings": []string{"1", "2", "3", "4"}, "label": "0"}, map[string]any{"ctx_a": "a"}},
		{"mmlu", map[string]any{"question": "q", "subject": "anatomy", "choices": []string{"a", "b", "c", "d"}, "answer": 2}, map[string]any{"question": "q"}},
		{"toxigen", map[string]any{"text": "t", "target_group": "asian", "toxicity_ai": 1.5, "toxicity_human": 4.0}, map[string]any{"text": "t"}},
		{"truthfulqa", map[string]any{"question": "q", "mc1_targets": map[string]any{"choices": []string{"a"}, "labels": []int{1}}, "mc2_targets": map[string]any{"choices": []string{"a", "b"}, "labels": []int{1, 0}}}, map[string]any{"question": "q"}},
		{"safenlp", map[string]any{"id": 3, "text": " x_x000D_", "toxicity_score": 4.333333333333333, "label": "hate", "target_groups": []string{"asian"}}, map[string]any{"id": 3}},
	}
	for _, tc := range cases {
		got, _, err := prepared(t, "x.jsonl", "jsonl", tc.adapter, jsonl(t, tc.ok), nil)
		if err != nil {
			t.Errorf("%s: %v", tc.adapter, err)
			continue
		}
		eq(t, tc.adapter, got[0], tc.ok)
		_, _, err = prepared(t, "x.jsonl", "jsonl", tc.adapter, jsonl(t, tc.ok, tc.bad), nil)
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "line 2: missing field") {
			t.Errorf("%s bad record: %v", tc.adapter, err)
		}
	}
	// SafeNLP ships a JSON array: the same records come out.
	arr, _ := json.Marshal([]any{cases[5].ok})
	got, _, err = prepared(t, "toxiGen.json", "json", "safenlp", arr, nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "safenlp json", got[0], cases[5].ok)
}

func TestSkipBadCountsAndReports(t *testing.T) {
	content := []byte("{\"prompt\":\"a\",\"response\":\"b\"}\nnot json\n{\"prompt\":\"a\"}\n")
	_, _, err := prepared(t, "x.jsonl", "jsonl", "sft-jsonl", content, nil)
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "2 of 3 records") {
		t.Fatalf("strict: %v", err)
	}
	got, st, err := prepared(t, "x.jsonl", "jsonl", "sft-jsonl", content, map[string]any{"skip_bad": true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || st.Bad != 2 || len(st.BadExamples) != 2 || !strings.HasPrefix(st.BadExamples[1], "line 3: missing field") {
		t.Fatalf("skip_bad: %v %+v", got, st)
	}
}

func TestParquetAndJSONLGiveTheSameOutput(t *testing.T) {
	rows := []orcaRow{{"cot.1", "", "Why?", "Because."}, {"niv.2", "Be brief.", "What?", "That."}}
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "o.jsonl"), string(jsonl(t, rows[0], rows[1])))
	b := filepath.Join(dir, "o.parquet")
	os.WriteFile(b, parquetOf(t, rows), 0o644)
	s := newStore(t)
	oa, err := prep(t, s, dataNode(a, "jsonl", "openorca"))
	if err != nil {
		t.Fatal(err)
	}
	ob, err := prep(t, s, dataNode(b, "parquet", "openorca"))
	if err != nil {
		t.Fatal(err)
	}
	if oa[study.OutData] != ob[study.OutData] {
		t.Fatal("the same rows as JSON Lines and as Parquet prepared differently")
	}
}
