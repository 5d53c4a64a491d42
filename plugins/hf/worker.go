package hf

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins/internal/tailbuf"
)

// stderrTail is how much of the worker's stderr a crash error carries.
const stderrTail = 4 << 10

// errNoPython marks a worker that could not start because the interpreter
// is missing.
var errNoPython = errors.New("python interpreter not found")

// call runs one worker for req: it writes the request, hands every
// non-terminal event to on, and returns the terminal done event. An
// error event is returned as an error of its class. When ctx ends the
// worker gets SIGTERM, then SIGKILL after the grace period, and call
// returns an error wrapping ctx.Err(); an error from on stops the worker
// the same way and is returned. A worker that exits without a terminal
// event is Unavailable, with its exit status and stderr tail. The worker
// and its process group are always gone when call returns.
func (b *backend) call(ctx context.Context, req request, on func(event) error) (event, error) {
	cmd, out, tail, err := b.startWorker(req)
	if err != nil {
		return event{}, err
	}
	events, readErr, stopRead := readEvents(out)
	var once sync.Once
	stopAfter := func(patience time.Duration) {
		once.Do(func() {
			close(stopRead)
			b.terminate(cmd, patience)
		})
	}
	stop := func() { stopAfter(0) }
	defer stop()

	for {
		select {
		case <-ctx.Done():
			stop()
			return event{}, fmt.Errorf("hf %s: %w", req.Op, ctx.Err())
		case e := <-events:
			switch e.Event {
			case evDone, evError:
				stopAfter(b.o.grace) // it is exiting by itself
				if e.Event == evError {
					return event{}, e.err(req.Op)
				}
				return e, nil
			}
			if err := on(e); err != nil {
				stop()
				return event{}, err
			}
		case err := <-readErr:
			if err != nil { // garbage on the channel: stop the worker now
				stop()
				return event{}, fmt.Errorf("hf %s: %v: %w", req.Op, err, errdefs.ErrUnavailable)
			}
			stopAfter(b.o.grace) // stdout closed: it is exiting
			return event{}, crashError(req.Op, cmd.ProcessState, tail.String())
		}
	}
}

// startWorker starts the Python worker with req on its stdin, its stdout
// as the event channel and its stderr copied to the log and kept in a tail
// for crash reports. No interpreter is FailedPrecondition.
func (b *backend) startWorker(req request) (*exec.Cmd, io.Reader, *tailbuf.Tail, error) {
	src, err := b.sources()
	if err != nil {
		return nil, nil, nil, err
	}
	line, err := json.Marshal(req)
	if err != nil {
		return nil, nil, nil, err
	}
	cmd := exec.Command(b.o.python, "-u", "-m", "dag_hf_worker")
	cmd.Env = b.env(src)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stdin = strings.NewReader(string(line) + "\n")
	tail := tailbuf.New(stderrTail)
	cmd.Stderr = io.MultiWriter(tail, bestEffort{b.o.log})
	cmd.WaitDelay = b.o.grace
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return nil, nil, nil, fmt.Errorf("hf: %w: %q (install Python 3 or set DAG_PYTHON): %w", errNoPython, b.o.python, errdefs.ErrFailedPrecondition)
		}
		return nil, nil, nil, fmt.Errorf("hf: start worker: %w", err)
	}
	return cmd, out, tail, nil
}

// readEvents decodes the worker's event lines as they come, until the
// channel ends (nil on readErr), a line does not decode (its error), or
// stop is closed.
func readEvents(out io.Reader) (events <-chan event, readErr <-chan error, stop chan struct{}) {
	ev := make(chan event)
	errc := make(chan error, 1)
	stop = make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			e, err := decodeEvent(sc.Bytes())
			if err != nil {
				errc <- err
				return
			}
			select {
			case ev <- e:
			case <-stop:
				return
			}
		}
		errc <- sc.Err() // nil at EOF
	}()
	return ev, errc, stop
}

// crashError describes a worker that ended without a terminal event.
func crashError(op string, st *os.ProcessState, stderr string) error {
	status := "exited"
	if st != nil {
		status = st.String()
	}
	stderr = strings.TrimSpace(stderr)
	if stderr == "" {
		stderr = "(no stderr)"
	}
	return fmt.Errorf("hf %s: worker died (%s) without a result; stderr:\n%s\n: %w", op, status, stderr, errdefs.ErrUnavailable)
}

// terminate ends the worker's process group: it waits up to patience for
// the worker to exit by itself, then sends SIGTERM, then SIGKILL after the
// grace period, and reaps it.
func (b *backend) terminate(cmd *exec.Cmd, patience time.Duration) {
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the exit status of a worker told to stop is not news
		close(done)
	}()
	select {
	case <-done:
		signalGroup(cmd.Process, syscall.SIGKILL) // stray children
		return
	case <-time.After(patience):
	}
	signalGroup(cmd.Process, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(b.o.grace):
		signalGroup(cmd.Process, syscall.SIGKILL)
		<-done
	}
	signalGroup(cmd.Process, syscall.SIGKILL)
}

// env is the plugin's environment with the worker's sources first on
// PYTHONPATH.
func (b *backend) env(src string) []string {
	path := append([]string{src}, b.o.pythonPath...)
	var env []string
	for _, kv := range append(os.Environ(), b.o.env...) {
		if v, ok := strings.CutPrefix(kv, "PYTHONPATH="); ok {
			if v != "" {
				path = append(path, v)
			}
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PYTHONPATH="+strings.Join(path, string(filepath.ListSeparator)), "PYTHONUNBUFFERED=1")
}
