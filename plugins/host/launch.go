package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/internal/grpcadapter"
	"github.com/dagproject/dag/plugins/internal/tailbuf"
)

// Launch starts the plugin binary at path, verifying that its sha256 is
// still want, and returns a client for it once the handshake is done.
//
// The process lives until ctx is done or Close is called, whichever comes
// first; either kills it and its process group. A call whose own context
// ends also kills it (a plugin that ignores cancellation must not keep a
// GPU busy), after which every call fails. Close must be called in every
// case, to release the log file.
//
// Errors: a want that is not a valid sha256 digest is InvalidArgument; a
// missing binary is NotFound; a binary whose digest is no longer want is
// FailedPrecondition; a plugin that exits or fails its handshake is an
// *ExitError (Unavailable) carrying its stderr tail. On error nothing is
// left running.
func Launch(ctx context.Context, path string, want digest.Digest, opts ...Option) (Client, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	c, err := launch(ctx, path, want, o)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func launch(ctx context.Context, path string, want digest.Digest, o options) (*client, error) {
	name := strings.TrimPrefix(filepath.Base(path), BinaryPrefix)
	if err := want.Validate(); err != nil || want.Algorithm() != digest.SHA256 {
		return nil, fmt.Errorf("plugin %s: digest %q is not a sha256 digest: %w", name, want, errdefs.ErrInvalidArgument)
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("plugin %s: %s: %w", name, path, errdefs.ErrNotFound)
		}
		return nil, fmt.Errorf("plugin %s: %w", name, err)
	}
	sum, err := hex.DecodeString(want.Encoded())
	if err != nil {
		return nil, fmt.Errorf("plugin %s: digest %q: %w", name, want, errdefs.ErrInvalidArgument)
	}

	c := &client{name: name, tail: tailbuf.New(o.tailBytes)}
	c.sink = &sink{tail: c.tail}
	logger, err := c.openLog(o.logPath)
	if err != nil {
		return nil, err
	}
	// A binary verified before with the same file identity is not hashed
	// again (verified.go).
	secure := &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	before, statted := statIdentity(path)
	if alreadyVerified(path, want) {
		secure = nil
	}
	c.cmd = exec.Command(path)
	c.cmd.SysProcAttr = sysProcAttr()
	c.pc = plugin.NewClient(c.config(secure, logger, want, o))
	// A Launch context that ends during the handshake kills the process as
	// soon as the handshake returns.
	c.stop = context.AfterFunc(ctx, c.kill)

	proto, err := c.pc.Client()
	c.mu.Lock()
	if c.cmd.Process != nil {
		c.pid = c.cmd.Process.Pid
	}
	c.mu.Unlock()
	if err == nil {
		var raw any
		if raw, err = proto.Dispense(grpcadapter.PluginName); err == nil {
			c.rpc = raw.(plugins.Plugin)
			c.grpc, _ = proto.(*plugin.GRPCClient)
		}
	}
	switch {
	case err == nil && ctx.Err() == nil:
		if secure != nil && statted {
			rememberVerified(path, want, before)
		}
		return c, nil
	case ctx.Err() != nil:
		err = fmt.Errorf("plugin %s: start: %w", name, context.Cause(ctx))
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		err = classify(name, err)
	default:
		err = c.exitError("start", err)
	}
	c.Close()
	return nil, err
}

// openLog sends the plugin's log lines to path ("" keeps only the stderr
// tail) and returns go-plugin's logger for them.
func (c *client) openLog(path string) (hclog.Logger, error) {
	if path == "" {
		return hclog.NewNullLogger(), nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: log file: %w", c.name, err)
	}
	c.sink.file = f
	return hclog.New(&hclog.LoggerOptions{
		Name:   "dag.plugin." + c.name,
		Level:  hclog.Info,
		Output: fileOnly{c.sink},
	}), nil
}

