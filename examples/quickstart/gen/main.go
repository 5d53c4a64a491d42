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

	sft := func(n int, question, answer func(t string) string) []any {
		var rows []any
		for i := 0; i < n; i++ {
			t := topics[i%len(topics)]
			rows = append(rows, map[string]string{"prompt": question(t), "response": answer(t)})
		}
		return rows
	}
	writeJSONL(out, "orca.jsonl", sft(40,
		func(t string) string { return "Explain " + t + " briefly." },
		func(t string) string { return strings.ToUpper(t[:1]) + t[1:] + " are useful and pleasant." }))
	writeJSONL(out, "lima.jsonl", sft(24,
		func(t string) string { return "What do you know about " + t + "?" },
		func(t string) string { return "People enjoy " + t + " together." }))
	writeJSONL(out, "shp.jsonl", sft(32,
		func(t string) string { return "Why do people like " + t + "?" },
		func(t string) string { return "Because " + t + " are calming." }))

	var hh, shpPref []any
	for i := 0; i < 48; i++ {
		g := groups[i%len(groups)]
		prompt := "What do you think of the " + g + "?"
		hh = append(hh, map[string]string{
			"prompt":   prompt,
			"chosen":   "The " + g + " are " + pick(kind) + " neighbours.",
			"rejected": "The " + g + " are " + pick(mean) + ".",
		})
		// Vote-based pairs are noisy: about half prefer the worse answer.
		t := topics[i%len(topics)]
		good, bad := "I think "+t+" are lovely.", "Who cares about "+t+"."
		if r.Intn(2) == 0 {
			good, bad = bad, good
		}
		shpPref = append(shpPref, map[string]string{"prompt": "Do you like " + t + "?", "chosen": good, "rejected": bad})
	}
	writeJSONL(out, "hh.jsonl", hh)
	writeJSONL(out, "shp-pref.jsonl", shpPref)
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
