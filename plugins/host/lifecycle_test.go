//go:build linux

package host_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/host"
)

// A cancelled Train kills the plugin, even one that ignores cancellation,
// and the child process it started: nothing is left running.
func TestCancelKillsPlugin(t *testing.T) {
	c, _ := launch(t, "example")
	pid := c.Pid()
	out := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	started := time.Now()
	_, err := c.Train(ctx, plugins.TrainRequest{
		Kind:      plugins.KindPretrain,
		OutputDir: out,
		Params:    json.RawMessage(`{"steps": 100000, "step_delay_ms": 20, "ignore_cancel": true, "spawn_child": true}`),
	}, plugins.EmitterFunc(func(_ context.Context, e plugins.Event) error {
		if e.Type == plugins.EventProgress && e.Step == 3 {
			cancel()
		}
		return nil
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if d := time.Since(started); d > 10*time.Second {
		t.Errorf("cancel took %v", d)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(mustRead(t, filepath.Join(out, "child.pid")))))
	if err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid, 5*time.Second)
	waitGone(t, child, 5*time.Second)
	if _, err := c.Describe(t.Context()); err == nil {
		t.Error("describe after the kill succeeded")
	}
}

// Ending the Launch context kills the plugin.
func TestLaunchContextKillsPlugin(t *testing.T) {
	dir := t.TempDir()
	install(t, dir, "example")
	info := discoverOne(t, dir, "example")
	ctx, cancel := context.WithCancel(t.Context())
	c, err := host.Launch(ctx, info.Path, info.Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pid := c.Pid()
	cancel()
	waitGone(t, pid, 5*time.Second)
}

// A plugin that dies mid-call yields an ExitError with its stderr.
func TestCrashCarriesStderr(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "run.log")
	c, _ := launch(t, "example", host.WithLogPath(logPath))
	var steps int
	_, err := c.Train(t.Context(), plugins.TrainRequest{
		Kind:      plugins.KindSFT,
		OutputDir: t.TempDir(),
		Params:    json.RawMessage(`{"steps": 5, "crash_at": 3, "crash_message": "CUDA out of toy memory at step 3"}`),
	}, plugins.EmitterFunc(func(_ context.Context, e plugins.Event) error {
		if e.Type == plugins.EventProgress {
			steps++
		}
		return nil
	}))
	var exit *host.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("got %v (%T), want *host.ExitError", err, err)
	}
	if !errdefs.IsUnavailable(err) {
		t.Errorf("class: %v is not Unavailable", err)
	}
	if exit.Status != "exit status 3" || exit.Op != "train" || exit.Name != "example" {
		t.Errorf("exit %+v", exit)
	}
	if !strings.Contains(exit.Stderr, "CUDA out of toy memory at step 3") || !strings.Contains(err.Error(), "CUDA out of toy memory") {
		t.Errorf("stderr tail %q; error %q", exit.Stderr, err)
	}
	// Events sent just before a crash may be lost with the process.
	if steps > 2 {
		t.Errorf("%d progress events before the crash at step 3", steps)
	}
	waitGone(t, c.Pid(), 5*time.Second)
	c.Close()
	if log := string(mustRead(t, logPath)); !strings.Contains(log, "CUDA out of toy memory") {
		t.Errorf("log file lacks stderr:\n%s", log)
	}
	t.Logf("error: %v", err)
}

// A plugin dies with its dag process, even one killed with SIGKILL that
// cleans nothing up (the parent-death signal).
func TestParentDeathKillsPlugin(t *testing.T) {
	dir := t.TempDir()
	path := install(t, dir, "example")
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), hostHelperEnv+"="+path)
	helper.Stderr = os.Stderr
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer helper.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || gone(pid) {
		t.Fatalf("helper printed %q", line)
	}
	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	helper.Wait()
	waitGone(t, pid, 5*time.Second)
}