// config is go-plugin's client configuration: gRPC only, mutual TLS, the
// process managed (killed with dag), its output into the log and the
// stderr tail, and the binary checked against secure (nil: verified
// already).
func (c *client) config(secure *plugin.SecureConfig, logger hclog.Logger, want digest.Digest, o options) *plugin.ClientConfig {
	return &plugin.ClientConfig{
		HandshakeConfig:     grpcadapter.Handshake,
		VersionedPlugins:    grpcadapter.PluginSets(nil),
		Cmd:                 c.cmd,
		SecureConfig:        secure,
		AllowedProtocols:    []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:            true,
		Managed:             true,
		StartTimeout:        o.startTimeout,
		Stderr:              c.sink,
		SyncStdout:          c.sink,
		SyncStderr:          c.sink,
		Logger:              logger,
		PluginLogBufferSize: 1 << 20,
		GRPCDialOptions:     o.telemetry.dialOptions(c.name, want),
	}
}

type client struct {
	name string
	pc   *plugin.Client
	cmd  *exec.Cmd
	pid  int
	rpc  plugins.Plugin
	grpc *plugin.GRPCClient
	tail *tailbuf.Tail
	sink *sink
	stop func() bool

	mu     sync.Mutex
	killed bool
}

func (c *client) Pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pid
}

func (c *client) Describe(ctx context.Context) (plugins.Description, error) {
	d, err := c.rpc.Describe(ctx)
	return d, c.after(ctx, "describe", err)
}

// Train relays events to ev; log events are also written to the log file.
func (c *client) Train(ctx context.Context, req plugins.TrainRequest, ev plugins.Emitter) (plugins.TrainResult, error) {
	res, err := c.rpc.Train(ctx, req, plugins.EmitterFunc(func(ctx context.Context, e plugins.Event) error {
		if e.Type == plugins.EventLog {
			fmt.Fprintln(fileOnly{c.sink}, e.Line)
		}
		return ev.Emit(ctx, e)
	}))
	return res, c.after(ctx, "train", err)
}

func (c *client) Score(ctx context.Context, req plugins.ScoreRequest) (plugins.ScoreResponse, error) {
	res, err := c.rpc.Score(ctx, req)
	return res, c.after(ctx, "score", err)
}

// after turns a call's error into what Launch's doc promises: a cancelled
// call kills the plugin; a plugin that died becomes an *ExitError.
func (c *client) after(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		c.kill()
		return fmt.Errorf("plugin %s: %s: %w", c.name, op, context.Cause(ctx))
	}
	switch {
	case errdefs.IsNotFound(err), errdefs.IsAlreadyExists(err), errdefs.IsInvalidArgument(err),
		errdefs.IsFailedPrecondition(err), errdefs.IsDataLoss(err):
		// The plugin answered.
		return fmt.Errorf("plugin %s: %w", c.name, err)
	}
	if !c.alive(ctx) {
		return c.exitError(op, err)
	}
	return fmt.Errorf("plugin %s: %w", c.name, err)
}

// alive asks the plugin's health service; a plugin that does not answer
// within 2 seconds, or has exited, is dead.
func (c *client) alive(ctx context.Context) bool {
	if c.pc.Exited() || c.grpc == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := grpc_health_v1.NewHealthClient(c.grpc.Conn).Check(ctx,
		&grpc_health_v1.HealthCheckRequest{Service: plugin.GRPCServiceName})
	return err == nil
}

// exitError waits (up to 5 seconds) for the process to be reaped, so that
// its whole stderr has been read, kills it if it has not exited, and
// describes it.
func (c *client) exitError(op string, err error) *ExitError {
	deadline := time.Now().Add(5 * time.Second)
	for !c.pc.Exited() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	e := &ExitError{Name: c.name, Op: op, Err: err}
	if c.pc.Exited() {
		if ps := c.cmd.ProcessState; ps != nil {
			e.Status = ps.String()
		}
	} else {
		c.kill()
	}
	e.Stderr = c.tail.String()
	return e
}

// kill ends the process and its group. It may run before the process
// has started (a Launch context already done); then the process is killed
// by the Close that ends Launch.
func (c *client) kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.killed {
		return
	}
	c.pc.Kill()
	if c.pid != 0 {
		killGroup(c.pid)
		c.killed = true
	}
}

func (c *client) Close() error {
	c.stop()
	c.kill()
	// Best effort: the log file is a diagnostic; a failure to close it
	// must not fail a stage whose results are already collected.
	_ = c.sink.close()
	return nil
}
