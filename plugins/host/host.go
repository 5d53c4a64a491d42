package host

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/go-plugin"
	digest "github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

// BinaryPrefix starts the file name of every plugin binary.
const BinaryPrefix = "dag-plugin-"

// Info is what discovery found out about one plugin. The embedded
// Description comes from the plugin's Describe, except for a binary that
// could not be asked: then Name is taken from the file name, Ready is
// false and Problem says what went wrong.
type Info struct {
	plugins.Description
	// Path is the binary's absolute path.
	Path string
	// Digest is the sha256 of the binary when it was discovered; Launch
	// verifies it and it enters cache keys.
	Digest digest.Digest
}

// Lookup returns the Info named name from infos, or NotFound.
func Lookup(infos []Info, name string) (Info, error) {
	i := slices.IndexFunc(infos, func(i Info) bool { return i.Name == name })
	if i < 0 {
		return Info{}, fmt.Errorf("plugin %q: %w", name, errdefs.ErrNotFound)
	}
	return infos[i], nil
}

// Client is a launched plugin: the plugins.Plugin interface over RPC, and
// the process behind it. Its methods are safe for concurrent use.
type Client interface {
	plugins.Plugin
	// Pid is the plugin process's id.
	Pid() int
	// Close kills the plugin process and its process group (asking it to
	// shut down first, for up to 2 seconds) and closes its log file. It is
	// safe to call more than once and always returns nil.
	Close() error
}

// ExitError reports a plugin process that exited, or failed to start,
// before a call could complete. It wraps errdefs.ErrUnavailable and the
// underlying error.
type ExitError struct {
	// Name is the plugin's name, Op the call ("start", "describe",
	// "train", "score").
	Name, Op string
	// Status is the process's exit status ("exit status 3", "signal:
	// killed"); "" when unknown.
	Status string
	// Stderr is the tail of its standard error.
	Stderr string
	// Err is the error the call or the start failed with.
	Err error
}

func (e *ExitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plugin %s: %s: ", e.Name, e.Op)
	if e.Status == "" || e.Op == "start" {
		// go-plugin's start errors run to several lines of advice.
		msg, _, _ := strings.Cut(fmt.Sprint(e.Err), "\n")
		b.WriteString(msg)
	}
	if e.Status != "" {
		if e.Op == "start" {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "process exited (%s)", e.Status)
	}
	if tail := strings.TrimSpace(e.Stderr); tail != "" {
		b.WriteString("; stderr:\n")
		b.WriteString(tail)
	}
	return b.String()
}

// Unwrap returns the class and the cause.
func (e *ExitError) Unwrap() []error { return []error{errdefs.ErrUnavailable, e.Err} }

// classify gives go-plugin's start errors a class.
func classify(name string, err error) error {
	if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		return fmt.Errorf("plugin %s: binary changed since it was discovered (digest mismatch): %w", name, errdefs.ErrFailedPrecondition)
	}
	return err
}

// Cleanup kills every plugin process still running. Call it once, when
// dag exits (go-plugin's CleanupClients); Launch must not be called after.
func Cleanup() { plugin.CleanupClients() }

// oneLine squeezes a possibly multi-line message into one line of at most
// 300 bytes, for Problem.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " | ")), " ")
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}
