package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	"go.temporal.io/sdk/activity"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/eval"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/host"
	"github.com/dagproject/dag/runs"
	"github.com/dagproject/dag/study"
)

// scoreBatch is how many requests go to the plugin between heartbeats.
const scoreBatch = 256

// pluginScorer answers eval's requests with a launched plugin and a model
// folder.
type pluginScorer struct {
	client     plugins.Scorer
	checkpoint string
	params     json.RawMessage
}

func (s *pluginScorer) Loglikelihood(ctx context.Context, reqs []eval.Request) ([]eval.Result, error) {
	q := make([]plugins.LoglikelihoodRequest, len(reqs))
	for i, r := range reqs {
		q[i] = plugins.LoglikelihoodRequest{Context: r.Context, Continuation: r.Continuation, BOSContext: r.BOSContext}
	}
	resp, err := s.client.Score(ctx, plugins.ScoreRequest{Checkpoint: s.checkpoint, Params: s.params, Requests: q})
	if err != nil {
		return nil, err
	}
	out := make([]eval.Result, len(resp.Results))
	for i, r := range resp.Results {
		out[i] = eval.Result{Logprob: r.Logprob, Tokens: r.Tokens, Greedy: r.Greedy}
	}
	return out, nil
}

var _ eval.Scorer = (*pluginScorer)(nil)

// evaluate runs an eval or safety node: it materialises the model and the
// data (and few-shot data), scores every request with the node's plugin,
// heartbeating requests done of total, and stores result.json as the
// node's result folder. A bad task, parameter or record is
// InvalidArgument.
func (a *Activities) evaluate(ctx context.Context, studyName string, n *study.Node, in runs.NodeRef, key digest.Digest, info host.Info) (runs.RunResult, error) {
	if in.Inputs[plugins.InputModel] == "" || in.Inputs[plugins.InputData] == "" {
		return runs.RunResult{}, fmt.Errorf("node %s: needs model and data inputs: %w", n.ID, errdefs.ErrInvalidArgument)
	}
	st, err := a.startStage(ctx, studyName, n, in, key, info)
	if err != nil {
		return runs.RunResult{}, err
	}
	defer st.close()
	paths, dir, client := st.inputs, st.dir, st.client
	scorer := &pluginScorer{client: client, checkpoint: paths[plugins.InputModel]}
	progress := func(done, total int) {
		activity.RecordHeartbeat(ctx, runs.Progress{Step: int64(done), Total: int64(total)})
	}

	var result any
	res := runs.RunResult{Metrics: map[string]float64{}}
	if n.Kind == study.KindSafety {
		if len(n.Params) > 0 {
			if scorer.params, err = json.Marshal(n.Params); err != nil {
				return runs.RunResult{}, err
			}
		}
		rep, err := eval.EvaluateSafetyNode(ctx, scorer, paths[plugins.InputData], scoreBatch, progress)
		if err != nil {
			return runs.RunResult{}, fmt.Errorf("node %s: %w", n.ID, err)
		}
		for _, g := range eval.SortedGroups(rep.Groups) {
			res.Metrics[g] = rep.Groups[g].Score
		}
		result = rep
	} else {
		rep, err := eval.EvaluateNode(ctx, scorer, n.Params, paths[plugins.InputData], paths[study.InputFewshot], scoreBatch, progress)
		if err != nil {
			return runs.RunResult{}, fmt.Errorf("node %s: %w", n.ID, err)
		}
		for m, v := range rep.Metrics {
			res.Metrics[m] = v.Value
		}
		result = rep
	}

	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return runs.RunResult{}, err
	}
	b, err := json.MarshalIndent(result, "", "  ")
	if err != nil {
		return runs.RunResult{}, fmt.Errorf("node %s: result: %w", n.ID, err)
	}
	if err := os.WriteFile(filepath.Join(out, eval.ResultFile), append(b, '\n'), 0o644); err != nil {
		return runs.RunResult{}, err
	}
	d, err := artifacts.PutDir(ctx, a.store, out)
	if err != nil {
		return runs.RunResult{}, fmt.Errorf("store result: %w", err)
	}
	res.Outputs = map[string]digest.Digest{study.OutResult: d}
	return res, nil
}
