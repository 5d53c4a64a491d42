package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dagproject/dag/internal/gobuild"
)

// TestBuildIsReproducible builds dag-plugin-tinylm from two checkouts of
// the module in different folders, with the project's build settings, and
// expects one digest: the digest enters every key of every node the plugin
// runs, so checkouts, CI and worker images that build in other folders,
// at other commits of unrelated files, must share cache hits. Each copy is
// a git repository with a commit of its own (and the second one has an
// uncommitted change), so a build that stamped the VCS revision would
// differ; the binaries must not mention either folder.
func TestBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin twice")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files := moduleFiles(t, root)
	var digests [2]string
	for i := range digests {
		src := filepath.Join(t.TempDir(), "checkout-"+string(rune('a'+i)))
		for _, f := range files {
			if err := copyFile(filepath.Join(root, f), filepath.Join(src, f)); err != nil {
				t.Fatal(err)
			}
		}
		git(t, src, "init", "-q")
		git(t, src, "add", "-A")
		git(t, src, "commit", "-q", "-m", "checkout "+src)
		if i == 1 {
			if err := os.WriteFile(filepath.Join(src, "README.md"), []byte("edited\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		bin := filepath.Join(t.TempDir(), "dag-plugin-tinylm")
		if err := gobuild.Build(context.Background(), src, bin, "./cmd/dag-plugin-tinylm"); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(src)) {
			t.Errorf("the binary built in %s embeds that folder's path", src)
		}
		sum := sha256.Sum256(b)
		digests[i] = hex.EncodeToString(sum[:])
	}
	if digests[0] != digests[1] {
		t.Fatalf("two checkouts, two digests: sha256:%s and sha256:%s", digests[0], digests[1])
	}
}

// moduleFiles lists the module's files as git knows them: tracked ones and
// untracked ones that are not ignored (build outputs and local homes are).
func moduleFiles(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files (the test copies a checkout): %v", err)
	}
	var files []string
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if fi, err := os.Lstat(filepath.Join(root, f)); err == nil && fi.Mode().IsRegular() {
			files = append(files, f)
		}
	}
	return files
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=dag", "-c", "user.email=dag@example.invalid"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func copyFile(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
