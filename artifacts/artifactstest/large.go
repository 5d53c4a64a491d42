package artifactstest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/dagproject/dag/artifacts"
)

// defaultLargeSize is the size of the streamed object.
const defaultLargeSize = 1 << 30

// testLarge streams 1 GiB (Harness.LargeSize) from a seeded generator into
// the store and reads it back, never holding more than a buffer of it in
// memory.
func testLarge(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	const seed = 1234
	largeSize := h.LargeSize
	if largeSize <= 0 {
		largeSize = defaultLargeSize
	}

	// No expected digest: reading back below proves the stored bytes are
	// the stream's (compared) and hash to d (verified by the reader).
	d, err := artifacts.Put(ctx, s, newGen(seed, largeSize), largeSize, "")
	noErr(t, err)
	t.Cleanup(func() { _ = s.Delete(ctx, d) }) // best effort: frees the space early

	info, err := s.Stat(ctx, d)
	noErr(t, err)
	if info.Size != largeSize {
		t.Fatalf("Stat size = %d, want %d", info.Size, largeSize)
	}

	// Read back: compare with the regenerated stream; the reader verifies
	// the digest at EOF.
	rc, err := s.Open(ctx, d)
	noErr(t, err)
	defer rc.Close()
	noErr(t, compareStreams(rc, newGen(seed, largeSize)))
}

// compareStreams reads got to its end (so a verifying reader checks it)
// and compares it with want.
func compareStreams(got, want io.Reader) error {
	const chunk = 1 << 20
	gb, wb := make([]byte, chunk), make([]byte, chunk)
	var off int64
	for {
		n, err := io.ReadFull(got, gb)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return fmt.Errorf("read at %d: %w", off, err)
		}
		m, _ := io.ReadFull(want, wb[:n])
		if m != n || !bytes.Equal(gb[:n], wb[:n]) {
			return fmt.Errorf("bytes differ in the chunk at %d", off)
		}
		off += int64(n)
		if n < chunk {
			break
		}
	}
	// Both must end here; got must report EOF (after verifying).
	if n, err := io.ReadFull(want, wb[:1]); n != 0 || err != io.EOF {
		return fmt.Errorf("stream ended early at %d", off)
	}
	if n, err := got.Read(gb); n != 0 || err != io.EOF {
		return fmt.Errorf("at end (%d bytes): read %d, %v; want EOF", off, n, err)
	}
	return nil
}
