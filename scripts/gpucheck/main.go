// Command gpucheck drives dag-plugin-hf through the real plugin protocol
// (go-plugin, mTLS, the Python worker) for scripts/gpu-check.sh, on a GPU
// machine that has no Go toolchain: scripts/gpu-bundle.sh builds it
// beforehand, with dag and dag-plugin-hf.
//
// Subcommands print one JSON document on stdout:
//
//	gpucheck describe -plugin P        (name, version, ready, problem, ...)
//	gpucheck train -plugin P -kind sft|dpo -model DIR -data DIR -out DIR -params JSON
//	        [-warmup N] [-checkpoints DIR] [-resume DIR] [-cancel-after N]
//	gpucheck score -plugin P -model DIR -requests FILE -out FILE -params JSON
//
// train reports the losses of every metrics event, the last metrics event
// whole, the checkpoints written and the steady-state step rate (steps
// after -warmup). With -cancel-after N it cancels the stage at its Nth
// progress event and reports whether the worker processes it saw running
// are gone within 10 s. score reports the request rate and the worker's
// figures from its log lines (tokens/s, padding, time spent encoding and
// in batches).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/host"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gpucheck describe|train|score -plugin PATH ...")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	out, err := run(ctx, os.Args[1], os.Args[2:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpucheck:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

func run(ctx context.Context, cmd string, args []string) (any, error) {
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	plugin := fs.String("plugin", "", "path of dag-plugin-hf")
	kind := fs.String("kind", "sft", "train: sft or dpo")
	model := fs.String("model", "", "model folder")
	data := fs.String("data", "", "train: data folder")
	out := fs.String("out", "", "train: output folder; score: results file")
	requests := fs.String("requests", "", "score: requests file")
	params := fs.String("params", "{}", "params JSON")
	warmup := fs.Int("warmup", 3, "train: steps left out of the steady-state rate")
	checkpoints := fs.String("checkpoints", "", "train: checkpoint folder")
	resume := fs.String("resume", "", "train: checkpoint to resume from")
	cancelAfter := fs.Int("cancel-after", 0, "train: cancel at this progress event (0: never)")
	logPath := fs.String("log", "", "plugin log file (default: beside -out)")
	_ = fs.Parse(args)
	if *plugin == "" {
		return nil, fmt.Errorf("no -plugin")
	}
	if *logPath == "" {
		*logPath = filepath.Join(os.TempDir(), "gpucheck-"+cmd+".log")
		if *out != "" {
			*logPath = filepath.Clean(*out) + ".log"
		}
	}
	c, err := launch(ctx, *plugin, *logPath)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	switch cmd {
	case "describe":
		d, err := c.Describe(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]any{"name": d.Name, "version": d.Version, "ready": d.Ready, "problem": d.Problem,
			"resource": d.Resource, "kinds": d.Kinds, "params": len(d.Params)}, nil
	case "train":
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return nil, err
		}
		inputs := map[string]string{plugins.InputModel: *model, plugins.InputData: *data}
		if *resume != "" {
			inputs[plugins.InputResume] = *resume
		}
		req := plugins.TrainRequest{
			Kind:          plugins.Kind(*kind),
			Inputs:        inputs,
			Params:        json.RawMessage(*params),
			OutputDir:     *out,
			CheckpointDir: *checkpoints,
		}
		if *cancelAfter > 0 {
			return cancelTrain(ctx, c, req, *cancelAfter)
		}
		return train(ctx, c, req, *warmup)
	case "score":
		return score(ctx, c, plugins.ScoreRequest{Checkpoint: *model, Params: json.RawMessage(*params),
			RequestsPath: *requests, OutputPath: *out}, *logPath)
	}
	return nil, fmt.Errorf("unknown subcommand %q", cmd)
}

