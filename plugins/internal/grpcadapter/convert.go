package grpcadapter

import (
	"encoding/json"
	"fmt"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	pluginpb "github.com/dagproject/dag/plugins/proto"
)

func describeToPB(d plugins.Description) *pluginpb.DescribeResponse {
	out := &pluginpb.DescribeResponse{
		Name:            d.Name,
		Version:         d.Version,
		ProtocolVersion: int32(d.ProtocolVersion),
		Resource:        string(d.Resource),
		Ready:           d.Ready,
		Problem:         d.Problem,
	}
	for _, k := range d.Kinds {
		out.Kinds = append(out.Kinds, string(k))
	}
	for _, p := range d.Params {
		out.Params = append(out.Params, &pluginpb.Param{
			Path:          p.Path,
			Type:          string(p.Type),
			DefaultJson:   string(p.Default),
			Description:   p.Description,
			ExecutionOnly: p.ExecutionOnly,
		})
	}
	return out
}

func describeFromPB(m *pluginpb.DescribeResponse) plugins.Description {
	d := plugins.Description{
		Name:            m.GetName(),
		Version:         m.GetVersion(),
		ProtocolVersion: int(m.GetProtocolVersion()),
		Resource:        plugins.Resource(m.GetResource()),
		Ready:           m.GetReady(),
		Problem:         m.GetProblem(),
	}
	for _, k := range m.GetKinds() {
		d.Kinds = append(d.Kinds, plugins.Kind(k))
	}
	for _, p := range m.GetParams() {
		var def json.RawMessage
		if p.GetDefaultJson() != "" {
			def = json.RawMessage(p.GetDefaultJson())
		}
		d.Params = append(d.Params, plugins.Param{
			Path:          p.GetPath(),
			Type:          plugins.ParamType(p.GetType()),
			Default:       def,
			Description:   p.GetDescription(),
			ExecutionOnly: p.GetExecutionOnly(),
		})
	}
	return d
}

func trainToPB(r plugins.TrainRequest) *pluginpb.TrainRequest {
	return &pluginpb.TrainRequest{
		Kind:          string(r.Kind),
		Inputs:        r.Inputs,
		ParamsJson:    r.Params,
		OutputDir:     r.OutputDir,
		CheckpointDir: r.CheckpointDir,
	}
}

func trainFromPB(m *pluginpb.TrainRequest) plugins.TrainRequest {
	return plugins.TrainRequest{
		Kind:          plugins.Kind(m.GetKind()),
		Inputs:        m.GetInputs(),
		Params:        m.GetParamsJson(),
		OutputDir:     m.GetOutputDir(),
		CheckpointDir: m.GetCheckpointDir(),
	}
}

func eventToPB(ev plugins.Event) (*pluginpb.TrainEvent, error) {
	switch ev.Type {
	case plugins.EventProgress:
		return &pluginpb.TrainEvent{Event: &pluginpb.TrainEvent_Progress{
			Progress: &pluginpb.Progress{Step: ev.Step, Total: ev.Total}}}, nil
	case plugins.EventMetrics:
		return &pluginpb.TrainEvent{Event: &pluginpb.TrainEvent_Metrics{
			Metrics: &pluginpb.Metrics{Step: ev.Step, Values: ev.Metrics}}}, nil
	case plugins.EventCheckpoint:
		return &pluginpb.TrainEvent{Event: &pluginpb.TrainEvent_Checkpoint{
			Checkpoint: &pluginpb.Checkpoint{Dir: ev.Dir, Step: ev.Step}}}, nil
	case plugins.EventLog:
		return &pluginpb.TrainEvent{Event: &pluginpb.TrainEvent_Log{
			Log: &pluginpb.Log{Line: ev.Line}}}, nil
	}
	return nil, fmt.Errorf("event of unknown type %d: %w", ev.Type, errdefs.ErrInvalidArgument)
}

// eventFromPB returns the event, or done set for the final message. An
// empty or unknown event is skipped (ok false), so that newer plugins may
// add event types.
func eventFromPB(m *pluginpb.TrainEvent) (ev plugins.Event, done *plugins.TrainResult, ok bool) {
	switch e := m.GetEvent().(type) {
	case *pluginpb.TrainEvent_Progress:
		return plugins.ProgressEvent(e.Progress.GetStep(), e.Progress.GetTotal()), nil, true
	case *pluginpb.TrainEvent_Metrics:
		return plugins.MetricsEvent(e.Metrics.GetStep(), e.Metrics.GetValues()), nil, true
	case *pluginpb.TrainEvent_Checkpoint:
		return plugins.CheckpointEvent(e.Checkpoint.GetDir(), e.Checkpoint.GetStep()), nil, true
	case *pluginpb.TrainEvent_Log:
		return plugins.LogEvent(e.Log.GetLine()), nil, true
	case *pluginpb.TrainEvent_Done:
		return plugins.Event{}, &plugins.TrainResult{Step: e.Done.GetStep(), Metrics: e.Done.GetMetrics()}, true
	}
	return plugins.Event{}, nil, false
}

