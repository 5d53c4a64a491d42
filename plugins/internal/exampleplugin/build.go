package exampleplugin

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/dagproject/dag/internal/gobuild"
)

// Build compiles dag-plugin-example into dir/dag-plugin-<name> with the go
// tool on PATH and returns the binary's path. Tests call it from TestMain.
func Build(ctx context.Context, dir, name string) (string, error) {
	out := filepath.Join(dir, "dag-plugin-"+name)
	if err := gobuild.Build(ctx, "", out, "github.com/dagproject/dag/plugins/internal/exampleplugin/dag-plugin-example"); err != nil {
		return "", fmt.Errorf("build example plugin: %w", err)
	}
	return out, nil
}
