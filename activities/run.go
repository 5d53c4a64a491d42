package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	"go.temporal.io/sdk/activity"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/datasets"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/planner"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/host"
	"github.com/dagproject/dag/runs"
	"github.com/dagproject/dag/study"
)

// Run executes a node and publishes its result: blobs first, the result
// record last, so a failed or cancelled attempt leaves no cache entry.
func (a *Activities) Run(ctx context.Context, in runs.RunInput) (runs.RunResult, error) {
	p, n, err := a.node(ctx, in.NodeRef)
	if err != nil {
		return runs.RunResult{}, classify(err)
	}
	pre, info, err := a.preimage(ctx, in.NodeRef, n)
	if err != nil {
		return runs.RunResult{}, classify(err)
	}
	key := pre.Key()
	if in.LookupFirst && !n.NoCache {
		r, err := artifacts.GetResult(ctx, a.store, key)
		switch {
		case err == nil:
			a.opts.observer.lookup(ctx, p.Study, n, key, nil)
			return runs.RunResult{Key: key, Outputs: r.Outputs, Cached: true}, nil
		case !errdefs.IsNotFound(err):
			return runs.RunResult{}, classify(err)
		}
		a.opts.observer.lookup(ctx, p.Study, n, key, err)
	}
	started := time.Now()
	var res runs.RunResult
	producer := artifacts.Producer{Host: a.host, Worker: a.opts.identity, Run: in.Run}
	switch {
	case n.Kind == study.KindData:
		producer.Plugin = planner.DataImpl.Name
		res.Outputs, err = datasets.Prepare(ctx, a.store, n, in.Source)
	case n.Kind.Trains():
		producer.Plugin, producer.PluginDigest = info.Name, info.Digest
		res, err = a.train(ctx, p.Study, n, in.NodeRef, key, info)
	case n.Kind == study.KindEval || n.Kind == study.KindSafety:
		producer.Plugin, producer.PluginDigest = info.Name, info.Digest
		res, err = a.evaluate(ctx, p.Study, n, in.NodeRef, key, info)
	case n.Kind == study.KindReport:
		producer.Plugin = planner.ReportImpl.Name
		res, err = a.report(ctx, p.Study, n, in.NodeRef, key)
	default:
		err = fmt.Errorf("node %s: unknown stage kind %s: %w", n.ID, n.Kind, errdefs.ErrInvalidArgument)
	}
	a.opts.observer.run(ctx, p.Study, n, key, info, started, err)
	if err != nil {
		return runs.RunResult{}, classify(err)
	}
	if n.NoCache {
		// Outputs are stored (downstream nodes read them), but no result
		// names them: the next run executes the node again.
		res.Key = key
		return res, nil
	}
	pub := artifacts.Publication{
		Preimage: pre.Encode(), Node: n.ID, Outputs: res.Outputs, Producer: producer,
		Started: started, Finished: time.Now(), Ref: planner.RefName(in.Namespace, p.Study, n.ID),
	}
	if _, err := artifacts.Publish(ctx, a.store, pub); err != nil {
		return runs.RunResult{}, classify(err)
	}
	if in.Lease != nil && in.Lease.Granted {
		// Best effort: waiters also see the lease end once the lease
		// workflow finds the key published.
		_ = a.Release(ctx, *in.Lease)
	}
	res.Key = key
	return res, nil
}

// train runs a pretrain, SFT or DPO node through its plugin. Progress and each
// stored checkpoint go into heartbeats; a retried attempt resumes
// from the checkpoint its predecessor last reported.
func (a *Activities) train(ctx context.Context, studyName string, n *study.Node, in runs.NodeRef, key digest.Digest, info host.Info) (runs.RunResult, error) {
	st, err := a.startStage(ctx, studyName, n, in, key, info)
	if err != nil {
		return runs.RunResult{}, err
	}
	defer st.close()
	req := plugins.TrainRequest{
		Kind:          n.Kind,
		Inputs:        st.inputs,
		OutputDir:     filepath.Join(st.dir, "out"),
		CheckpointDir: filepath.Join(st.dir, "checkpoints"),
	}
	for _, d := range []string{req.OutputDir, req.CheckpointDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return runs.RunResult{}, err
		}
	}
	var hb runs.Progress
	var res runs.RunResult
	if activity.HasHeartbeatDetails(ctx) && activity.GetHeartbeatDetails(ctx, &hb) == nil && hb.Checkpoint != "" {
		path := filepath.Join(st.dir, "in", plugins.InputResume)
		if err := artifacts.Materialize(ctx, a.store, hb.Checkpoint, path); err != nil {
			return runs.RunResult{}, fmt.Errorf("resume checkpoint: %w", err)
		}
		req.Inputs[plugins.InputResume] = path
		res.Resumed = hb.CheckpointStep
	}
	if req.Params, err = json.Marshal(n.Params); err != nil {
		return runs.RunResult{}, err
	}
	client := st.client

	beat := &pulse{p: hb}
	emit := plugins.EmitterFunc(func(ctx context.Context, ev plugins.Event) error {
		switch ev.Type {
		case plugins.EventProgress:
			beat.update(ctx, func(p *runs.Progress) { p.Step, p.Total = ev.Step, ev.Total })
		case plugins.EventMetrics:
			beat.update(ctx, func(p *runs.Progress) { p.Step, p.Metrics = ev.Step, ev.Metrics })
			a.opts.observer.trainMetrics(ctx, info.Name, n.Kind, ev.Metrics)
		case plugins.EventCheckpoint:
			d, err := artifacts.PutDir(ctx, a.store, ev.Dir)
			if err != nil {
				return fmt.Errorf("store checkpoint at step %d: %w", ev.Step, err)
			}
			os.RemoveAll(ev.Dir) // stored; the plugin no longer needs it
			beat.update(ctx, func(p *runs.Progress) { p.Checkpoint, p.CheckpointStep = d, ev.Step })
		}
		return nil
	})
	stop := beat.start(ctx)
	defer stop()
	tr, err := client.Train(ctx, req, emit)
	if err != nil {
		return runs.RunResult{}, err
	}
	res.Metrics = tr.Metrics
	lin := lineage{Kind: string(n.Kind), Parent: in.Inputs[plugins.InputModel], Data: in.Inputs[plugins.InputData]}
	if err := writeLineage(req.OutputDir, lin); err != nil {
		return runs.RunResult{}, err
	}
	model, err := artifacts.PutDir(ctx, a.store, req.OutputDir)
	if err != nil {
		return runs.RunResult{}, fmt.Errorf("store model: %w", err)
	}
	res.Outputs = map[string]digest.Digest{study.OutModel: model}
	return res, nil
}
