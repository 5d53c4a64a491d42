package sdk_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/sdk"
)

func lengths(_ context.Context, reqs []plugins.LoglikelihoodRequest) ([]plugins.LoglikelihoodResult, error) {
	out := make([]plugins.LoglikelihoodResult, len(reqs))
	for i, q := range reqs {
		out[i] = plugins.LoglikelihoodResult{Logprob: -float64(len(q.Continuation)), Tokens: len(q.Continuation), Greedy: q.BOSContext}
	}
	return out, nil
}

func someRequests(n int) []plugins.LoglikelihoodRequest {
	reqs := make([]plugins.LoglikelihoodRequest, n)
	for i := range reqs {
		reqs[i] = plugins.LoglikelihoodRequest{Context: "ctx", Continuation: string(make([]byte, i%9))}
	}
	reqs[3] = plugins.LoglikelihoodRequest{Continuation: "sentence", BOSContext: true}
	return reqs
}

func TestScoreBatchesInline(t *testing.T) {
	reqs := someRequests(1000)
	calls := 0
	res, err := sdk.ScoreBatches(t.Context(), plugins.ScoreRequest{Checkpoint: "/m", Requests: reqs}, 64,
		func(ctx context.Context, q []plugins.LoglikelihoodRequest) ([]plugins.LoglikelihoodResult, error) {
			calls++
			if len(q) > 64 {
				t.Errorf("batch of %d", len(q))
			}
			return lengths(ctx, q)
		})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := lengths(t.Context(), reqs)
	if res.Count != len(reqs) || !reflect.DeepEqual(res.Results, want) || calls != 16 {
		t.Errorf("count %d, %d calls, results equal %v", res.Count, calls, reflect.DeepEqual(res.Results, want))
	}
}

func TestScoreBatchesFile(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "requests.jsonl"), filepath.Join(dir, "results.jsonl")
	reqs := someRequests(100)
	f, _ := os.Create(in)
	if err := plugins.WriteRequests(f, reqs); err != nil {
		t.Fatal(err)
	}
	f.Close()
	req := plugins.ScoreRequest{Checkpoint: "/m", RequestsPath: in, OutputPath: out}
	res, err := sdk.ScoreBatches(t.Context(), req, 7, lengths)
	if err != nil {
		t.Fatal(err)
	}
	if res.Count != 100 || res.Results != nil {
		t.Errorf("response %+v", res)
	}
	rf, _ := os.Open(out)
	got, err := plugins.ReadResults(rf)
	rf.Close()
	want, _ := lengths(t.Context(), reqs)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("results file: %v, equal %v", err, reflect.DeepEqual(got, want))
	}

	t.Run("missing requests file", func(t *testing.T) {
		_, err := sdk.ScoreBatches(t.Context(), plugins.ScoreRequest{Checkpoint: "/m", RequestsPath: filepath.Join(dir, "nope"), OutputPath: out}, 0, lengths)
		if !errdefs.IsNotFound(err) {
			t.Errorf("got %v, want NotFound", err)
		}
	})
	t.Run("failure leaves no output", func(t *testing.T) {
		out2 := filepath.Join(dir, "results2.jsonl")
		boom := errors.New("boom")
		_, err := sdk.ScoreBatches(t.Context(), plugins.ScoreRequest{Checkpoint: "/m", RequestsPath: in, OutputPath: out2}, 10,
			func(context.Context, []plugins.LoglikelihoodRequest) ([]plugins.LoglikelihoodResult, error) {
				return nil, boom
			})
		if !errors.Is(err, boom) {
			t.Errorf("got %v", err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 2 {
			t.Errorf("left behind: %v", entries)
		}
	})
	t.Run("malformed line", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.jsonl")
		os.WriteFile(bad, []byte("{\"context\":\"a\",\"continuation\":\"b\"}\nnot json\n"), 0o644)
		_, err := sdk.ScoreBatches(t.Context(), plugins.ScoreRequest{Checkpoint: "/m", RequestsPath: bad, OutputPath: filepath.Join(dir, "r3")}, 0, lengths)
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("got %v, want InvalidArgument", err)
		}
	})
	t.Run("wrong result count", func(t *testing.T) {
		_, err := sdk.ScoreBatches(t.Context(), plugins.ScoreRequest{Checkpoint: "/m", Requests: reqs}, 0,
			func(context.Context, []plugins.LoglikelihoodRequest) ([]plugins.LoglikelihoodResult, error) {
				return nil, nil
			})
		if err == nil {
			t.Error("no error")
		}
	})
}
