package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/plugins"
)

// SearchPath returns the folders to search for plugins, in docs/cli.md's
// order: exeDir (the dag binary's own folder), each folder of pluginPath
// (a DAG_PLUGIN_PATH value, os.PathListSeparator-separated), then
// <home>/plugins. Empty entries are skipped, relative ones made absolute,
// and repeats dropped (the first stays). It reads no environment itself.
func SearchPath(exeDir, pluginPath, home string) []string {
	var dirs []string
	add := func(d string) {
		if d == "" {
			return
		}
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	add(exeDir)
	for _, d := range filepath.SplitList(pluginPath) {
		add(d)
	}
	if home != "" {
		add(filepath.Join(home, "plugins"))
	}
	return dirs
}

// Find lists the plugin binaries in dirs: regular executable files named
// dag-plugin-<name> with a valid name, the first found for each name, as
// a map from name to absolute path. Folders that do not exist or cannot
// be read are skipped.
func Find(dirs []string) map[string]string {
	found := map[string]string{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), BinaryPrefix)
			if !ok || !plugins.ValidName(name) || found[name] != "" {
				continue
			}
			path := filepath.Join(dir, e.Name())
			fi, err := os.Stat(path) // follows symlinks
			if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
				continue
			}
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			found[name] = path
		}
	}
	return found
}

// Discover finds the plugins in dirs (see Find), launches each once to
// ask Describe, and returns one Info per name, sorted by name. A binary
// that cannot be hashed, started or asked, or whose answer is invalid, is
// still listed, with Ready false and the reason in Problem. Discover
// fails only when ctx is done.
//
// Options: WithStartTimeout, WithParallel, WithStderrTail.
func Discover(ctx context.Context, dirs []string, opts ...Option) ([]Info, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	o.logPath = ""
	found := Find(dirs)
	infos := make([]Info, 0, len(found))
	for name, path := range found {
		infos = append(infos, Info{Description: plugins.Description{Name: name}, Path: path})
	}
	slices.SortFunc(infos, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })

	sem := make(chan struct{}, o.parallel)
	var wg sync.WaitGroup
	for i := range infos {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			infos[i] = describe(ctx, infos[i].Name, infos[i].Path, o)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return infos, nil
}

// describe builds the Info of one binary.
func describe(ctx context.Context, name, path string, o options) Info {
	info := Info{Description: plugins.Description{Name: name}, Path: path}
	broken := func(format string, a ...any) Info {
		info.Ready = false
		info.Problem = oneLine(fmt.Sprintf(format, a...))
		return info
	}
	f, err := os.Open(path)
	if err != nil {
		return broken("cannot read binary: %v", err)
	}
	info.Digest, err = digest.SHA256.FromReader(f)
	f.Close()
	if err != nil {
		return broken("cannot hash binary: %v", err)
	}
	c, err := launch(ctx, path, info.Digest, o)
	if err != nil {
		return broken("%v", err)
	}
	defer c.Close()
	d, err := c.Describe(ctx)
	if err != nil {
		return broken("%v", err)
	}
	negotiated := c.pc.NegotiatedVersion()
	info.Description = d
	if err := d.Validate(); err != nil {
		info.Name = name
		return broken("invalid description: %v", err)
	}
	switch {
	case d.Name != name:
		info.Name = name
		return broken("binary %s describes itself as %q", filepath.Base(path), d.Name)
	case d.ProtocolVersion != negotiated:
		return broken("describes protocol version %d but negotiated %d", d.ProtocolVersion, negotiated)
	}
	return info
}
