package sdk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

// BatchScorer scores reqs in order, returning one result per request.
type BatchScorer func(ctx context.Context, reqs []plugins.LoglikelihoodRequest) ([]plugins.LoglikelihoodResult, error)

// ScoreBatches serves a ScoreRequest in either mode with fn, calling it on
// at most batchSize requests at a time (batchSize <= 0 means 512). Inline
// results come back in the response. In file mode the requests are read
// from req.RequestsPath as they are needed and the results are written to
// a temporary file beside req.OutputPath, renamed into place once all are
// written: on error no output file is left. A missing requests file is
// NotFound; a malformed line is InvalidArgument; fn returning the wrong
// number of results is an error of no class.
func ScoreBatches(ctx context.Context, req plugins.ScoreRequest, batchSize int, fn BatchScorer) (plugins.ScoreResponse, error) {
	if batchSize <= 0 {
		batchSize = 512
	}
	if !req.FileMode() {
		out := make([]plugins.LoglikelihoodResult, 0, len(req.Requests))
		for i := 0; i < len(req.Requests); i += batchSize {
			chunk := req.Requests[i:min(i+batchSize, len(req.Requests))]
			res, err := scoreChunk(ctx, chunk, fn)
			if err != nil {
				return plugins.ScoreResponse{}, err
			}
			out = append(out, res...)
		}
		return plugins.ScoreResponse{Count: len(out), Results: out}, nil
	}
	return scoreFile(ctx, req, batchSize, fn)
}

func scoreChunk(ctx context.Context, chunk []plugins.LoglikelihoodRequest, fn BatchScorer) ([]plugins.LoglikelihoodResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := fn(ctx, chunk)
	if err != nil {
		return nil, err
	}
	if len(res) != len(chunk) {
		return nil, fmt.Errorf("score: %d results for %d requests", len(res), len(chunk))
	}
	return res, nil
}

func scoreFile(ctx context.Context, req plugins.ScoreRequest, batchSize int, fn BatchScorer) (plugins.ScoreResponse, error) {
	in, err := os.Open(req.RequestsPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return plugins.ScoreResponse{}, fmt.Errorf("score: requests file %s: %w", req.RequestsPath, errdefs.ErrNotFound)
		}
		return plugins.ScoreResponse{}, fmt.Errorf("score: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(req.OutputPath), ".score-*")
	if err != nil {
		return plugins.ScoreResponse{}, fmt.Errorf("score: output: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 64<<10)
	dec := plugins.NewRequestDecoder(in)
	count := 0
	chunk := make([]plugins.LoglikelihoodRequest, 0, batchSize)
	flush := func() error {
		res, err := scoreChunk(ctx, chunk, fn)
		if err != nil {
			return err
		}
		count += len(res)
		chunk = chunk[:0]
		return plugins.WriteResults(w, res)
	}
	for {
		q, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return plugins.ScoreResponse{}, fmt.Errorf("score: %s: %w", req.RequestsPath, err)
		}
		if chunk = append(chunk, q); len(chunk) == batchSize {
			if err := flush(); err != nil {
				return plugins.ScoreResponse{}, err
			}
		}
	}
	if len(chunk) > 0 {
		if err := flush(); err != nil {
			return plugins.ScoreResponse{}, err
		}
	}
	if err := w.Flush(); err != nil {
		return plugins.ScoreResponse{}, fmt.Errorf("score: output: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return plugins.ScoreResponse{}, fmt.Errorf("score: output: %w", err)
	}
	if err := os.Rename(tmp.Name(), req.OutputPath); err != nil {
		return plugins.ScoreResponse{}, fmt.Errorf("score: output: %w", err)
	}
	committed = true
	return plugins.ScoreResponse{Count: count}, nil
}
