package sdktest

import (
	"math"
	"reflect"
	"testing"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

// Fixture is what Conformance needs beyond the implementation. Zero
// fields skip the checks that need them.
type Fixture struct {
	// Checkpoint is a model folder impl can Score with.
	Checkpoint string
	// Requests are scored both in-process and over gRPC; the results must
	// agree.
	Requests []plugins.LoglikelihoodRequest
}

// Conformance checks impl against the contract every plugin meets: its
// description is valid and crosses the wire unchanged, it refuses a kind
// it does not run with InvalidArgument, and (with a fixture) inline Score
// gives one result per request, the same over gRPC as in-process.
func Conformance(t *testing.T, impl plugins.Plugin, fx Fixture) {
	t.Helper()
	ctx := t.Context()
	remote := Connect(t, impl)

	local, err := impl.Describe(ctx)
	if err != nil {
		t.Fatalf("describe in-process: %v", err)
	}
	t.Run("Describe", func(t *testing.T) {
		got, err := remote.Describe(ctx)
		if err != nil {
			t.Fatalf("describe: %v", err)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("description: %v", err)
		}
		if got.ProtocolVersion != plugins.ProtocolVersion {
			t.Errorf("protocol version %d, want %d", got.ProtocolVersion, plugins.ProtocolVersion)
		}
		want := local
		want.ProtocolVersion = got.ProtocolVersion
		if !reflect.DeepEqual(normal(got), normal(want)) {
			t.Errorf("description changed crossing the wire:\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("UnsupportedKind", func(t *testing.T) {
		for _, k := range []plugins.Kind{plugins.KindPretrain, plugins.KindSFT, plugins.KindDPO} {
			if local.Supports(k) {
				continue
			}
			_, err := remote.Train(ctx, plugins.TrainRequest{Kind: k, OutputDir: t.TempDir()}, plugins.Discard)
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("train %s (unsupported): got %v, want InvalidArgument", k, err)
			}
		}
	})
	if fx.Checkpoint == "" || len(fx.Requests) == 0 || !local.Ready {
		return
	}
	t.Run("Score", func(t *testing.T) {
		req := plugins.ScoreRequest{Checkpoint: fx.Checkpoint, Requests: fx.Requests}
		want, err := impl.Score(ctx, req)
		if err != nil {
			t.Fatalf("score in-process: %v", err)
		}
		got, err := remote.Score(ctx, req)
		if err != nil {
			t.Fatalf("score: %v", err)
		}
		if got.Count != len(fx.Requests) || len(got.Results) != len(fx.Requests) {
			t.Fatalf("score: %d results (count %d) for %d requests", len(got.Results), got.Count, len(fx.Requests))
		}
		for i := range got.Results {
			g, w := got.Results[i], want.Results[i]
			if g.Tokens != w.Tokens || g.Greedy != w.Greedy || math.Abs(g.Logprob-w.Logprob) > 1e-9*math.Max(1, math.Abs(w.Logprob)) {
				t.Errorf("request %d: got %+v, in-process %+v", i, g, w)
			}
		}
	})
}

// normal maps empty slices to nil so that DeepEqual ignores the
// difference protobuf erases.
func normal(d plugins.Description) plugins.Description {
	if len(d.Kinds) == 0 {
		d.Kinds = nil
	}
	if len(d.Params) == 0 {
		d.Params = nil
	}
	for i := range d.Params {
		if len(d.Params[i].Default) == 0 {
			d.Params[i].Default = nil
		}
	}
	return d
}
