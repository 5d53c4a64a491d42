package tinylm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

// run is one training stage, set up from its request.
type run struct {
	kind    plugins.Kind
	prm     Params
	cfg     Config
	base    Weights   // the parent's (or fresh) weights
	lora    *loraSpec // nil for pretrain
	sampler sampler
	total   int
	finger  string
}

// setup reads the request's params, data and parent model.
func setup(req plugins.TrainRequest) (*run, error) {
	if !req.Kind.Trains() {
		return nil, fmt.Errorf("train: kind %q is not pretrain, sft or dpo: %w", req.Kind, errdefs.ErrInvalidArgument)
	}
	prm, err := parseParams(req.Params)
	if err != nil {
		return nil, err
	}
	r := &run{kind: req.Kind, prm: prm}
	ds, err := readData(req.Inputs[plugins.InputData], req.Kind)
	if err != nil {
		return nil, err
	}
	parent := "none"
	if dir := req.Inputs[plugins.InputModel]; dir != "" {
		if r.cfg, r.base, err = readModel(dir); err != nil {
			return nil, err
		}
		if parent, err = folderDigest(dir, configFile, weightsFile); err != nil {
			return nil, err
		}
	} else if req.Kind != plugins.KindPretrain {
		return nil, fmt.Errorf("train %s: no model input: %w", req.Kind, errdefs.ErrInvalidArgument)
	} else {
		r.cfg = newConfig(prm.DModel, prm.Layers, prm.Heads, prm.Context)
		if err := r.cfg.Validate(); err != nil {
			return nil, fmt.Errorf("params: %w", err)
		}
		r.base = initWeights(r.cfg, uint64(prm.Seed))
	}
	maxLen := min(prm.MaxLength, r.cfg.Context)
	seed := uint64(prm.Seed)
	switch req.Kind {
	case plugins.KindPretrain:
		stream := corpusTokens(ds.corpus)
		if len(stream) < 2 {
			return nil, fmt.Errorf("data: corpus has no text: %w", errdefs.ErrInvalidArgument)
		}
		r.sampler = &windowSampler{stream: stream, window: maxLen, batchSize: prm.BatchSize, seed: seed}
	case plugins.KindSFT:
		r.sampler = &exampleSampler{examples: sftExamples(ds.sft, prm.PromptTemplate, maxLen), batchSize: prm.BatchSize, maxLen: maxLen, seed: seed}
	case plugins.KindDPO:
		ch, rj := dpoExamples(ds.dpo, prm.PromptTemplate, maxLen)
		r.sampler = &pairSampler{chosen: ch, rejected: rj, batchSize: prm.BatchSize, maxLen: maxLen, seed: seed}
	}
	if req.Kind != plugins.KindPretrain {
		l := prm.loraSpec()
		r.lora = &l
	}
	r.total = prm.Steps
	if r.total == 0 {
		if req.Kind == plugins.KindPretrain {
			r.total = defaultPretrainSteps
		} else {
			r.total = prm.Epochs * r.sampler.stepsPerEpoch()
		}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n", req.Kind, prm.fingerprintJSON(), ds.digest, parent)
	r.finger = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return r, nil
}

// program returns the step program and the run's initial weights
// (base plus fresh adapters).
func (r *run) program() (*stepProgram, Weights) {
	prog := &stepProgram{
		cfg: r.cfg, kind: r.kind, lora: r.lora,
		beta: r.prm.Beta, smooth: r.prm.LabelSmoothing,
		maxGradNorm: r.prm.MaxGradNorm, weightDecay: r.prm.WeightDecay,
	}
	if r.lora == nil {
		prog.train = r.base.names()
		return prog, r.base
	}
	adapters := initLoRA(r.cfg, *r.lora, uint64(r.prm.Seed))
	prog.train = adapters.names()
	prog.frozen = r.base.names()
	all := Weights{}
	for n, t := range r.base {
		all[n] = t
	}
	for n, t := range adapters {
		all[n] = t
	}
	return prog, all
}

// learningRate is the rate of 0-based step s: linear warmup, then
// constant.
func (r *run) learningRate(s int) float64 {
	if s < r.prm.WarmupSteps {
		return r.prm.LearningRate * float64(s+1) / float64(r.prm.WarmupSteps)
	}
	return r.prm.LearningRate
}

// Train runs a pretrain, sft or dpo stage (see plugins.Trainer).
func (p *plugin) Train(ctx context.Context, req plugins.TrainRequest, ev plugins.Emitter) (plugins.TrainResult, error) {
	r, err := setup(req)
	if err != nil {
		return plugins.TrainResult{}, err
	}
	prog, weights := r.program()
	start := 0
	var opt Weights
	log := &metricsLog{}
	if dir := req.Inputs[plugins.InputResume]; dir != "" {
		if weights, opt, start, log, err = r.resume(dir); err != nil {
			return plugins.TrainResult{}, err
		}
	}
	tr, err := newTrainer(prog, weights, opt)
	if err != nil {
		return plugins.TrainResult{}, fmt.Errorf("train: %v: %w", err, errdefs.ErrFailedPrecondition)
	}
	defer tr.close()

	emit := func(e plugins.Event) error { return ev.Emit(ctx, e) }
	if err := emit(plugins.LogEvent(fmt.Sprintf("tinylm %s: d_model=%d layers=%d heads=%d context=%d, %d trainable tensors, steps %d..%d of %d",
		r.kind, r.cfg.DModel, r.cfg.Layers, r.cfg.Heads, r.cfg.Context, len(prog.train), start+1, r.total, r.total))); err != nil {
		return plugins.TrainResult{}, err
	}
	last, err := r.steps(ctx, req, tr, start, weights, log, emit)
	if err != nil {
		return plugins.TrainResult{}, err
	}
	trained, _ := tr.state()
	final := trained
	if r.lora != nil {
		final = mergeLoRA(r.cfg, r.base, trained, *r.lora)
	}
	if err := writeModel(req.OutputDir, r.cfg, final); err != nil {
		return plugins.TrainResult{}, err
	}
	if err := log.write(req.OutputDir); err != nil {
		return plugins.TrainResult{}, err
	}
	return plugins.TrainResult{Step: int64(r.total), Metrics: last}, nil
}

// resume reads a checkpoint of this run: its weights, optimizer state,
// step and metrics log. One of another run (params, data or parent) is
// FailedPrecondition.
func (r *run) resume(dir string) (Weights, Weights, int, *metricsLog, error) {
	st, c, w, o, err := readCheckpoint(dir)
	if err != nil {
		return nil, nil, 0, nil, err
	}
	if st.Fingerprint != r.finger || st.Kind != r.kind || c != r.cfg {
		return nil, nil, 0, nil, fmt.Errorf("checkpoint %s: from another run (different params, data or parent model): %w", dir, errdefs.ErrFailedPrecondition)
	}
	if st.Step > r.total {
		return nil, nil, 0, nil, fmt.Errorf("checkpoint %s: step %d past the run's %d steps: %w", dir, st.Step, r.total, errdefs.ErrFailedPrecondition)
	}
	log, err := readMetricsLog(dir, st.Step)
	if err != nil {
		return nil, nil, 0, nil, err
	}
	return w, o, st.Step, log, nil
}

// steps runs the optimizer steps after start, emitting progress every
// step, metrics every log_every steps and a checkpoint every
// checkpoint_every; it returns the last step's metrics.
func (r *run) steps(ctx context.Context, req plugins.TrainRequest, tr *trainer, start int, weights Weights, log *metricsLog, emit func(plugins.Event) error) (map[string]float64, error) {
	names := stepMetrics[r.kind]
	var last map[string]float64
	began, tokens := time.Now(), 0
	for s := start; s < r.total; s++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		b := r.sampler.batch(s)
		vals, err := tr.step(b, r.learningRate(s), s+1)
		if err != nil {
			return nil, fmt.Errorf("train step %d: %w", s+1, err)
		}
		if math.IsNaN(vals[0]) || math.IsInf(vals[0], 0) {
			return nil, fmt.Errorf("train step %d: loss is %v (lower the learning rate): %w", s+1, vals[0], errdefs.ErrInvalidArgument)
		}
		tokens += b.rows * b.length
		last = map[string]float64{}
		for i, n := range names {
			last[n] = vals[i]
		}
		done := s + 1
		log.add(done, last)
		if err := emit(plugins.ProgressEvent(int64(done), int64(r.total))); err != nil {
			return nil, err
		}
		if done%r.prm.LogEvery == 0 || done == r.total {
			if err := emit(plugins.MetricsEvent(int64(done), withThroughput(last, tokens, began))); err != nil {
				return nil, err
			}
			el := time.Since(began).Seconds()
			if err := emit(plugins.LogEvent(fmt.Sprintf("step %d/%d loss %.4f, %.0f tokens/s", done, r.total, vals[0], float64(tokens)/el))); err != nil {
				return nil, err
			}
		}
		if r.prm.CheckpointEvery > 0 && done%r.prm.CheckpointEvery == 0 && done < r.total && req.CheckpointDir != "" {
			dir, err := r.checkpoint(req.CheckpointDir, tr, done, weights, log)
			if err != nil {
				return nil, err
			}
			if err := emit(plugins.CheckpointEvent(dir, int64(done))); err != nil {
				return nil, err
			}
		}
	}
	return last, nil
}

// checkpoint writes the state after `done` steps, with the training log
// so far.
func (r *run) checkpoint(root string, tr *trainer, done int, initial Weights, log *metricsLog) (string, error) {
	trained, opt := tr.state()
	all := Weights{}
	if r.lora != nil {
		for _, n := range tr.prog.frozen {
			all[n] = initial[n]
		}
	}
	for n, t := range trained {
		all[n] = t
	}
	spe := r.sampler.stepsPerEpoch()
	st := checkpointState{Kind: r.kind, Step: done, TotalSteps: r.total, Epoch: done / spe, BatchInEpoch: done % spe, Fingerprint: r.finger}
	return writeCheckpoint(root, st, r.cfg, all, opt, log)
}
