package eval

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dagproject/dag/study"
)

// ResultFile is the one file of an eval or safety node's output folder:
// its Report or SafetyReport as JSON.
const ResultFile = "result.json"

// EvaluateNode is what an eval node computes from its params and its
// materialised inputs: the task's documents from the data folder (and the
// few-shot folder, "" for none; ReadFolder), every request scored by s in
// batches, and the report.
func EvaluateNode(ctx context.Context, s Scorer, params map[string]any, data, fewshot string, batch int, progress func(done, total int)) (Report, error) {
	p, err := study.DecodeParams[study.EvalParams](params)
	if err != nil {
		return Report{}, err
	}
	t, err := Lookup(p.Task)
	if err != nil {
		return Report{}, err
	}
	docs, err := ReadFolder(data, func(r io.Reader) ([]Doc, error) { return ReadDocs(t, r, p.Limit) })
	if err != nil {
		return Report{}, fmt.Errorf("data: %w", err)
	}
	var shots []Doc
	if fewshot != "" {
		if shots, err = ReadFolder(fewshot, func(r io.Reader) ([]Doc, error) { return ReadDocs(t, r, 0) }); err != nil {
			return Report{}, fmt.Errorf("fewshot: %w", err)
		}
	}
	return Evaluate(ctx, s, t, docs, shots, p.Shots, batch, progress)
}

// EvaluateSafetyNode is what a safety node computes from its materialised
// data folder: every sentence's perplexity, scored by s, and the SafeNLP
// scores.
func EvaluateSafetyNode(ctx context.Context, s Scorer, data string, batch int, progress func(done, total int)) (SafetyReport, error) {
	sents, err := ReadFolder(data, ReadSentences)
	if err != nil {
		return SafetyReport{}, fmt.Errorf("data: %w", err)
	}
	return EvaluateSafety(ctx, s, sents, batch, progress)
}

// ReadFolder reads the records of a data node's output folder: data.jsonl,
// else data.json, else its only file. Any other folder is
// InvalidArgument.
func ReadFolder[T any](dir string, read func(io.Reader) ([]T, error)) ([]T, error) {
	path := ""
	for _, name := range []string{"data.jsonl", "data.json"} { // datasets.FileName of jsonl and json
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			path = filepath.Join(dir, name)
			break
		}
	}
	if path == "" {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		if len(ents) != 1 || ents[0].IsDir() {
			return nil, invalid("%s: no data.jsonl or data.json", dir)
		}
		path = filepath.Join(dir, ents[0].Name())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return read(f)
}
