// Command gpucheck drives dag-plugin-hf through the real plugin protocol
// (go-plugin, mTLS, the Python worker) for scripts/gpu-check.sh, on a GPU
// machine that has no Go toolchain: build it beforehand with
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -o BIN/ ./cmd/dag-plugin-hf ./scripts/gpucheck
//
// Subcommands print one JSON document on stdout:
//
//	gpucheck describe -plugin P
//	gpucheck train -plugin P -kind sft|dpo -model DIR -data DIR -out DIR -params JSON [-warmup N]
//	gpucheck score -plugin P -model DIR -requests FILE -out FILE -params JSON
//
// train reports the losses of every metrics event and the steady-state
// step rate (steps after -warmup); score the request rate and the worker's
// tokens/s (read from its log line).
package main

import (
	"context"
	"encoding/json"
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
		if err == nil && !d.Ready {
			err = fmt.Errorf("plugin not ready: %s", d.Problem)
		}
		return d, err
	case "train":
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return nil, err
		}
		return train(ctx, c, plugins.TrainRequest{
			Kind:      plugins.Kind(*kind),
			Inputs:    map[string]string{plugins.InputModel: *model, plugins.InputData: *data},
			Params:    json.RawMessage(*params),
			OutputDir: *out,
		}, *warmup)
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
	Losses        []float64          `json:"losses"`
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
			s.WorkerTokPerS = e.Metrics["tokens_per_second"]
			s.GPUMemoryGiB = e.Metrics["gpu_memory_gib"]
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

var scoreLine = regexp.MustCompile(`score: (\d+) requests, (\d+) tokens in ([0-9.]+)s \(([0-9.]+) tokens/s\)`)

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
	}
	return out, nil
}
