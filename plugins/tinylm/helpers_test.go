package tinylm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dagproject/dag/plugins"
)

// tinyArch keeps test models small: a step takes milliseconds.
const tinyArch = `"d_model": 32, "layers": 2, "heads": 2, "context": 64, "max_length": 64`

var things = []string{"rivers", "boats", "gardens", "stars", "music", "bread", "trees", "clouds",
	"books", "lamps", "hills", "roads", "birds", "cats", "songs", "kites"}
var folks = []string{"quilps", "zorbs", "mavens", "tarns"}

// corpus is a quickstart-like text.
func corpus() string {
	var b strings.Builder
	for i := range 48 {
		f, t := folks[i%len(folks)], things[(i*7)%len(things)]
		fmt.Fprintf(&b, "The %s like %s. Many people talk about %s near the %s.\n", f, t, t, f)
	}
	return b.String()
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func jsonl(t testing.TB, recs []map[string]string) string {
	t.Helper()
	var b strings.Builder
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// recorder is an Emitter that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []plugins.Event
}

func (r *recorder) Emit(_ context.Context, e plugins.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) of(typ plugins.EventType) []plugins.Event {
	var out []plugins.Event
	for _, e := range r.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// train runs one stage in-process and returns its output folder.
func train(t testing.TB, kind plugins.Kind, inputs map[string]string, params, ckptDir string) (string, *recorder, plugins.TrainResult) {
	t.Helper()
	out := t.TempDir()
	rec := &recorder{}
	res, err := New().Train(t.Context(), plugins.TrainRequest{
		Kind: kind, Inputs: inputs, Params: json.RawMessage(params), OutputDir: out, CheckpointDir: ckptDir,
	}, rec)
	if err != nil {
		t.Fatalf("train %s: %v", kind, err)
	}
	return out, rec, res
}

// digestDir hashes a folder's file names and contents, in name order.
func digestDir(t testing.TB, dir string) string {
	t.Helper()
	h := sha256.New()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

var (
	baseOnce sync.Once
	baseDir  string
	baseErr  error
)

// baseModel pretrains the tiny model the sft and dpo tests start from,
// once per test binary.
func baseModel(t testing.TB) string {
	t.Helper()
	baseOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tinylm-base-")
		if err != nil {
			baseErr = err
			return
		}
		data := writeFile(t, filepath.Join(dir, "data"), corpusFile, corpus())
		out := filepath.Join(dir, "model")
		os.MkdirAll(out, 0o755)
		_, baseErr = New().Train(context.Background(), plugins.TrainRequest{
			Kind:      plugins.KindPretrain,
			Inputs:    map[string]string{plugins.InputData: data},
			Params:    json.RawMessage(`{` + tinyArch + `, "steps": 80, "learning_rate": 0.003, "batch_size": 8}`),
			OutputDir: out,
		}, plugins.Discard)
		baseDir = out
	})
	if baseErr != nil {
		t.Fatalf("pretrain base: %v", baseErr)
	}
	return baseDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if baseDir != "" {
		os.RemoveAll(filepath.Dir(baseDir))
	}
	os.Exit(code)
}

// score scores reqs with the model in dir.
func score(t testing.TB, dir string, params string, reqs []plugins.LoglikelihoodRequest) []plugins.LoglikelihoodResult {
	t.Helper()
	res, err := New().Score(t.Context(), plugins.ScoreRequest{Checkpoint: dir, Params: json.RawMessage(params), Requests: reqs})
	if err != nil {
		t.Fatalf("score: %v", err)
	}
	return res.Results
}

func readResults(t testing.TB, path string) []plugins.LoglikelihoodResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := plugins.ReadResults(f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