func launch(ctx context.Context, path, logPath string) (host.Client, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	d, err := digest.SHA256.FromReader(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	return host.Launch(ctx, path, d, host.WithLogPath(logPath), host.WithStartTimeout(2*time.Minute))
}

// trainSummary is what train prints.
type trainSummary struct {
	Step          int64              `json:"step"`
	Metrics       map[string]float64 `json:"metrics"`
	LastMetrics   map[string]float64 `json:"last_metrics"`
	Losses        []float64          `json:"losses"`
	Checkpoints   []string           `json:"checkpoints"`
	Seconds       float64            `json:"seconds"`
	StepsPerSec   float64            `json:"steady_steps_per_second"`
	WorkerTokPerS float64            `json:"worker_tokens_per_second"`
	GPUMemoryGiB  float64            `json:"gpu_memory_gib"`
}

func train(ctx context.Context, c host.Client, req plugins.TrainRequest, warmup int) (trainSummary, error) {
	var s trainSummary
	var stamps []time.Time
	began := time.Now()
	res, err := c.Train(ctx, req, plugins.EmitterFunc(func(_ context.Context, e plugins.Event) error {
		switch e.Type {
		case plugins.EventProgress:
			stamps = append(stamps, time.Now())
		case plugins.EventMetrics:
			s.Losses = append(s.Losses, e.Metrics[plugins.MetricLoss])
			s.LastMetrics = e.Metrics
			s.WorkerTokPerS = e.Metrics["tokens_per_second"]
			s.GPUMemoryGiB = e.Metrics["gpu_memory_gib"]
		case plugins.EventCheckpoint:
			s.Checkpoints = append(s.Checkpoints, e.Dir)
		case plugins.EventLog:
			fmt.Fprintln(os.Stderr, e.Line)
		}
		return nil
	}))
	if err != nil {
		return s, err
	}
	s.Step, s.Metrics, s.Seconds = res.Step, res.Metrics, time.Since(began).Seconds()
	if n := len(stamps); n > warmup+1 {
		s.StepsPerSec = float64(n-1-warmup) / stamps[n-1].Sub(stamps[warmup]).Seconds()
	}
	return s, nil
}

var (
	scoreLine   = regexp.MustCompile(`score: (\d+) requests, (\d+) tokens in ([0-9.]+)s \(([0-9.]+) tokens/s\)`)
	paddingLine = regexp.MustCompile(`score: padding ([0-9.]+)% of (\d+) positions; encoding ([0-9.]+)s, batches ([0-9.]+)s \(([0-9.]+) tokens/s\)`)
)

func score(ctx context.Context, c host.Client, req plugins.ScoreRequest, logPath string) (map[string]float64, error) {
	began := time.Now()
	res, err := c.Score(ctx, req)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{"count": float64(res.Count), "seconds": time.Since(began).Seconds()}
	if b, err := os.ReadFile(logPath); err == nil {
		if m := scoreLine.FindAllSubmatch(b, -1); len(m) > 0 {
			last := m[len(m)-1]
			out["tokens"], _ = strconv.ParseFloat(string(last[2]), 64)
			out["worker_seconds"], _ = strconv.ParseFloat(string(last[3]), 64)
			out["tokens_per_second"], _ = strconv.ParseFloat(string(last[4]), 64)
		}
		if m := paddingLine.FindAllSubmatch(b, -1); len(m) > 0 {
			last := m[len(m)-1]
			pct, _ := strconv.ParseFloat(string(last[1]), 64)
			out["padding_fraction"] = pct / 100
			out["positions"], _ = strconv.ParseFloat(string(last[2]), 64)
			out["encode_seconds"], _ = strconv.ParseFloat(string(last[3]), 64)
			out["batch_seconds"], _ = strconv.ParseFloat(string(last[4]), 64)
			out["batch_tokens_per_second"], _ = strconv.ParseFloat(string(last[5]), 64)
		}
	}
	return out, nil
}

// cancelSummary is what train -cancel-after prints.
type cancelSummary struct {
	CancelledAtStep int     `json:"cancelled_at_step"`
	Error           string  `json:"error"`
	Canceled        bool    `json:"canceled"` // the call ended with context.Canceled
	WorkerPIDs      []int   `json:"worker_pids"`
	Left            []int   `json:"left"` // worker processes still alive 10 s after the call returned
	ReturnSeconds   float64 `json:"return_seconds"`
	GoneSeconds     float64 `json:"gone_seconds"`
}

// cancelTrain starts a stage, cancels it at its nth progress event (after
// noting the worker processes running then) and waits up to 10 s for them
// to be gone.
func cancelTrain(ctx context.Context, c host.Client, req plugins.TrainRequest, n int) (cancelSummary, error) {
	var s cancelSummary
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var cancelled time.Time
	steps := 0
	_, err := c.Train(ctx, req, plugins.EmitterFunc(func(_ context.Context, e plugins.Event) error {
		if e.Type == plugins.EventProgress {
			if steps++; steps == n {
				s.CancelledAtStep = steps
				s.WorkerPIDs = workerPIDs()
				cancelled = time.Now()
				cancel()
			}
		}
		return nil
	}))
	if cancelled.IsZero() {
		return s, fmt.Errorf("the stage ended after %d steps, before step %d: %v", steps, n, err)
	}
	s.ReturnSeconds = time.Since(cancelled).Seconds()
	s.Canceled = errors.Is(err, context.Canceled)
	if err != nil {
		s.Error = err.Error()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.Left = s.Left[:0]
		for _, pid := range s.WorkerPIDs {
			if alive(pid) {
				s.Left = append(s.Left, pid)
			}
		}
		if len(s.Left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.GoneSeconds = time.Since(cancelled).Seconds()
	return s, nil
}

// workerPIDs lists the processes running the Python worker (their command
// line has "dag_hf_worker"), from /proc.
func workerPIDs() []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte("dag_hf_worker")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// alive reports whether pid is a process that has not exited (a zombie
// counts as gone).
func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}
