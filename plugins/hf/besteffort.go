package hf

import (
	"io"
)

// bestEffort writes to w and ignores its errors, so that a failing log
// never stops the copying of the worker's stderr (a worker blocked on a
// full stderr pipe would hang).
type bestEffort struct{ w io.Writer }

func (b bestEffort) Write(p []byte) (int, error) {
	_, _ = b.w.Write(p)
	return len(p), nil
}
