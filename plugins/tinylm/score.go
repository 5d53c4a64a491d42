package tinylm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/sdk"
)

// scoreWorkers is how many batches a scorer runs at once, one goroutine
// and executable each: the backend runs one graph's ops one after another
// (backendConfig), so this is what keeps the cores busy. Each batch's
// results are the same whichever worker computes it.
const scoreWorkers = 2

// scorer computes log-likelihoods with one model.
type scorer struct {
	cfg     Config
	names   []string
	weights []*tensors.Tensor
	execs   [scoreWorkers]*Exec
}

func newScorer(c Config, w Weights) (*scorer, error) {
	backend, err := getBackend()
	if err != nil {
		return nil, err
	}
	s := &scorer{cfg: c, names: w.names()}
	for _, n := range s.names {
		t := toTensor(w[n])
		// Moved to the backend now: workers read the weights at once
		// (see newTrainer).
		if err := t.MaterializeOnDevice(backend, true, 0); err != nil {
			return nil, err
		}
		s.weights = append(s.weights, t)
	}
	for i := range s.execs {
		s.execs[i], err = NewExec(backend, func(g *Graph, in []*Node) []*Node {
			p := netParams{}
			for i, n := range s.names {
				p[n] = in[i]
			}
			tokens, targets := in[len(s.names)], in[len(s.names)+1]
			logp, greedy := tokenLogprobs(forward(c, p, tokens, nil), targets, c.VocabSize)
			return []*Node{logp, greedy}
		})
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// scoreRow is one request laid out as a model input.
type scoreRow struct {
	seq   []int32 // the model reads seq[:-1] and predicts seq[1:]
	nCont int     // the last nCont predictions are the continuation
}

// layout encodes a request as lm-evaluation-harness v0.4 does for causal
// models (docs/plugins.md, "Score"): trailing whitespace of the context
// moves to the continuation; the context is BOS for bos_context, EOS when
// empty (the harness's end-of-text), otherwise its bytes (after a BOS
// with addBOS); the sequence keeps its last context+1 tokens and the
// model reads all but the last.
func layout(q plugins.LoglikelihoodRequest, context int, addBOS bool) scoreRow {
	ctx, cont := q.Context, q.Continuation
	if trimmed := strings.TrimRightFunc(ctx, unicode.IsSpace); len(trimmed) < len(ctx) {
		cont = ctx[len(trimmed):] + cont
		ctx = trimmed
	}
	var ct []int32
	switch {
	case q.BOSContext:
		ct = []int32{BOS}
	case ctx == "":
		ct = []int32{EOS}
	case addBOS:
		ct = append([]int32{BOS}, encode(ctx)...)
	default:
		ct = encode(ctx)
	}
	whole := append(ct, encode(cont)...)
	if len(whole) > context+1 {
		whole = whole[len(whole)-(context+1):]
	}
	return scoreRow{seq: whole, nCont: min(len(cont), len(whole)-1)}
}

// score returns the results of reqs, in order, running rows of similar
// length together in batches of batchSize rows.
func (s *scorer) score(ctx context.Context, reqs []plugins.LoglikelihoodRequest, batchSize int, addBOS bool) ([]plugins.LoglikelihoodResult, error) {
	rows := make([]scoreRow, len(reqs))
	order := make([]int, len(reqs))
	for i, q := range reqs {
		rows[i] = layout(q, s.cfg.Context, addBOS)
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(rows[a].seq) - len(rows[b].seq) })
	out := make([]plugins.LoglikelihoodResult, len(reqs))
	var next atomic.Int64 // the next batch, as its first position in order
	errs := make([]error, scoreWorkers)
	var wg sync.WaitGroup
	for w := range scoreWorkers {
		wg.Go(func() {
			for {
				lo := int(next.Add(int64(batchSize))) - batchSize
				if lo >= len(order) {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[w] = fmt.Errorf("score: %w", err)
					return
				}
				if err := s.scoreBatch(s.execs[w], rows, order[lo:min(lo+batchSize, len(order))], batchSize, out); err != nil {
					errs[w] = fmt.Errorf("score: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// scoreBatch scores rows[idx] as one batch of batchSize rows with exec,
// writing out[idx].
func (s *scorer) scoreBatch(exec *Exec, rows []scoreRow, idx []int, batchSize int, out []plugins.LoglikelihoodResult) error {
	longest := 1
	for _, i := range idx {
		longest = max(longest, len(rows[i].seq)-1)
	}
	b := newBatch(batchSize, bucket(longest, s.cfg.Context))
	for r, i := range idx {
		b.setRow(r, rows[i].seq, 0)
	}
	args := make([]any, 0, len(s.weights)+2)
	for _, w := range s.weights {
		args = append(args, w)
	}
	args = append(args, tensors.FromFlatDataAndDimensions(b.tokens, b.rows, b.length),
		tensors.FromFlatDataAndDimensions(b.targets, b.rows, b.length))
	res, err := exec.Exec(args...)
	if err != nil {
		return err
	}
	logp := tensors.MustCopyFlatData[float32](res[0])
	greedy := tensors.MustCopyFlatData[float32](res[1])
	release(res)
	for r, i := range idx {
		row := rows[i]
		n := len(row.seq) - 1
		res := plugins.LoglikelihoodResult{Tokens: row.nCont, Greedy: true}
		for j := n - row.nCont; j < n; j++ {
			res.Logprob += float64(logp[r*b.length+j])
			res.Greedy = res.Greedy && greedy[r*b.length+j] == 1
		}
		out[i] = res
	}
	return nil
}

// Score computes log-likelihoods with the model in req.Checkpoint (see
// plugins.Scorer).
func (p *plugin) Score(ctx context.Context, req plugins.ScoreRequest) (plugins.ScoreResponse, error) {
	if err := req.Validate(); err != nil {
		return plugins.ScoreResponse{}, err
	}
	prm, err := parseParams(req.Params)
	if err != nil {
		return plugins.ScoreResponse{}, err
	}
	s, err := p.scorerFor(req.Checkpoint)
	if err != nil {
		return plugins.ScoreResponse{}, err
	}
	return sdk.ScoreBatches(ctx, req, 1024, func(ctx context.Context, reqs []plugins.LoglikelihoodRequest) ([]plugins.LoglikelihoodResult, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return s.score(ctx, reqs, prm.ScoreBatchSize, prm.AddBOS)
	})
}

// scorerFor returns the scorer of the model in dir, reusing the last one
// when dir is the same (model folders do not change).
func (p *plugin) scorerFor(dir string) (*scorer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.scorer != nil && p.scorerDir == dir {
		return p.scorer, nil
	}
	c, w, err := readModel(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	s, err := newScorer(c, w)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %v: %w", dir, err, errdefs.ErrFailedPrecondition)
	}
	// The previous scorer is dropped, not closed: a concurrent Score may
	// still be using it; the garbage collector frees it.
	p.scorer, p.scorerDir = s, dir
	return s, nil
}
