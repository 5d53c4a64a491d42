// Command dag-plugin-tinylm serves the tinylm backend as a dag plugin.
package main

import (
	"context"
	"os"

	"github.com/dagproject/dag/internal/telemetry"
	"github.com/dagproject/dag/plugins/sdk"
	"github.com/dagproject/dag/plugins/tinylm"
)

func main() {
	// Traces go where the host's OTEL_EXPORTER_OTLP_* variables say.
	tp, stop := telemetry.ForPlugin(context.Background(), "dag-plugin-tinylm", os.Getenv, sdk.Stderr)
	sdk.Serve(tinylm.New(), sdk.WithTracerProvider(tp))
	stop()
}
