package fs

import (
	"bufio"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/dagproject/dag/artifacts"
)

// BenchmarkPutFile1GiB compares storing a 1 GiB file (PutFile into a fresh
// store: read, hash, stage, fsync, publish) with sha256sum hashing the same
// file. Both read it from the page cache. Metrics: store-MB/s,
// sha256sum-MB/s and ratio = store / sha256sum.
//
//	go test -bench 1GiB -run '^$' ./artifacts/fs
func BenchmarkPutFile1GiB(b *testing.B) {
	const size = 1 << 30
	sha256sum, err := exec.LookPath("sha256sum")
	if err != nil {
		b.Fatalf("sha256sum is required: %v", err)
	}
	tmp := b.TempDir()
	src := filepath.Join(tmp, "src")
	writeRandomFile(b, src, size, 42)
	ctx := context.Background()

	var storeTime, sumTime time.Duration
	i := 0
	for b.Loop() {
		root := filepath.Join(tmp, "store", string(rune('a'+i%26)))
		i++
		s, err := Open(root)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, n, err := artifacts.PutFile(ctx, s, src); err != nil || n != size {
			b.Fatalf("PutFile = %d, %v", n, err)
		}
		storeTime += time.Since(start)

		start = time.Now()
		if out, err := exec.Command(sha256sum, src).CombinedOutput(); err != nil {
			b.Fatalf("sha256sum: %v: %s", err, out)
		}
		sumTime += time.Since(start)

		b.StopTimer()
		if err := os.RemoveAll(root); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	mbs := func(d time.Duration) float64 { return float64(size) * float64(i) / 1e6 / d.Seconds() }
	b.ReportMetric(mbs(storeTime), "store-MB/s")
	b.ReportMetric(mbs(sumTime), "sha256sum-MB/s")
	b.ReportMetric(mbs(storeTime)/mbs(sumTime), "ratio")
}

// writeRandomFile writes size seeded pseudo-random bytes to path.
func writeRandomFile(b *testing.B, path string, size int64, seed uint64) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.NewPCG(seed, seed)
	var word [8]byte
	for n := int64(0); n < size; n += 8 {
		binary.LittleEndian.PutUint64(word[:], rng.Uint64())
		if _, err := w.Write(word[:]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
