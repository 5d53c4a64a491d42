// Command dag-plugin-hf serves the hf backend (docs/gpu.md) as a dag
// plugin. DAG_PYTHON names the interpreter that runs its Python worker
// (default python3); DAG_HF_CACHE the folder its sources are written to.
package main

import (
	"context"
	"log"
	"os"

	"github.com/dagproject/dag/internal/telemetry"
	"github.com/dagproject/dag/plugins/hf"
	"github.com/dagproject/dag/plugins/sdk"
)

func main() {
	opts := []hf.Option{hf.WithLog(sdk.Stderr)}
	if py := os.Getenv("DAG_PYTHON"); py != "" {
		opts = append(opts, hf.WithPython(py))
	}
	if dir := os.Getenv("DAG_HF_CACHE"); dir != "" {
		opts = append(opts, hf.WithCacheDir(dir))
	}
	b, err := hf.New(opts...)
	if err != nil {
		log.Fatal(err)
	}
	// Traces go where the host's OTEL_EXPORTER_OTLP_* variables say.
	tp, stop := telemetry.ForPlugin(context.Background(), "dag-plugin-hf", os.Getenv, sdk.Stderr)
	sdk.Serve(b, sdk.WithTracerProvider(tp))
	stop()
}
