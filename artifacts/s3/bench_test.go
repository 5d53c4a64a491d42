package s3

import (
	"context"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/artifacts/s3/s3test"
)

// benchSize is the object the benchmarks move.
const benchSize = 1 << 30

// onlyReader hides a reader's WriterTo/ReaderAt/Seeker, as a stream from
// a training process would have none.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// benchData is benchSize seeded random bytes, generated once.
func benchData() []byte {
	b := make([]byte, benchSize)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < len(b); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

type bytesReader struct {
	b   []byte
	off int
}

func (r *bytesReader) Read(p []byte) (int, error) {
	if r.off == len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

// BenchmarkPut1GiB stores 1 GiB (from memory) into versitygw on loopback
// through the store (sha256 while streaming, multipart into ingest/,
// server-side copy under the digest) and, in the same iteration, with a
// raw minio-go PutObject of the same bytes without hashing, from the same
// client. Metrics: store-MB/s, raw-MB/s, ratio = store / raw.
//
//	go test -run '^$' -bench 1GiB -benchtime 3x ./artifacts/s3
func BenchmarkPut1GiB(b *testing.B) {
	srv := s3test.Start(b)
	s, _ := openTest(b, srv)
	ctx := context.Background()
	data := benchData()
	d := digest.FromBytes(data)
	rawKey := s.opts.prefix + "raw/object"

	var storeTime, rawTime time.Duration
	n := 0
	for b.Loop() {
		n++
		start := time.Now()
		got, err := artifacts.Put(ctx, s, onlyReader{&bytesReader{b: data}}, benchSize, "")
		if err != nil || got != d {
			b.Fatalf("Put = %s, %v", got, err)
		}
		storeTime += time.Since(start)

		start = time.Now()
		if _, err := s.core.Client.PutObject(ctx, s.bucket, rawKey, onlyReader{&bytesReader{b: data}}, benchSize,
			minio.PutObjectOptions{PartSize: uint64(s.opts.partSize), NumThreads: uint(s.opts.concurrency), DisableContentSha256: true}); err != nil {
			b.Fatal(err)
		}
		rawTime += time.Since(start)

		b.StopTimer()
		if err := s.Delete(ctx, d); err != nil {
			b.Fatal(err)
		}
		if err := s.remove(ctx, rawKey); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	report(b, n, storeTime, rawTime)
}

// BenchmarkGet1GiB reads 1 GiB back through the store (verifying its
// sha256) and with a raw minio-go GetObject of the same object, alternately.
// Metrics: store-MB/s, raw-MB/s, ratio = store / raw.
//
//	go test -run '^$' -bench 1GiB -benchtime 3x ./artifacts/s3
func BenchmarkGet1GiB(b *testing.B) {
	srv := s3test.Start(b)
	s, _ := openTest(b, srv)
	ctx := context.Background()
	d, err := artifacts.Put(ctx, s, onlyReader{&bytesReader{b: benchData()}}, benchSize, "")
	if err != nil {
		b.Fatal(err)
	}
	key, _ := s.blobKey(d)
	buf := make([]byte, 1<<20)

	var storeTime, rawTime time.Duration
	n := 0
	for b.Loop() {
		n++
		start := time.Now()
		rc, err := s.Open(ctx, d)
		if err != nil {
			b.Fatal(err)
		}
		if m, err := io.CopyBuffer(io.Discard, onlyReader{rc}, buf); err != nil || m != benchSize {
			b.Fatalf("store read %d, %v", m, err)
		}
		rc.Close()
		storeTime += time.Since(start)

		start = time.Now()
		rc, _, _, err = s.core.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if m, err := io.CopyBuffer(io.Discard, onlyReader{rc}, buf); err != nil || m != benchSize {
			b.Fatalf("raw read %d, %v", m, err)
		}
		rc.Close()
		rawTime += time.Since(start)
	}
	report(b, n, storeTime, rawTime)
}

func report(b *testing.B, n int, storeTime, rawTime time.Duration) {
	mbs := func(d time.Duration) float64 { return float64(benchSize) * float64(n) / 1e6 / d.Seconds() }
	b.ReportMetric(mbs(storeTime), "store-MB/s")
	b.ReportMetric(mbs(rawTime), "raw-MB/s")
	b.ReportMetric(mbs(storeTime)/mbs(rawTime), "ratio")
}
