package host_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dagproject/dag/plugins/host"
	"github.com/dagproject/dag/plugins/internal/exampleplugin"
)

// exampleBin is the example plugin built by TestMain, named
// dag-plugin-example; tests copy it where they need it.
var exampleBin string

func TestMain(m *testing.M) {
	if path := os.Getenv(hostHelperEnv); path != "" {
		hostHelper(path)
		return
	}
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "dag-host-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		exampleBin, err = exampleplugin.Build(context.Background(), dir, "example")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		code := m.Run()
		host.Cleanup()
		return code
	}())
}

// install copies the example plugin into dir as dag-plugin-<name> and
// returns its path.
func install(t testing.TB, dir, name string) string {
	t.Helper()
	dst := filepath.Join(dir, host.BinaryPrefix+name)
	in, err := os.Open(exampleBin)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// discoverOne discovers the plugins of dir and returns the one named name.
func discoverOne(t testing.TB, dir, name string) host.Info {
	t.Helper()
	infos, err := host.Discover(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	info, err := host.Lookup(infos, name)
	if err != nil {
		t.Fatalf("%v (found %+v)", err, infos)
	}
	return info
}

// launch discovers and launches the example plugin installed as name; it
// is closed when t ends.
func launch(t testing.TB, name string, opts ...host.Option) (host.Client, host.Info) {
	t.Helper()
	dir := t.TempDir()
	install(t, dir, name)
	info := discoverOne(t, dir, name)
	c, err := host.Launch(context.Background(), info.Path, info.Digest, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, info
}

// hostHelperEnv makes the test binary act as a dag process that launches
// the plugin at the given path, prints its pid and waits to be killed
// (TestParentDeathKillsPlugin).
const hostHelperEnv = "DAG_HOST_TEST_HELPER_PLUGIN"

func hostHelper(path string) {
	infos, err := host.Discover(context.Background(), []string{filepath.Dir(path)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	info, err := host.Lookup(infos, strings.TrimPrefix(filepath.Base(path), host.BinaryPrefix))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c, err := host.Launch(context.Background(), info.Path, info.Digest)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(c.Pid())
	select {}
}
