package fs

import (
	"fmt"
	"io"
	"os"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
)

// verifier reads a blob file, hashing as it goes; at EOF it checks the
// bytes against the blob's digest and the size the file had when opened.
type verifier struct {
	f    *os.File
	want digest.Digest
	size int64
	dg   digest.Digester
	n    int64
	err  error // sticky: the verdict at EOF, or a read error
}

// Read returns io.EOF only after the bytes were verified; a mismatch is
// ErrDataLoss, returned from then on.
func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.f.Read(p)
	v.dg.Hash().Write(p[:n])
	v.n += int64(n)
	switch {
	case err == io.EOF:
		if got := v.dg.Digest(); v.n != v.size || got != v.want {
			err = fmt.Errorf("blob %s: read %d bytes hashing to %s, committed size %d: %w", v.want, v.n, got, v.size, errdefs.ErrDataLoss)
		}
		v.err = err
	case err != nil:
		v.err = err
	}
	return n, err
}

// Close closes the file; it does not verify.
func (v *verifier) Close() error { return v.f.Close() }

var _ io.ReadCloser = (*verifier)(nil)
