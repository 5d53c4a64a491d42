// Package tailbuf keeps the end of a stream: the last bytes a process
// wrote to stderr, to put in the error when it crashes.
package tailbuf

import (
	"bytes"
	"sync"
)

// Tail keeps the last n bytes written to it. It is safe for concurrent
// use; the zero value keeps nothing.
type Tail struct {
	mu  sync.Mutex
	n   int
	buf []byte
	cut bool
}

// New returns a Tail keeping the last n bytes.
func New(n int) *Tail { return &Tail{n: n} }

// Write keeps p's end; it never fails.
func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.n {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.n:]...)
		t.cut = true
	}
	return len(p), nil
}

// String returns the last n bytes, from the first whole line when older
// bytes were dropped.
func (t *Tail) String() string {
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
