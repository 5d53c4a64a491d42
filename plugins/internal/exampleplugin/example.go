package exampleplugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/sdk"
)

// Config sets up a Plugin. The zero value is a ready plugin named
// "example".
type Config struct {
	// Name is the plugin's name; "" means "example".
	Name string
	// ProblemFile, when it exists, makes Describe report not ready with
	// the file's content as the problem.
	ProblemFile string
	// ChildCommand is started by spawn_child; nil disables spawn_child.
	ChildCommand []string
	// Resource is the class it declares; "" means cpu.
	Resource plugins.Resource
}

// New returns the toy backend.
func New(cfg Config) sdk.Plugin {
	if cfg.Name == "" {
		cfg.Name = "example"
	}
	if cfg.Resource == "" {
		cfg.Resource = plugins.ResourceCPU
	}
	return &example{cfg: cfg}
}

type example struct {
	cfg Config
}

// Version is the toy's version.
const Version = "0.1.0"

func (p *example) Describe(ctx context.Context) (sdk.Description, error) {
	d := sdk.Description{
		Name:     p.cfg.Name,
		Version:  Version,
		Kinds:    plugins.Kinds,
		Resource: p.cfg.Resource,
		Ready:    true,
		Params: []sdk.Param{
			{Path: "steps", Type: plugins.TypeInt, Default: json.RawMessage("3"), Description: "training steps"},
			{Path: "lora.rank", Type: plugins.TypeInt, Default: json.RawMessage("8"), Description: "ignored; shows a dotted path"},
			{Path: "checkpoint_every", Type: plugins.TypeInt, Default: json.RawMessage("0"), Description: "write a checkpoint every N steps; 0 never"},
			{Path: "step_delay_ms", Type: plugins.TypeInt, Default: json.RawMessage("0"), Description: "sleep per step", ExecutionOnly: true},
			{Path: "ignore_cancel", Type: plugins.TypeBool, Default: json.RawMessage("false"), Description: "keep running when cancelled", ExecutionOnly: true},
			{Path: "spawn_child", Type: plugins.TypeBool, Default: json.RawMessage("false"), Description: "start a child process first", ExecutionOnly: true},
			{Path: "crash_at", Type: plugins.TypeInt, Default: json.RawMessage("0"), Description: "exit the process at this step; 0 never", ExecutionOnly: true},
			{Path: "crash_message", Type: plugins.TypeString, Default: json.RawMessage(`"crashed"`), Description: "written to stderr before crashing", ExecutionOnly: true},
			{Path: "softmax", Type: plugins.TypeBool, Default: json.RawMessage("true"), Description: "score with a log-softmax per token"},
		},
	}
	if p.cfg.ProblemFile != "" {
		if b, err := os.ReadFile(p.cfg.ProblemFile); err == nil {
			d.Ready = false
			d.Problem = strings.TrimSpace(string(b))
			if d.Problem == "" {
				d.Problem = "not ready"
			}
		}
	}
	return d, nil
}

type trainParams struct {
	Steps           int64  `json:"steps"`
	CheckpointEvery int64  `json:"checkpoint_every"`
	StepDelayMS     int64  `json:"step_delay_ms"`
	IgnoreCancel    bool   `json:"ignore_cancel"`
	SpawnChild      bool   `json:"spawn_child"`
	CrashAt         int64  `json:"crash_at"`
	CrashMessage    string `json:"crash_message"`
	Lora            struct {
		Rank int `json:"rank"`
	} `json:"lora"`
}

func (p *example) Train(ctx context.Context, req sdk.TrainRequest, ev sdk.Emitter) (sdk.TrainResult, error) {
	if d, _ := p.Describe(ctx); !d.Ready {
		return sdk.TrainResult{}, fmt.Errorf("%s: %s: %w", p.cfg.Name, d.Problem, errdefs.ErrFailedPrecondition)
	}
	prm := trainParams{Steps: 3, CrashMessage: "crashed"}
	if err := sdk.DecodeParams(req.Params, &prm); err != nil {
		return sdk.TrainResult{}, err
	}
	count, err := readCounter(req.Inputs[plugins.InputModel])
	if err != nil {
		return sdk.TrainResult{}, err
	}
	if prm.SpawnChild {
		if err := p.spawnChild(req.OutputDir); err != nil {
			return sdk.TrainResult{}, err
		}
	}
	var last map[string]float64
	for step := int64(1); step <= prm.Steps; step++ {
		if prm.CrashAt == step {
			fmt.Fprintln(sdk.Stderr, prm.CrashMessage)
			os.Exit(3)
		}
		if err := sleep(ctx, time.Duration(prm.StepDelayMS)*time.Millisecond, prm.IgnoreCancel); err != nil {
			return sdk.TrainResult{}, err
		}
		count++
		last = map[string]float64{plugins.MetricLoss: 1 / float64(step)}
		if req.Kind == plugins.KindDPO {
			last[plugins.MetricRewardChosen] = 0.1 * float64(step)
			last[plugins.MetricRewardRejected] = -0.1 * float64(step)
			last[plugins.MetricRewardMargin] = 0.2 * float64(step)
			last[plugins.MetricRewardAccuracy] = 1 - 1/float64(step+1)
		}
		for _, e := range []sdk.Event{
			plugins.ProgressEvent(step, prm.Steps),
			plugins.MetricsEvent(step, last),
			plugins.LogEvent(fmt.Sprintf("step %d/%d counter %d", step, prm.Steps, count)),
		} {
			if err := ev.Emit(ctx, e); err != nil && !prm.IgnoreCancel {
				return sdk.TrainResult{}, err
			}
		}
		if prm.CheckpointEvery > 0 && step%prm.CheckpointEvery == 0 && req.CheckpointDir != "" {
			dir := filepath.Join(req.CheckpointDir, fmt.Sprintf("step-%d", step))
			if err := writeCounter(dir, count); err != nil {
				return sdk.TrainResult{}, err
			}
			if err := ev.Emit(ctx, plugins.CheckpointEvent(dir, step)); err != nil {
				return sdk.TrainResult{}, err
			}
		}
	}
	if err := writeCounter(req.OutputDir, count); err != nil {
		return sdk.TrainResult{}, err
	}
	return sdk.TrainResult{Step: prm.Steps, Metrics: last}, nil
}

