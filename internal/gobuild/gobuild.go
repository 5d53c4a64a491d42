// Package gobuild builds dag's binaries with the settings the Makefile and
// deploy/Dockerfile use, for tests that need a real binary (a plugin to
// launch, a dag process to kill).
//
// The settings make builds reproducible (docs/plugins.md, "Reproducible
// builds"): a plugin's sha256 enters the cache key of every node it runs,
// so a binary built from the same commit must have the same digest in any
// folder, checkout or worker image.
package gobuild

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Env is the build environment of every dag binary. deploy's tests check
// that the Makefile and the Dockerfile set exactly these.
var Env = []string{
	"GOEXPERIMENT=simd",
	"CGO_ENABLED=0",
	"GOFLAGS=-trimpath -buildvcs=false",
}

// Command returns `go build -o out pkg` run in dir ("" for the current
// folder) with Env over the caller's environment.
func Command(ctx context.Context, dir, out, pkg string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), Env...)
	return cmd
}

// Build runs Command; a failure carries the compiler's output.
func Build(ctx context.Context, dir, out, pkg string) error {
	cmd := Command(ctx, dir, out, pkg)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
