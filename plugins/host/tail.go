package host

import (
	"io"
	"sync"

	"github.com/dagproject/dag/plugins/internal/tailbuf"
)

// sink serialises writes from go-plugin's goroutines into the log file
// and the tail; after close it drops them.
type sink struct {
	mu     sync.Mutex
	file   io.WriteCloser // nil: no log file
	tail   *tailbuf.Tail  // nil: not kept
	closed bool
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return len(p), nil
	}
	if s.file != nil {
		// A failing log file must not fail the plugin's output streams;
		// the tail still records it.
		_, _ = s.file.Write(p)
	}
	if s.tail != nil {
		_, _ = s.tail.Write(p)
	}
	return len(p), nil
}

func (s *sink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.file != nil {
		return s.file.Close()
	}
	return nil
}

// fileOnly writes to the log file only (go-plugin's own log lines).
type fileOnly struct{ s *sink }

func (f fileOnly) Write(p []byte) (int, error) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	if !f.s.closed && f.s.file != nil {
		_, _ = f.s.file.Write(p)
	}
	return len(p), nil
}
