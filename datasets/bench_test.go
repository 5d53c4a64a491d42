package datasets

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"
)

// BenchmarkAdapterThroughput converts a synthetic OpenOrca / HH-RLHF /
// SHP file and compares it with only reading the same file line by line
// (scan + JSON validity check, no conversion): records/s for both and
// their ratio (adapter time / plain read time).
func BenchmarkAdapterThroughput(b *testing.B) {
	const n = 20000
	gen := map[string]func(i int) any{
		"openorca": func(i int) any {
			return map[string]any{"id": fmt.Sprintf("flan.%d", i), "system_prompt": "You are an AI assistant.", "question": fmt.Sprintf("Question %d: what is the answer to this moderately long question?", i), "response": "An answer of a typical length, a sentence or two long."}
		},
		"hh-rlhf": func(i int) any {
			p := fmt.Sprintf("\n\nHuman: Question %d?\n\nAssistant: Sure.\n\nHuman: More?\n\nAssistant:", i)
			return map[string]any{"chosen": p + " A helpful answer.", "rejected": p + " An unhelpful answer."}
		},
		"shp": func(i int) any {
			return map[string]any{"post_id": fmt.Sprintf("p%d", i/3), "domain": "askculinary_train", "history": "How do I sear a steak properly?", "human_ref_A": "Hot pan, dry meat.", "human_ref_B": "Cold pan.", "score_A": 10 + i%7, "score_B": 2, "labels": 1, "score_ratio": 5.0, "upvote_ratio": 0.9}
		},
	}
	for _, name := range []string{"openorca", "hh-rlhf", "shp"} {
		var buf bytes.Buffer
		for i := 0; i < n; i++ {
			enc, _ := json.Marshal(gen[name](i))
			buf.Write(enc)
			buf.WriteByte('\n')
		}
		data := buf.Bytes()
		var plain, adapted time.Duration
		b.Run(name+"/read", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			start := time.Now()
			for b.Loop() {
				sc := bufio.NewScanner(bytes.NewReader(data))
				sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
				for sc.Scan() {
					if !json.Valid(sc.Bytes()) {
						b.Fatal("invalid")
					}
				}
			}
			plain = time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(n)/plain.Seconds(), "records/s")
		})
		b.Run(name+"/adapt", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			start := time.Now()
			for b.Loop() {
				conv, err := newConverter(name, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := convert(context.Background(), io.Reader(bytes.NewReader(data)), "jsonl", conv, false); err != nil {
					b.Fatal(err)
				}
			}
			adapted = time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(n)/adapted.Seconds(), "records/s")
			if plain > 0 {
				b.ReportMetric(float64(adapted)/float64(plain), "x-read-time")
			}
		})
	}
}
