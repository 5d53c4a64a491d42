package grpcadapter

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dagproject/dag/plugins"
	pluginpb "github.com/dagproject/dag/plugins/proto"
)

// NewServer returns the Backend service serving impl. It validates
// requests before impl sees them (InvalidArgument), fills in the protocol
// version of Describe when impl leaves it zero, and maps impl's errors to
// gRPC codes with ToGRPC.
func NewServer(impl plugins.Plugin) pluginpb.BackendServer {
	return &server{impl: impl}
}

type server struct {
	pluginpb.UnimplementedBackendServer
	impl plugins.Plugin
}

func (s *server) Describe(ctx context.Context, _ *pluginpb.DescribeRequest) (*pluginpb.DescribeResponse, error) {
	d, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, ToGRPC(err)
	}
	if d.ProtocolVersion == 0 {
		d.ProtocolVersion = plugins.ProtocolVersion
	}
	return describeToPB(d), nil
}

func (s *server) Train(m *pluginpb.TrainRequest, stream pluginpb.Backend_TrainServer) error {
	ctx := stream.Context()
	req := trainFromPB(m)
	if err := req.Validate(); err != nil {
		return ToGRPC(err)
	}
	em := &streamEmitter{stream: stream}
	res, err := s.impl.Train(ctx, req, em)
	if err != nil {
		return ToGRPC(err)
	}
	return em.send(&pluginpb.TrainEvent{Event: &pluginpb.TrainEvent_Done{
		Done: &pluginpb.Done{Step: res.Step, Metrics: res.Metrics}}})
}

// streamEmitter sends events down a Train stream; it is safe for
// concurrent use.
type streamEmitter struct {
	mu     sync.Mutex
	stream pluginpb.Backend_TrainServer
}

func (e *streamEmitter) Emit(ctx context.Context, ev plugins.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m, err := eventToPB(ev)
	if err != nil {
		return err
	}
	return e.send(m)
}

func (e *streamEmitter) send(m *pluginpb.TrainEvent) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.stream.Send(m); err != nil {
		return FromGRPC(err)
	}
	return nil
}

func (s *server) Score(ctx context.Context, m *pluginpb.ScoreRequest) (*pluginpb.ScoreResponse, error) {
	req := plugins.ScoreRequest{
		Checkpoint:   m.GetCheckpoint(),
		Params:       m.GetParamsJson(),
		RequestsPath: m.GetRequestsPath(),
		OutputPath:   m.GetOutputPath(),
	}
	if m.GetBatch() != nil {
		reqs, err := batchFromPB(m.GetBatch())
		if err != nil {
			return nil, ToGRPC(err)
		}
		req.Requests = reqs
	}
	if err := req.Validate(); err != nil {
		return nil, ToGRPC(err)
	}
	res, err := s.impl.Score(ctx, req)
	if err != nil {
		return nil, ToGRPC(err)
	}
	if req.FileMode() {
		return resultsToPB(res.Count, nil), nil
	}
	if len(res.Results) != len(req.Requests) {
		return nil, status.Error(codes.Internal, fmt.Sprintf("plugin returned %d results for %d requests", len(res.Results), len(req.Requests)))
	}
	return resultsToPB(len(res.Results), res.Results), nil
}

var (
	_ pluginpb.BackendServer = (*server)(nil)
	_ plugins.Emitter        = (*streamEmitter)(nil)
)
