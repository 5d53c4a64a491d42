package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/dagproject/dag/internal/telemetry"
	"github.com/dagproject/dag/internal/telemetry/telemetrytest"
)

// telStudy is the smallest study that runs a plugin: two data nodes, a
// pretrain and an SFT.
const telStudy = `version: 1
name: tel
model:
  pretrain: {corpus: corpus, params: {steps: 4, d_model: 16, layers: 1, heads: 2, context: 48, max_length: 48}}
datasets:
  corpus: {source: corpus.txt, adapter: text}
  a: {source: a.jsonl, adapter: sft-jsonl}
recipes:
  sft: {kind: sft, params: {steps: 4, lora: {rank: 2, alpha: 4}, max_length: 48, batch_size: 2}}
pipelines:
  base: {steps: []}
  sft-a: {steps: [{sft: a}]}
`

func writeTelStudy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"study.yaml": telStudy,
		"corpus.txt": strings.Repeat("the zorbs like tea. the quilps like maps.\n", 8),
		"a.jsonl":    `{"prompt":"tea?","response":"yes"}` + "\n" + `{"prompt":"maps?","response":"no"}` + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "study.yaml")
}

// inMemoryTracing installs an in-memory tracer provider as the otel
// global, which commands without OTEL_* variables record into.
func inMemoryTracing(t *testing.T) *tracetest.InMemoryExporter {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	otel.SetTracerProvider(tp)
	t.Cleanup(func() {
		otel.SetTracerProvider(noop.NewTracerProvider())
		tp.Shutdown(context.Background())
	})
	return exp
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSubmissionTrace runs a study and checks its one trace: dag submit,
// the workflow, each activity with the node's study, ID, key and cache
// outcome, and under the activities the store's spans with the bytes they
// moved and the plugin's calls with its name and digest. The resubmit's
// lookups are hits, and the worker's Prometheus endpoint counts both.
func TestSubmissionTrace(t *testing.T) {
	exp := inMemoryTracing(t)
	metricsAddr := freeAddr(t)
	t.Setenv("DAG_PLUGIN_PATH", tinylmPlugins(t))
	t.Setenv("DAG_METRICS_ADDR", metricsAddr)
	home := t.TempDir()
	startServer(t, home)
	file := writeTelStudy(t)

	cold := submitWait(t, file, home)
	expectOutcomes(t, cold, "data/corpus", "data/a", "pretrain/base", "sft/a")
	again := submitWait(t, file, home)
	expectOutcomes(t, again)

	spans := exp.GetSpans()
	tree := telemetrytest.NewTree(spans)
	roots := map[string]tracetest.SpanStub{} // run ID -> its dag submit span
	for _, s := range spans {
		if s.Name != "dag submit" {
			continue
		}
		if s.Parent.IsValid() {
			t.Errorf("dag submit has a parent span")
		}
		run, _ := telemetrytest.StubAttr(s, telemetry.AttrRun)
		study, _ := telemetrytest.StubAttr(s, telemetry.AttrStudy)
		if study.AsString() != "tel" {
			t.Errorf("dag submit: study %q, want tel", study.AsString())
		}
		roots[run.AsString()] = s
	}
	root, ok := roots[cold.Run]
	if !ok {
		t.Fatalf("no dag submit span for run %s among %d spans", cold.Run, len(spans))
	}
	traceID := root.SpanContext.TraceID()

	inTrace := func(s tracetest.SpanStub) bool { return s.SpanContext.TraceID() == traceID }
	under := func(s tracetest.SpanStub, ancestor string) bool {
		for _, a := range tree.Ancestors(s) {
			if a == ancestor || strings.HasPrefix(a, ancestor) {
				return true
			}
		}
		return false
	}
	str := func(s tracetest.SpanStub, k attribute.Key) string {
		v, _ := telemetrytest.StubAttr(s, k)
		return v.Emit()
	}

	var workflow int
	ran := map[string]bool{}
	looked := map[string]string{}
	var storeSpans, storeBytes, pluginSpans int
	for _, s := range spans {
		if !inTrace(s) {
			continue
		}
		switch {
		case s.Name == "RunWorkflow:dag.Study":
			workflow++
			if !under(s, "dag submit") {
				t.Errorf("the workflow span is not under dag submit: %v", tree.Ancestors(s))
			}
		case s.Name == "RunActivity:Run":
			node := str(s, telemetry.AttrNode)
			ran[node] = true
			if strings.HasPrefix(node, "data/") && str(s, telemetry.AttrCache) == telemetry.CacheExecuted {
				// Data nodes are looked up by Run itself: executed
				// means the look-up missed.
				looked[node] = telemetry.CacheMiss
			}
			if !under(s, "RunWorkflow:dag.Study") || !under(s, "dag submit") {
				t.Errorf("Run %s is not under the workflow: %v", node, tree.Ancestors(s))
			}
			if str(s, telemetry.AttrStudy) != "tel" || !strings.HasPrefix(str(s, telemetry.AttrKey), "sha256:") || str(s, telemetry.AttrCache) != telemetry.CacheExecuted {
				t.Errorf("Run %s: attributes %v", node, s.Attributes)
			}
			if strings.HasPrefix(node, "pretrain/") || strings.HasPrefix(node, "sft/") {
				if str(s, telemetry.AttrPlugin) != "tinylm" || !strings.HasPrefix(str(s, telemetry.AttrPluginDigest), "sha256:") {
					t.Errorf("Run %s: no plugin name and digest: %v", node, s.Attributes)
				}
			}
		case s.Name == "RunActivity:Lookup":
			looked[str(s, telemetry.AttrNode)] = str(s, telemetry.AttrCache)
		case strings.HasPrefix(s.Name, "store."):
			if under(s, "RunActivity:") {
				storeSpans++
				if v, ok := telemetrytest.StubAttr(s, telemetry.AttrBytes); ok && v.AsInt64() > 0 {
					storeBytes++
				}
			}
		case s.Name == "dag.plugin.v1.Backend/Train":
			pluginSpans++
			if !under(s, "RunActivity:Run") || !under(s, "dag submit") {
				t.Errorf("plugin call is not under its activity: %v", tree.Ancestors(s))
			}
			if str(s, telemetry.AttrPlugin) != "tinylm" || !strings.HasPrefix(str(s, telemetry.AttrPluginDigest), "sha256:") {
				t.Errorf("plugin span attributes %v", s.Attributes)
			}
		}
	}
	// A replay (here: a query after the run closed) adds a RunWorkflow
	// span to the same trace; Temporal's interceptor does that by design.
	if workflow == 0 {
		t.Error("no workflow span in the trace")
	}
	for _, id := range []string{"data/corpus", "data/a", "pretrain/base", "sft/a"} {
		if !ran[id] {
			t.Errorf("no Run span for %s in the trace", id)
		}
		if looked[id] != telemetry.CacheMiss {
			t.Errorf("Lookup of %s: cache %q, want miss", id, looked[id])
		}
	}
	if storeSpans == 0 || storeBytes == 0 {
		t.Errorf("%d store spans under activities, %d with bytes", storeSpans, storeBytes)
	}
	if pluginSpans < 2 {
		t.Errorf("%d plugin Train spans, want 2 (pretrain, sft)", pluginSpans)
	}

	// The resubmit is a trace of its own whose lookups hit.
	hits := 0
	if r, ok := roots[again.Run]; !ok || r.SpanContext.TraceID() == traceID {
		t.Errorf("the resubmit has no trace of its own")
	} else {
		for _, s := range spans {
			lookup := s.Name == "RunActivity:Lookup" || s.Name == "RunActivity:Run" // data nodes: Run looks up
			if s.SpanContext.TraceID() == r.SpanContext.TraceID() && lookup && str(s, telemetry.AttrCache) == telemetry.CacheHit {
				hits++
			}
		}
	}
	if hits != 4 {
		t.Errorf("%d cache hits in the resubmit's trace, want 4", hits)
	}

	metrics := scrapeMetrics(t, metricsAddr)
	for _, want := range []string{
		`dag_cache_lookups_total{dag_cache="miss",dag_kind="sft"`,
		`dag_cache_lookups_total{dag_cache="hit",dag_kind="sft"`,
		`dag_stage_duration_seconds_count{dag_kind="pretrain",dag_outcome="executed"`,
		`dag_store_transferred_bytes_total{dag_direction="write"`,
		`dag_store_duration_seconds_count{dag_store_op="open"`,
		`dag_train_tokens_per_second{dag_kind="sft",dag_plugin_name="tinylm"`,
		`temporal_`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", grepLines(metrics, "dag_"))
	}
}

func scrapeMetrics(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("metrics endpoint: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestSubmissionTraceOverOTLP exports to an OTLP receiver the test runs:
// the CLI's and the worker's spans arrive, and so do the plugin process's
// own, in the same trace.
func TestSubmissionTraceOverOTLP(t *testing.T) {
	otel.SetTracerProvider(noop.NewTracerProvider())
	col := telemetrytest.StartCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.Endpoint)
	t.Setenv("OTEL_SERVICE_NAME", "dag-test") // the plugin keeps its own name
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
	t.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "500")
	t.Setenv("DAG_PLUGIN_PATH", tinylmPlugins(t))
	home := t.TempDir()
	startServer(t, home)
	cold := submitWait(t, writeTelStudy(t), home)

	var got map[string]bool
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		got = map[string]bool{}
		var traceID string
		for _, s := range col.Spans() {
			if run, _ := s.Attr(string(telemetry.AttrRun)); s.GetName() == "dag submit" && run == cold.Run {
				traceID = s.TraceID()
			}
		}
		for _, s := range col.Spans() {
			if s.TraceID() != traceID {
				continue
			}
			switch {
			case s.GetName() == "dag submit" && s.Service == "dag-test":
				got["submit"] = true
			case s.GetName() == "RunActivity:Run" && s.Service == "dag-test":
				got["activity"] = true
			case strings.HasPrefix(s.GetName(), "store.") && s.Service == "dag-test":
				got["store"] = true
			case s.GetName() == "dag.plugin.v1.Backend/Train" && s.Service == "dag-test":
				got["plugin client"] = true
			case s.GetName() == "plugin.train" && s.Service == "dag-plugin-tinylm":
				got["plugin process"] = true
			}
		}
		if len(got) == 5 && col.MetricRequests() > 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("received %v of the trace (want submit, activity, store, plugin client, plugin process) and %d metric exports, among %d spans", got, col.MetricRequests(), len(col.Spans()))
}

// The long-running commands take --metrics-addr; the others do not.
func TestMetricsAddrFlag(t *testing.T) {
	for _, c := range []struct {
		cmd  string
		want bool
	}{{"server", true}, {"worker", true}, {"submit", false}, {"plan", false}} {
		code, out, errs := dag(t, c.cmd, "--help")
		if code != 0 {
			t.Fatalf("dag %s --help: exit %d: %s", c.cmd, code, errs)
		}
		if got := strings.Contains(out, "--metrics-addr"); got != c.want {
			t.Errorf("dag %s --help mentions --metrics-addr: %v, want %v", c.cmd, got, c.want)
		}
	}
}