// batchBuilder encodes requests column-wise (see ScoreBatch in
// plugin.proto) and tracks the encoded size. Adjacent requests with equal
// contexts share one (the choices of a question come together); equal
// contexts further apart are sent again, which costs bytes but no hashing.
type batchBuilder struct {
	b      *pluginpb.ScoreBatch
	last   string // the most recent context
	anyBOS bool
	bos    []bool
	bytes  int
}

func newBatchBuilder(capacity int) *batchBuilder {
	return &batchBuilder{
		b: &pluginpb.ScoreBatch{
			ContextIndex:    make([]uint32, 0, capacity),
			ContinuationEnd: make([]uint32, 0, capacity),
			Continuations:   make([]byte, 0, 16*capacity),
		},
		bos: make([]bool, 0, capacity),
	}
}

func (bb *batchBuilder) add(q plugins.LoglikelihoodRequest) {
	b := bb.b
	n := len(b.ContextEnd)
	if n == 0 || q.Context != bb.last {
		bb.last = q.Context
		b.Contexts = append(b.Contexts, q.Context...)
		b.ContextEnd = append(b.ContextEnd, uint32(len(b.Contexts)))
		bb.bytes += len(q.Context) + 4
		n++
	}
	b.ContextIndex = append(b.ContextIndex, uint32(n-1))
	b.Continuations = append(b.Continuations, q.Continuation...)
	b.ContinuationEnd = append(b.ContinuationEnd, uint32(len(b.Continuations)))
	bb.bos = append(bb.bos, q.BOSContext)
	bb.anyBOS = bb.anyBOS || q.BOSContext
	bb.bytes += len(q.Continuation) + 8
}

func (bb *batchBuilder) len() int { return len(bb.b.ContinuationEnd) }

func (bb *batchBuilder) batch() *pluginpb.ScoreBatch {
	if bb.anyBOS {
		bb.b.BosContext = bb.bos
	}
	return bb.b
}

// batchToPB encodes reqs as one batch.
func batchToPB(reqs []plugins.LoglikelihoodRequest) *pluginpb.ScoreBatch {
	bb := newBatchBuilder(len(reqs))
	for _, q := range reqs {
		bb.add(q)
	}
	return bb.batch()
}

// split cuts blob at the end offsets; the pieces share one string.
func split(blob []byte, ends []uint32) ([]string, error) {
	s := string(blob)
	out := make([]string, len(ends))
	start := uint32(0)
	for k, end := range ends {
		if end < start || int(end) > len(s) {
			return nil, fmt.Errorf("score batch: piece %d ends at %d, outside %d..%d: %w", k, end, start, len(s), errdefs.ErrInvalidArgument)
		}
		out[k] = s[start:end]
		start = end
	}
	if int(start) != len(s) {
		return nil, fmt.Errorf("score batch: %d bytes after the last piece: %w", len(s)-int(start), errdefs.ErrInvalidArgument)
	}
	return out, nil
}

func batchFromPB(b *pluginpb.ScoreBatch) ([]plugins.LoglikelihoodRequest, error) {
	n := len(b.GetContinuationEnd())
	if len(b.GetContextIndex()) != n || (len(b.GetBosContext()) != 0 && len(b.GetBosContext()) != n) {
		return nil, fmt.Errorf("score batch: column lengths differ: %w", errdefs.ErrInvalidArgument)
	}
	contexts, err := split(b.GetContexts(), b.GetContextEnd())
	if err != nil {
		return nil, err
	}
	conts, err := split(b.GetContinuations(), b.GetContinuationEnd())
	if err != nil {
		return nil, err
	}
	out := make([]plugins.LoglikelihoodRequest, n)
	for i := range out {
		j := b.ContextIndex[i]
		if int(j) >= len(contexts) {
			return nil, fmt.Errorf("score batch: request %d: context index %d out of range: %w", i, j, errdefs.ErrInvalidArgument)
		}
		out[i] = plugins.LoglikelihoodRequest{Context: contexts[j], Continuation: conts[i]}
		if len(b.BosContext) != 0 {
			out[i].BOSContext = b.BosContext[i]
		}
	}
	return out, nil
}

func resultsToPB(count int, res []plugins.LoglikelihoodResult) *pluginpb.ScoreResponse {
	m := &pluginpb.ScoreResponse{Count: uint64(count)}
	if res == nil {
		return m
	}
	m.Logprob = make([]float64, len(res))
	m.Tokens = make([]uint32, len(res))
	m.Greedy = make([]bool, len(res))
	for i, r := range res {
		m.Logprob[i] = r.Logprob
		m.Tokens[i] = uint32(r.Tokens)
		m.Greedy[i] = r.Greedy
	}
	return m
}

// resultsFromPB appends the response's results to dst.
func resultsFromPB(dst []plugins.LoglikelihoodResult, m *pluginpb.ScoreResponse) ([]plugins.LoglikelihoodResult, error) {
	n := len(m.GetLogprob())
	if len(m.GetTokens()) != n || len(m.GetGreedy()) != n {
		return dst, fmt.Errorf("score response: column lengths differ")
	}
	for i := range n {
		dst = append(dst, plugins.LoglikelihoodResult{Logprob: m.Logprob[i], Tokens: int(m.Tokens[i]), Greedy: m.Greedy[i]})
	}
	return dst, nil
}
