package grpcadapter_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/internal/grpcadapter"
	pluginpb "github.com/dagproject/dag/plugins/proto"
	"github.com/dagproject/dag/plugins/sdk/sdktest"
)

// fake is a scripted plugin.
type fake struct {
	err     error // returned by every call when set
	events  []plugins.Event
	batches atomic.Int32 // Score calls seen
}

func (f *fake) Describe(context.Context) (plugins.Description, error) {
	if f.err != nil {
		return plugins.Description{}, f.err
	}
	return plugins.Description{Name: "fake", Version: "1", Kinds: []plugins.Kind{plugins.KindSFT}, Resource: plugins.ResourceGPU, Ready: false, Problem: "no GPU"}, nil
}

func (f *fake) Train(ctx context.Context, req plugins.TrainRequest, ev plugins.Emitter) (plugins.TrainResult, error) {
	if f.err != nil {
		return plugins.TrainResult{}, f.err
	}
	for _, e := range f.events {
		if err := ev.Emit(ctx, e); err != nil {
			return plugins.TrainResult{}, err
		}
	}
	return plugins.TrainResult{Step: 7, Metrics: map[string]float64{"loss": 0.5}}, nil
}

func (f *fake) Score(ctx context.Context, req plugins.ScoreRequest) (plugins.ScoreResponse, error) {
	f.batches.Add(1)
	if f.err != nil {
		return plugins.ScoreResponse{}, f.err
	}
	out := make([]plugins.LoglikelihoodResult, len(req.Requests))
	for i, q := range req.Requests {
		out[i] = plugins.LoglikelihoodResult{Logprob: -float64(len(q.Context) + len(q.Continuation)), Tokens: len(q.Continuation), Greedy: q.BOSContext}
	}
	return plugins.ScoreResponse{Count: len(out), Results: out}, nil
}

