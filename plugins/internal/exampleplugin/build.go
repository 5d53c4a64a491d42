package exampleplugin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles dag-plugin-example into dir/dag-plugin-<name> with the go
// tool on PATH and returns the binary's path. Tests call it from TestMain.
func Build(ctx context.Context, dir, name string) (string, error) {
	out := filepath.Join(dir, "dag-plugin-"+name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/dagproject/dag/plugins/internal/exampleplugin/dag-plugin-example")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build example plugin: %w", err)
	}
	return out, nil
}
