package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dagproject/dag/internal/gobuild"
)

var (
	dagBinOnce sync.Once
	dagBin     string
	dagBinErr  error
)

// dagBinary builds the dag command once, for tests that run it as a
// process of its own (to kill it, or to run several).
func dagBinary(t *testing.T) string {
	t.Helper()
	dagBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dag-bin-")
		if err != nil {
			dagBinErr = err
			return
		}
		dagBin = filepath.Join(dir, "dag")
		dagBinErr = gobuild.Build(context.Background(), "", dagBin, "github.com/dagproject/dag/cmd/dag")
	})
	if dagBinErr != nil {
		t.Fatalf("build dag: %v", dagBinErr)
	}
	return dagBin
}

// TestServerKilledMidTrainingResumes kills (SIGKILL) the process running
// the embedded server and worker in the middle of a training stage, starts
// a new one on the same home, and checks that the study completes and the
// interrupted stage resumed from its last stored checkpoint.
func TestServerKilledMidTrainingResumes(t *testing.T) {
	plugins := tinylmPlugins(t)
	bin := dagBinary(t)
	home := t.TempDir()
	t.Setenv("DAG_PLUGIN_PATH", plugins)
	logf, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	g := &globals{home: home}
	if err := g.resolve(); err != nil {
		t.Fatal(err)
	}
	startServer := func() *exec.Cmd {
		cmd := exec.Command(bin, "server", "--home", home)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		if _, ok := g.waitForServer(context.Background(), nil, 90*time.Second); !ok {
			t.Fatal("dag server did not come up")
		}
		return cmd
	}
	first := startServer()

	file := writeTinyStudy(t)
	slow := strings.Replace(tinyStudy, "steps: 6,", "steps: 3000, checkpoint_every: 50,", 1)
	os.WriteFile(file, []byte(slow), 0o644)
	sub := submitStart(t, file, "--home", home)

	status := func() (string, map[string]statusNode) { return runStatus(t, sub.Run, "--home", home) }

	deadline := time.Now().Add(3 * time.Minute)
	var checkpoint int64
	for checkpoint == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint was stored")
		}
		_, nodes := status()
		if p := nodes["pretrain/base"].Progress; p != nil && p.CheckpointStep > 0 {
			checkpoint = p.CheckpointStep
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	startServer()

	for {
		if time.Now().After(deadline.Add(2 * time.Minute)) {
			_, nodes := status()
			t.Fatalf("study did not complete after the restart: %+v", nodes)
		}
		st, nodes := status()
		if st == "completed" {
			pre := nodes["pretrain/base"]
			if pre.Outcome != "executed" || pre.Resumed < checkpoint {
				t.Fatalf("pretrain/base %s, resumed from step %d; a checkpoint at step %d was stored before the kill", pre.Outcome, pre.Resumed, checkpoint)
			}
			return
		}
		if st != "running" {
			t.Fatalf("run ended %s: %+v", st, nodes)
		}
		time.Sleep(time.Second)
	}
}
