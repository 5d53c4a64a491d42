package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/host"
)

func TestSearchPath(t *testing.T) {
	sep := string(os.PathListSeparator)
	got := host.SearchPath("/opt/dag/bin", "/a"+sep+sep+"/b"+sep+"/opt/dag/bin", "/home/u/.dag")
	want := []string{"/opt/dag/bin", "/a", "/b", "/home/u/.dag/plugins"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := host.SearchPath("", "", ""); len(got) != 0 {
		t.Errorf("empty: got %v", got)
	}
}

func TestFindFirstWins(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	write := func(dir, name string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "dag-plugin-hf", 0o755)
	write(b, "dag-plugin-hf", 0o755)
	write(b, "dag-plugin-tinylm", 0o755)
	write(a, "dag-plugin-noexec", 0o644)
	write(a, "dag-plugin-bad name", 0o755)
	write(a, "dag-plugin-", 0o755)
	write(a, "other", 0o755)
	os.Mkdir(filepath.Join(a, "dag-plugin-dir"), 0o755)
	got := host.Find([]string{a, filepath.Join(a, "missing"), b})
	want := map[string]string{
		"hf":     filepath.Join(a, "dag-plugin-hf"),
		"tinylm": filepath.Join(b, "dag-plugin-tinylm"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestDiscoverAndHandshake(t *testing.T) {
	dir := t.TempDir()
	path := install(t, dir, "example")
	info := discoverOne(t, dir, "example")
	if info.Path != path || !info.Ready || info.Problem != "" || info.ProtocolVersion != plugins.ProtocolVersion {
		t.Fatalf("info %+v", info)
	}
	want, _ := digest.SHA256.FromBytes(mustRead(t, path)), 0
	if info.Digest != want {
		t.Errorf("digest %s, want %s", info.Digest, want)
	}
	if info.Resource != plugins.ResourceCPU || !info.Supports(plugins.KindDPO) || info.Version == "" {
		t.Errorf("info %+v", info)
	}
	if got := info.ExecutionOnlyPaths(); !reflect.DeepEqual(got, []string{"crash_at", "crash_message", "ignore_cancel", "spawn_child", "step_delay_ms"}) {
		t.Errorf("execution-only params %v", got)
	}

	c, err := host.Launch(t.Context(), info.Path, info.Digest)
	if err != nil {
		t.Fatal(err)
	}
	pid := c.Pid()
	if pid <= 0 {
		t.Fatalf("pid %d", pid)
	}
	d, err := c.Describe(t.Context())
	if err != nil || d.Name != "example" {
		t.Fatalf("describe: %+v, %v", d, err)
	}
	c.Close()
	c.Close()
	waitGoneIfLinux(t, pid)
	if _, err := c.Describe(t.Context()); err == nil {
		t.Error("describe after close succeeded")
	}
}

func TestModifiedBinaryIsRefused(t *testing.T) {
	dir := t.TempDir()
	path := install(t, dir, "example")
	info := discoverOne(t, dir, "example")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("tampered"))
	f.Close()
	_, err = host.Launch(t.Context(), info.Path, info.Digest)
	if !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("got %v, want FailedPrecondition", err)
	}
	// Rediscovery sees the new digest, and the binary (which still runs)
	// launches under it.
	again := discoverOne(t, dir, "example")
	if again.Digest == info.Digest || !again.Ready {
		t.Errorf("rediscovered %+v", again)
	}
}

func TestLaunchErrors(t *testing.T) {
	dir := t.TempDir()
	path := install(t, dir, "example")
	good := digest.SHA256.FromBytes(mustRead(t, path))
	if _, err := host.Launch(t.Context(), filepath.Join(dir, "dag-plugin-missing"), good); !errdefs.IsNotFound(err) {
		t.Errorf("missing binary: got %v, want NotFound", err)
	}
	if _, err := host.Launch(t.Context(), path, "sha256:nothex"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad digest: got %v, want InvalidArgument", err)
	}
	if _, err := host.Launch(t.Context(), path, digest.SHA512.FromBytes(nil)); !errdefs.IsInvalidArgument(err) {
		t.Errorf("sha512 digest: got %v, want InvalidArgument", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := host.Launch(ctx, path, good); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled launch: got %v, want context.Canceled", err)
	}
}

func TestTrainStreamsProgress(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "run.log")
	c, _ := launch(t, "example", host.WithLogPath(logPath))
	out, ckpt := t.TempDir(), t.TempDir()
	var events []plugins.Event
	res, err := c.Train(t.Context(), plugins.TrainRequest{
		Kind:          plugins.KindSFT,
		OutputDir:     out,
		CheckpointDir: ckpt,
		Params:        json.RawMessage(`{"steps": 5, "checkpoint_every": 2}`),
	}, plugins.EmitterFunc(func(_ context.Context, e plugins.Event) error {
		events = append(events, e)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	var steps []int64
	var ckpts []string
	for _, e := range events {
		switch e.Type {
		case plugins.EventProgress:
			if e.Total != 5 {
				t.Errorf("total %d", e.Total)
			}
			steps = append(steps, e.Step)
		case plugins.EventCheckpoint:
			ckpts = append(ckpts, e.Dir)
		}
	}
	if !reflect.DeepEqual(steps, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("progress steps %v", steps)
	}
	if want := []string{filepath.Join(ckpt, "step-2"), filepath.Join(ckpt, "step-4")}; !reflect.DeepEqual(ckpts, want) {
		t.Errorf("checkpoints %v, want %v", ckpts, want)
	}
	if res.Step != 5 || res.Metrics[plugins.MetricLoss] != 0.2 {
		t.Errorf("result %+v", res)
	}
	if b := mustRead(t, filepath.Join(out, "counter.txt")); string(b) != "5\n" {
		t.Errorf("counter %q", b)
	}
	c.Close()
	if log := string(mustRead(t, logPath)); !strings.Contains(log, "step 3/5 counter 3") {
		t.Errorf("log file lacks the log events:\n%s", log)
	}
}

func TestScoreAcrossProcess(t *testing.T) {
	c, _ := launch(t, "example")
	ckpt := t.TempDir()
	os.WriteFile(filepath.Join(ckpt, "counter.txt"), []byte("3\n"), 0o644)
	reqs := []plugins.LoglikelihoodRequest{
		{Context: "Q: Is the sky blue?\nA:", Continuation: " yes"},
		{Context: "Q: Is the sky blue?\nA:", Continuation: " no"},
		{Continuation: "The sentence.", BOSContext: true},
	}
	res, err := c.Score(t.Context(), plugins.ScoreRequest{Checkpoint: ckpt, Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range reqs {
		if want := exampleScore(3, q); res.Results[i] != want {
			t.Errorf("request %d: got %+v, want %+v", i, res.Results[i], want)
		}
	}

	// File mode: only paths cross.
	dir := t.TempDir()
	in, out := filepath.Join(dir, "requests.jsonl"), filepath.Join(dir, "results.jsonl")
	f, _ := os.Create(in)
	plugins.WriteRequests(f, reqs)
	f.Close()
	fres, err := c.Score(t.Context(), plugins.ScoreRequest{Checkpoint: ckpt, RequestsPath: in, OutputPath: out})
	if err != nil || fres.Count != len(reqs) {
		t.Fatalf("file mode: %+v, %v", fres, err)
	}
	rf, _ := os.Open(out)
	got, err := plugins.ReadResults(rf)
	rf.Close()
	if err != nil || !reflect.DeepEqual(got, res.Results) {
		t.Errorf("results file %+v, %v", got, err)
	}

	// Error classes survive the process boundary.
	_, err = c.Score(t.Context(), plugins.ScoreRequest{Checkpoint: filepath.Join(dir, "nope"), Requests: reqs})
	if !errdefs.IsNotFound(err) {
		t.Errorf("missing checkpoint: got %v, want NotFound", err)
	}
	_, err = c.Train(t.Context(), plugins.TrainRequest{Kind: plugins.KindSFT, OutputDir: dir, Params: json.RawMessage(`{"steps": "many"}`)}, plugins.Discard)
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad params: got %v, want InvalidArgument", err)
	}
	// The plugin is still usable after errors it answered.
	if _, err := c.Describe(t.Context()); err != nil {
		t.Errorf("describe after errors: %v", err)
	}
}

func TestNotReadyIsListed(t *testing.T) {
	dir := t.TempDir()
	install(t, dir, "example")
	path := install(t, dir, "sick")
	os.WriteFile(path+".problem", []byte("python package torch not installed"), 0o644)
	// A file that is no plugin at all is listed too, with what went wrong.
	os.WriteFile(filepath.Join(dir, "dag-plugin-junk"), []byte("#!/bin/sh\necho hello\necho 'no handshake here' >&2\nexit 2\n"), 0o755)

	infos, err := host.Discover(t.Context(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range infos {
		names = append(names, i.Name)
	}
	if !reflect.DeepEqual(names, []string{"example", "junk", "sick"}) {
		t.Fatalf("names %v", names)
	}
	sick := infos[2]
	if sick.Ready || sick.Problem != "python package torch not installed" || sick.Digest == "" || sick.Version == "" {
		t.Errorf("sick: %+v", sick)
	}
	junk := infos[1]
	if junk.Ready || junk.Problem == "" || junk.Digest == "" || strings.Contains(junk.Problem, "\n") {
		t.Errorf("junk: %+v", junk)
	}
	t.Logf("junk problem: %s", junk.Problem)

	c, err := host.Launch(t.Context(), sick.Path, sick.Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Train(t.Context(), plugins.TrainRequest{Kind: plugins.KindSFT, OutputDir: t.TempDir()}, plugins.Discard)
	if !errdefs.IsFailedPrecondition(err) {
		t.Errorf("train on a not-ready plugin: got %v, want FailedPrecondition", err)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
