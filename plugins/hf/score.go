package hf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

// Score computes log-likelihoods in a worker (see plugins.Scorer). File
// mode passes the paths through after checking every request line;
// inline mode writes the requests to a scratch folder and reads the
// results back. The worker writes the results file whole or not at all;
// its log lines (progress, tokens/s) go to the WithLog writer.
func (b *backend) Score(ctx context.Context, req plugins.ScoreRequest) (plugins.ScoreResponse, error) {
	p, err := parseParams(req.Params)
	if err != nil {
		return plugins.ScoreResponse{}, err
	}
	in, out := req.RequestsPath, req.OutputPath
	if !req.FileMode() {
		if len(req.Requests) == 0 {
			return plugins.ScoreResponse{Count: 0, Results: []plugins.LoglikelihoodResult{}}, nil
		}
		dir, err := os.MkdirTemp("", "dag-hf-score-")
		if err != nil {
			return plugins.ScoreResponse{}, fmt.Errorf("score: scratch: %w", err)
		}
		defer os.RemoveAll(dir)
		in, out = filepath.Join(dir, "requests.jsonl"), filepath.Join(dir, "results.jsonl")
		if err := writeFile(in, func(w io.Writer) error { return plugins.WriteRequests(w, req.Requests) }); err != nil {
			return plugins.ScoreResponse{}, fmt.Errorf("score: scratch: %w", err)
		}
	}
	n, err := countRequests(in)
	if err != nil {
		return plugins.ScoreResponse{}, err
	}
	wreq := request{Op: "score", Checkpoint: req.Checkpoint, Params: &p, RequestsPath: in, OutputPath: out}
	done, err := b.call(ctx, wreq, func(e event) error {
		if e.Event == evLog {
			fmt.Fprintln(b.o.log, e.Line) // Score has no event stream: its lines go to the plugin's log
		}
		return nil
	})
	if err != nil {
		return plugins.ScoreResponse{}, err
	}
	if done.Count != n {
		return plugins.ScoreResponse{}, fmt.Errorf("score: worker scored %d of %d requests", done.Count, n)
	}
	if req.FileMode() {
		return plugins.ScoreResponse{Count: n}, nil
	}
	f, err := os.Open(out)
	if err != nil {
		return plugins.ScoreResponse{}, fmt.Errorf("score: results: %w", err)
	}
	defer f.Close()
	res, err := plugins.ReadResults(f)
	if err != nil {
		return plugins.ScoreResponse{}, fmt.Errorf("score: results: %w", err)
	}
	if len(res) != n {
		return plugins.ScoreResponse{}, fmt.Errorf("score: %d results for %d requests", len(res), n)
	}
	return plugins.ScoreResponse{Count: n, Results: res}, nil
}

// countRequests checks every line of a requests file; a missing file is
// NotFound, a malformed line InvalidArgument.
func countRequests(path string) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("score: requests file %s: %w", path, errdefs.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("score: %w", err)
	}
	defer f.Close()
	dec := plugins.NewRequestDecoder(f)
	n := 0
	for {
		_, err := dec.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("score: %s: %w", path, err)
		}
		n++
	}
}

func writeFile(path string, fill func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
