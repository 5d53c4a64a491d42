package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	dagclient "github.com/dagproject/dag/client"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/internal/embedded"
	"github.com/dagproject/dag/runs"
)

// session is a connection to Temporal, possibly with a server and a
// worker this process runs itself.
type session struct {
	client client.Client
	ui     string
	stops  []func()
}

func (s *session) close() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
}

// connect returns a Temporal session per docs/cli.md: --temporal dials a
// cluster; otherwise the embedded server under home is found through
// server.json, or started in the background (`dag server --idle-exit`) so
// that runs, their queries and the Web UI outlive this command.
func (g *globals) connect(ctx context.Context) (*session, error) {
	if g.temporal != "" {
		c, err := g.dial(ctx, g.temporal)
		if err != nil {
			return nil, err
		}
		return &session{client: c, stops: []func(){c.Close}}, nil
	}
	sf, ok := g.liveServer(ctx)
	if !ok {
		if err := g.spawnServer(ctx); err != nil {
			return nil, err
		}
		if sf, ok = g.liveServer(ctx); !ok {
			return nil, fmt.Errorf("dag server for %s stopped right after starting: %w", g.home, errdefs.ErrUnavailable)
		}
	}
	if sf.Store != g.store {
		return nil, fmt.Errorf("the running dag server (pid %d) uses store %s, not %s: stop it or use the same --store: %w", sf.PID, sf.Store, g.store, errdefs.ErrFailedPrecondition)
	}
	c, err := g.dial(ctx, sf.Frontend)
	if err != nil {
		return nil, err
	}
	return &session{client: c, ui: sf.UI, stops: []func(){c.Close}}, nil
}

// dialTimeout bounds connecting to Temporal, so an unreachable address
// is one clear error rather than a hang.
const dialTimeout = 15 * time.Second

func (g *globals) dial(ctx context.Context, addr string) (client.Client, error) {
	opts := client.Options{HostPort: addr, Namespace: g.namespace, Logger: dagclient.QuietLogger{}}
	if err := g.temporalTelemetry(&opts); err != nil {
		return nil, err
	}
	tlsConfig, err := g.tls.config()
	if err != nil {
		return nil, err
	}
	opts.ConnectionOptions.TLS = tlsConfig
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err != nil {
		return nil, fmt.Errorf("temporal at %s: %v: %w", addr, err, errdefs.ErrUnavailable)
	}
	return c, nil
}

// liveServer finds the embedded server of g's home (dagclient.LiveServer).
func (g *globals) liveServer(ctx context.Context) (dagclient.ServerFile, bool) {
	return dagclient.LiveServer(ctx, g.home, g.namespace)
}

// startEmbedded runs the embedded server, its Web UI and (unless wc has no
// classes) a worker in this process, holding <home>/temporal.lock so no other process opens the same
// database, and announces itself in server.json.
func (g *globals) startEmbedded(ctx context.Context, wc workerConfig, retention time.Duration) (*session, error) {
	if err := os.MkdirAll(g.home, 0o755); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(g.home, "temporal.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("another dag server runs for %s (it holds %s): %w", g.home, lock.Name(), errdefs.ErrFailedPrecondition)
	}
	s := &session{stops: []func(){func() { lock.Close() }}}
	srv, err := embedded.Start(ctx, embedded.Config{
		DBFile:           filepath.Join(g.home, "temporal", "temporal.db"),
		Namespaces:       []string{g.namespace},
		SearchAttributes: map[string]enumspb.IndexedValueType{dagclient.SearchAttrStudy: enumspb.INDEXED_VALUE_TYPE_KEYWORD},
		LogFile:          filepath.Join(g.home, "logs", "temporal.log"),
		Retention:        retention,
	})
	if err != nil {
		s.close()
		return nil, err
	}
	s.stops = append(s.stops, srv.Stop)
	s.ui = srv.UI
	c, err := g.dial(ctx, srv.Frontend)
	if err != nil {
		s.close()
		return nil, err
	}
	s.client = c
	s.stops = append(s.stops, c.Close)
	if wc.classes != nil {
		stop, err := g.startWorker(ctx, c, wc)
		if err != nil {
			s.close()
			return nil, err
		}
		s.stops = append(s.stops, stop)
	}
	sf := dagclient.ServerFile{Frontend: srv.Frontend, UI: srv.UI, PID: os.Getpid(), Store: g.store}
	if err := dagclient.WriteServerFile(g.home, sf); err != nil {
		s.close()
		return nil, err
	}
	s.stops = append(s.stops, func() { os.Remove(dagclient.ServerFilePath(g.home)) })
	return s, nil
}

// spawnServer starts `dag server` in the background for work that must
// outlive this command, and waits until it serves.
func (g *globals) spawnServer(ctx context.Context) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(g.home, "logs"), 0o755); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(g.home, "logs", "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(exe, "server", "--home", g.home, "--store", g.store, "--namespace", g.namespace, "--idle-exit", "10m")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start dag server: %w", err)
	}
	if _, ok := g.waitForServer(ctx, cmd, 90*time.Second); !ok {
		return fmt.Errorf("dag server did not come up; see %s: %w", logf.Name(), errdefs.ErrUnavailable)
	}
	return nil
}

// waitForServer polls server.json until the server serves, or the process
// cmd (when not nil) exits, or the limit passes (dagclient.WaitForServer).
func (g *globals) waitForServer(ctx context.Context, cmd *exec.Cmd, limit time.Duration) (dagclient.ServerFile, bool) {
	var exited chan struct{}
	if cmd != nil {
		exited = make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
	}
	return dagclient.WaitForServer(ctx, g.home, g.namespace, exited, limit)
}

func workflowOptions() workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: runs.StudyWorkflow}
}
