package host

import (
	"bytes"
	"io"
	"sync"
)

// tail keeps the last n bytes written to it.
type tail struct {
	mu  sync.Mutex
	n   int
	buf []byte
	cut bool
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.n {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.n:]...)
		t.cut = true
	}
	return len(p), nil
}

// String returns the last n bytes, from the first full line when older
// bytes were dropped.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > t.n {
		b, t.cut = b[len(b)-t.n:], true
	}
	if t.cut {
		if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// sink serialises writes from go-plugin's goroutines into the log file
// and the tail; after close it drops them.
type sink struct {
	mu     sync.Mutex
	file   io.WriteCloser // nil: no log file
	tail   *tail          // nil: not kept
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