func TestErrorClassesCrossTheWire(t *testing.T) {
	classes := []struct {
		class error
		is    func(error) bool
	}{
		{errdefs.ErrNotFound, errdefs.IsNotFound},
		{errdefs.ErrAlreadyExists, errdefs.IsAlreadyExists},
		{errdefs.ErrInvalidArgument, errdefs.IsInvalidArgument},
		{errdefs.ErrFailedPrecondition, errdefs.IsFailedPrecondition},
		{errdefs.ErrUnavailable, errdefs.IsUnavailable},
		{errdefs.ErrDataLoss, errdefs.IsDataLoss},
		{context.DeadlineExceeded, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
	}
	for _, c := range classes {
		t.Run(c.class.Error(), func(t *testing.T) {
			f := &fake{err: fmt.Errorf("checkpoint /m/x: %w", c.class)}
			p := sdktest.Connect(t, f)
			_, err := p.Describe(t.Context())
			if !c.is(err) {
				t.Fatalf("describe: got %v, want class %v", err, c.class)
			}
			if want := "describe: checkpoint /m/x: " + c.class.Error(); err.Error() != want {
				t.Errorf("message %q, want %q", err.Error(), want)
			}
			_, err = p.Train(t.Context(), plugins.TrainRequest{Kind: plugins.KindSFT, OutputDir: "/o"}, plugins.Discard)
			if !c.is(err) {
				t.Errorf("train: got %v, want class %v", err, c.class)
			}
			_, err = p.Score(t.Context(), plugins.ScoreRequest{Checkpoint: "/m"})
			if !c.is(err) {
				t.Errorf("score: got %v, want class %v", err, c.class)
			}
		})
	}
	t.Run("unclassified", func(t *testing.T) {
		p := sdktest.Connect(t, &fake{err: errors.New("boom")})
		_, err := p.Describe(t.Context())
		if err == nil || status.Code(err) != codes.Unknown || !strings.Contains(err.Error(), "boom") {
			t.Errorf("got %v (code %v), want Unknown with the message", err, status.Code(err))
		}
	})
}

func TestToFromGRPC(t *testing.T) {
	if grpcadapter.ToGRPC(nil) != nil || grpcadapter.FromGRPC(nil) != nil {
		t.Fatal("nil must stay nil")
	}
	err := grpcadapter.FromGRPC(grpcadapter.ToGRPC(errdefs.ErrNotFound))
	if !errdefs.IsNotFound(err) || err.Error() != "not found" {
		t.Errorf("bare class: got %q", err)
	}
	err = grpcadapter.FromGRPC(grpcadapter.ToGRPC(fmt.Errorf("blob x: %w", errdefs.ErrAlreadyExists)))
	if status.Code(err) != codes.AlreadyExists {
		t.Errorf("code lost: %v", status.Code(err))
	}
	// Round trips are stable: sending a received error on keeps its text.
	again := grpcadapter.FromGRPC(grpcadapter.ToGRPC(err))
	if again.Error() != err.Error() || !errdefs.IsAlreadyExists(again) {
		t.Errorf("second trip: %q vs %q", again, err)
	}
	if !errors.Is(grpcadapter.FromGRPC(status.Error(codes.Canceled, "context canceled")), context.Canceled) {
		t.Error("Canceled does not map to context.Canceled")
	}
}

func TestDescribeCrossesTheWire(t *testing.T) {
	p := sdktest.Connect(t, &fake{})
	d, err := p.Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d.ProtocolVersion != plugins.ProtocolVersion || d.Ready || d.Problem != "no GPU" || d.Resource != plugins.ResourceGPU {
		t.Errorf("got %+v", d)
	}
}

func TestTrainStreamsEventsInOrder(t *testing.T) {
	f := &fake{events: []plugins.Event{
		plugins.LogEvent("starting"),
		plugins.ProgressEvent(1, 2),
		plugins.MetricsEvent(1, map[string]float64{"loss": 2, plugins.MetricRewardMargin: 0.25}),
		plugins.CheckpointEvent("/ckpt/step-1", 1),
		plugins.ProgressEvent(2, 2),
	}}
	p := sdktest.Connect(t, f)
	var got []plugins.Event
	res, err := p.Train(t.Context(), plugins.TrainRequest{Kind: plugins.KindSFT, OutputDir: "/o"},
		plugins.EmitterFunc(func(_ context.Context, e plugins.Event) error {
			got = append(got, e)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, f.events) {
		t.Errorf("events:\n got %+v\nwant %+v", got, f.events)
	}
	if res.Step != 7 || res.Metrics["loss"] != 0.5 {
		t.Errorf("result %+v", res)
	}

	stop := errors.New("stop here")
	_, err = p.Train(t.Context(), plugins.TrainRequest{Kind: plugins.KindSFT, OutputDir: "/o"},
		plugins.EmitterFunc(func(context.Context, plugins.Event) error { return stop }))
	if !errors.Is(err, stop) {
		t.Errorf("emitter error: got %v", err)
	}
}

func TestTrainValidatesBeforeThePlugin(t *testing.T) {
	p := sdktest.Connect(t, &fake{})
	_, err := p.Train(t.Context(), plugins.TrainRequest{Kind: plugins.KindEval, OutputDir: "/o"}, plugins.Discard)
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("got %v, want InvalidArgument", err)
	}
}

func TestScoreBatchesKeepOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3*grpcadapter.MaxBatchRequests + 17
	reqs := make([]plugins.LoglikelihoodRequest, n)
	for i := range reqs {
		if rng.IntN(10) == 0 {
			reqs[i] = plugins.LoglikelihoodRequest{Continuation: strings.Repeat("s", rng.IntN(40)), BOSContext: true}
			continue
		}
		reqs[i] = plugins.LoglikelihoodRequest{
			Context:      fmt.Sprintf("question %d", rng.IntN(n/4)),
			Continuation: strings.Repeat("c", rng.IntN(12)),
		}
	}
	// One request far past the byte budget travels alone.
	reqs[5].Context = strings.Repeat("long ", grpcadapter.MaxBatchBytes/4)
	f := &fake{}
	p := sdktest.Connect(t, f)
	res, err := p.Score(t.Context(), plugins.ScoreRequest{Checkpoint: "/m", Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count != n || len(res.Results) != n {
		t.Fatalf("%d results (count %d), want %d", len(res.Results), res.Count, n)
	}
	for i, q := range reqs {
		want := plugins.LoglikelihoodResult{Logprob: -float64(len(q.Context) + len(q.Continuation)), Tokens: len(q.Continuation), Greedy: q.BOSContext}
		if res.Results[i] != want {
			t.Fatalf("request %d: got %+v, want %+v", i, res.Results[i], want)
		}
	}
	if b := f.batches.Load(); b < 4 || b > 8 {
		t.Errorf("%d batches for %d requests", b, n)
	}

	// No requests is one call with no results.
	res, err = p.Score(t.Context(), plugins.ScoreRequest{Checkpoint: "/m"})
	if err != nil || res.Count != 0 || len(res.Results) != 0 {
		t.Errorf("empty: %+v, %v", res, err)
	}
}

func TestMalformedBatchIsInvalidArgument(t *testing.T) {
	srv := grpcadapter.NewServer(&fake{})
	for name, b := range map[string]*pluginpb.ScoreBatch{
		"end past blob":      {Continuations: []byte("ab"), ContinuationEnd: []uint32{3}, ContextIndex: []uint32{0}, ContextEnd: []uint32{0}},
		"ends decrease":      {Continuations: []byte("ab"), ContinuationEnd: []uint32{2, 1}, ContextIndex: []uint32{0, 0}, ContextEnd: []uint32{0}},
		"bytes after pieces": {Continuations: []byte("abc"), ContinuationEnd: []uint32{2}, ContextIndex: []uint32{0}, ContextEnd: []uint32{0}},
		"index out of range": {Continuations: []byte("a"), ContinuationEnd: []uint32{1}, ContextIndex: []uint32{1}, ContextEnd: []uint32{0}},
		"columns differ":     {Continuations: []byte("a"), ContinuationEnd: []uint32{1}, ContextIndex: []uint32{0, 0}, ContextEnd: []uint32{0}},
		"bos with context":   {Contexts: []byte("x"), ContextEnd: []uint32{1}, Continuations: []byte("a"), ContinuationEnd: []uint32{1}, ContextIndex: []uint32{0}, BosContext: []bool{true}},
	} {
		_, err := srv.Score(t.Context(), &pluginpb.ScoreRequest{Checkpoint: "/m", Batch: b})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: got %v, want InvalidArgument", name, err)
		}
	}
}