func (p *example) spawnChild(outDir string) error {
	if len(p.cfg.ChildCommand) == 0 {
		return fmt.Errorf("spawn_child: no child command configured: %w", errdefs.ErrFailedPrecondition)
	}
	cmd := exec.Command(p.cfg.ChildCommand[0], p.cfg.ChildCommand[1:]...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("spawn_child: %w", err)
	}
	go cmd.Wait() // reap it if it ever ends on its own
	return os.WriteFile(filepath.Join(outDir, "child.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
}

// sleep waits d, or until ctx is done unless ignore is set.
func sleep(ctx context.Context, d time.Duration, ignore bool) error {
	if ignore {
		time.Sleep(d)
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readCounter reads dir/counter.txt; no dir means 0, a dir without the
// file is NotFound.
func readCounter(dir string) (int64, error) {
	if dir == "" {
		return 0, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "counter.txt"))
	if errors.Is(err, os.ErrNotExist) {
		if fi, serr := os.Stat(dir); serr == nil && fi.IsDir() {
			return 0, nil // another backend's model: the toy counts from 0
		}
		return 0, fmt.Errorf("model %s: no counter.txt: %w", dir, errdefs.ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("model %s: counter.txt: %v: %w", dir, err, errdefs.ErrDataLoss)
	}
	return n, nil
}

func writeCounter(dir string, n int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "counter.txt"), []byte(strconv.FormatInt(n, 10)+"\n"), 0o644)
}

type scoreParams struct {
	Softmax *bool `json:"softmax"`
}

func (p *example) Score(ctx context.Context, req sdk.ScoreRequest) (sdk.ScoreResponse, error) {
	if fi, err := os.Stat(req.Checkpoint); err != nil || !fi.IsDir() {
		return sdk.ScoreResponse{}, fmt.Errorf("checkpoint %s: %w", req.Checkpoint, errdefs.ErrNotFound)
	}
	count, err := readCounter(req.Checkpoint)
	if err != nil {
		return sdk.ScoreResponse{}, err
	}
	var prm scoreParams
	if len(req.Params) > 0 {
		if err := json.Unmarshal(req.Params, &prm); err != nil {
			return sdk.ScoreResponse{}, fmt.Errorf("params: %v: %w", err, errdefs.ErrInvalidArgument)
		}
	}
	m := toyLM{seed: int(count % 17), softmax: prm.Softmax == nil || *prm.Softmax}
	return sdk.ScoreBatches(ctx, req, 1024, m.scoreBatch)
}

// toyLM is a byte-level bigram model; see the package doc.
type toyLM struct {
	seed    int
	softmax bool
}

// Score computes the toy's result for one request, in-process; tests
// compare it with what comes over the wire.
func Score(seed int, softmax bool, q sdk.LoglikelihoodRequest) sdk.LoglikelihoodResult {
	return toyLM{seed: seed % 17, softmax: softmax}.score(q)
}

func (m toyLM) scoreBatch(_ context.Context, reqs []sdk.LoglikelihoodRequest) ([]sdk.LoglikelihoodResult, error) {
	out := make([]sdk.LoglikelihoodResult, len(reqs))
	for i, q := range reqs {
		out[i] = m.score(q)
	}
	return out, nil
}

func (m toyLM) logit(prev, b int) float64 {
	return float64((prev*131+b*31+m.seed)%17) / 4
}

func (m toyLM) score(q sdk.LoglikelihoodRequest) sdk.LoglikelihoodResult {
	prev := 0 // BOS, or an empty context
	if !q.BOSContext && q.Context != "" {
		prev = int(q.Context[len(q.Context)-1])
	}
	res := sdk.LoglikelihoodResult{Tokens: len(q.Continuation), Greedy: true}
	for i := 0; i < len(q.Continuation); i++ {
		b := int(q.Continuation[i])
		var lse float64
		if m.softmax {
			best, maxLogit, sum := 0, math.Inf(-1), 0.0
			for v := range 256 {
				l := m.logit(prev, v)
				sum += math.Exp(l)
				if l > maxLogit {
					best, maxLogit = v, l
				}
			}
			lse = math.Log(sum)
			res.Greedy = res.Greedy && best == b
		} else {
			lse = math.Log(256) + 2
			res.Greedy = res.Greedy && (prev*131+b*31+m.seed)%17 == 16
		}
		res.Logprob += m.logit(prev, b) - lse
		prev = b
	}
	return res
}

var _ sdk.Plugin = (*example)(nil)
