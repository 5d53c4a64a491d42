package grpcadapter

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	"github.com/dagproject/dag/plugins"
	pluginpb "github.com/dagproject/dag/plugins/proto"
)

// Inline Score requests are sent in batches of at most MaxBatchRequests
// requests and, past the first request, about MaxBatchBytes bytes of text.
const (
	MaxBatchRequests = 16384
	MaxBatchBytes    = 1 << 20
)

// NewClient returns a plugins.Plugin that calls the Backend service over
// conn. Errors come back with their errdefs class (FromGRPC). It does not
// own conn.
func NewClient(conn grpc.ClientConnInterface) plugins.Plugin {
	return &client{rpc: pluginpb.NewBackendClient(conn)}
}

type client struct {
	rpc pluginpb.BackendClient
}

func (c *client) Describe(ctx context.Context) (plugins.Description, error) {
	m, err := c.rpc.Describe(ctx, &pluginpb.DescribeRequest{})
	if err != nil {
		return plugins.Description{}, fmt.Errorf("describe: %w", FromGRPC(err))
	}
	return describeFromPB(m), nil
}

// Train relays the plugin's events to ev as they arrive. If ev.Emit fails,
// the stream is cancelled and Train returns that error.
func (c *client) Train(ctx context.Context, req plugins.TrainRequest, ev plugins.Emitter) (plugins.TrainResult, error) {
	if err := req.Validate(); err != nil {
		return plugins.TrainResult{}, err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.Train(sctx, trainToPB(req))
	if err != nil {
		return plugins.TrainResult{}, fmt.Errorf("train: %w", FromGRPC(err))
	}
	var done *plugins.TrainResult
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return plugins.TrainResult{}, fmt.Errorf("train: %w", FromGRPC(err))
		}
		e, d, ok := eventFromPB(m)
		switch {
		case !ok:
			continue
		case d != nil:
			done = d
			continue
		}
		if err := ev.Emit(ctx, e); err != nil {
			return plugins.TrainResult{}, err
		}
	}
	if done == nil {
		return plugins.TrainResult{}, fmt.Errorf("train: stream ended without done")
	}
	return *done, nil
}

// Score sends inline requests in batches (MaxBatchRequests,
// MaxBatchBytes), one call after another, and concatenates the results.
// File mode is one call.
func (c *client) Score(ctx context.Context, req plugins.ScoreRequest) (plugins.ScoreResponse, error) {
	if err := req.Validate(); err != nil {
		return plugins.ScoreResponse{}, err
	}
	m := &pluginpb.ScoreRequest{
		Checkpoint:   req.Checkpoint,
		ParamsJson:   req.Params,
		RequestsPath: req.RequestsPath,
		OutputPath:   req.OutputPath,
	}
	if req.FileMode() {
		r, err := c.rpc.Score(ctx, m)
		if err != nil {
			return plugins.ScoreResponse{}, fmt.Errorf("score: %w", FromGRPC(err))
		}
		return plugins.ScoreResponse{Count: int(r.GetCount())}, nil
	}
	out := plugins.ScoreResponse{Results: make([]plugins.LoglikelihoodResult, 0, len(req.Requests))}
	rest := req.Requests
	for first := true; first || len(rest) > 0; first = false {
		bb := newBatchBuilder(min(len(rest), MaxBatchRequests))
		for len(rest) > 0 && bb.len() < MaxBatchRequests && (bb.len() == 0 || bb.bytes < MaxBatchBytes) {
			bb.add(rest[0])
			rest = rest[1:]
		}
		m.Batch = bb.batch()
		r, err := c.rpc.Score(ctx, m)
		if err != nil {
			return plugins.ScoreResponse{}, fmt.Errorf("score: %w", FromGRPC(err))
		}
		if int(r.GetCount()) != bb.len() {
			return plugins.ScoreResponse{}, fmt.Errorf("score: plugin returned %d results for %d requests", r.GetCount(), bb.len())
		}
		if out.Results, err = resultsFromPB(out.Results, r); err != nil {
			return plugins.ScoreResponse{}, fmt.Errorf("score: %w", err)
		}
	}
	out.Count = len(out.Results)
	return out, nil
}

var _ plugins.Plugin = (*client)(nil)
