//go:build unix

package artifacts_test

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

func TestBuildManifestSpecialFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"f": "x"})
	noErr(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	_, err := artifacts.BuildManifest(context.Background(), dir, nil)
	wantErr(t, err, errdefs.IsInvalidArgument, "InvalidArgument")
	_, err = artifacts.PutDir(context.Background(), newStore(t), dir)
	wantErr(t, err, errdefs.IsInvalidArgument, "InvalidArgument")
}

// Modes come out exact whatever the umask.
func TestMaterializeModesIgnoreUmask(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"f": "x", "x*": "y"})
	d, err := artifacts.PutDir(ctx, s, src)
	noErr(t, err)
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	out := t.TempDir()
	noErr(t, artifacts.Materialize(ctx, s, d, out))
	wantMode(t, filepath.Join(out, "f"), 0o644)
	wantMode(t, filepath.Join(out, "x"), 0o755)
}
