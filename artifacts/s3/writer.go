package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

// abortTimeout bounds the cleanup of an abandoned write, which runs even
// when the write's context has ended.
const abortTimeout = 30 * time.Second

// writer streams one blob. Bytes are hashed as they are written and
// buffered a part at a time. A blob that fits in one part is PUT at Commit
// straight under its digest key, create-only (If-None-Match: *) and with
// its sha256 as the signed payload hash, so the server verifies it too.
// A larger blob becomes a multipart upload to a random key under ingest/,
// several parts in flight while the caller keeps writing; Commit completes
// it, then composes it server-side under its digest key (parallel part
// copies, completed create-only) and deletes the staged object.
type writer struct {
	s    *store
	h    hash.Hash
	buf  []byte // the part being filled
	size int64
	done bool // committed or closed

	// ctx is the write's context (from Writer), cancelled by Close. It lives
	// here because io.Writer.Write has no context: it governs the part
	// uploads Write starts in the background.
	ctx    context.Context
	cancel context.CancelFunc
	// cleanup is ctx without its cancellation, for aborting.
	cleanup context.Context

	// Multipart state, once the first part was full.
	key      string // ingest/<random>
	uploadID string
	parts    []minio.CompletePart // by part number - 1
	free     chan []byte          // part buffers not in flight
	slots    chan struct{}        // one per upload in flight
	wg       sync.WaitGroup
	mu       sync.Mutex
	upErr    error // first failed part upload
}

// Writer starts a write; ctx governs the whole write, including the part
// uploads that Write starts in the background.
func (s *store) Writer(ctx context.Context) (artifacts.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	return &writer{
		s: s, h: sha256.New(),
		ctx: wctx, cancel: cancel, cleanup: context.WithoutCancel(ctx),
	}, nil
}

// Write hashes p and buffers it; each full part is handed to a background
// upload, waiting while all upload slots are busy. A failed upload is
// returned by a later Write or by Commit. After Commit or Close it is
// ErrFailedPrecondition.
func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("write blob: writer is closed: %w", errdefs.ErrFailedPrecondition)
	}
	if err := w.uploadErr(); err != nil {
		return 0, err
	}
	w.h.Write(p)
	n := len(p)
	partSize := int(w.s.opts.partSize)
	for len(p) > 0 {
		if w.buf == nil && w.uploadID != "" {
			w.buf = (<-w.free)[:0]
		}
		room := partSize - len(w.buf)
		c := min(room, len(p))
		w.buf = append(w.buf, p[:c]...) // the first part grows as needed; later ones are pooled
		p = p[c:]
		if len(w.buf) == partSize {
			if err := w.flush(); err != nil {
				return n - len(p), err
			}
		}
	}
	w.size += int64(n)
	return n, nil
}

func (w *writer) Digest() digest.Digest {
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(w.h.Sum(nil)))
}

// flush starts the upload of the full (or, at Commit, last) part buffer.
func (w *writer) flush() error {
	if w.uploadID == "" {
		if err := w.initiate(); err != nil {
			return err
		}
	}
	if len(w.parts) == maxParts {
		return fmt.Errorf("write blob: more than %d parts of %d bytes: %w", maxParts, w.s.opts.partSize, errdefs.ErrFailedPrecondition)
	}
	w.parts = append(w.parts, minio.CompletePart{})
	num := len(w.parts)
	b := w.buf
	w.buf = nil
	select {
	case w.slots <- struct{}{}:
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
	w.wg.Go(func() {
		defer func() { <-w.slots; w.free <- b }()
		var part minio.ObjectPart
		err := w.s.opts.retry.do(w.ctx, func() error {
			var err error
			part, err = w.s.core.PutObjectPart(w.ctx, w.s.bucket, w.key, w.uploadID, num,
				bytes.NewReader(b), int64(len(b)), minio.PutObjectPartOptions{DisableContentSha256: true})
			return classify("UploadPart", w.key, err)
		})
		w.mu.Lock()
		defer w.mu.Unlock()
		if err != nil {
			if w.upErr == nil {
				w.upErr = fmt.Errorf("write blob: part %d: %w", num, err)
			}
			return
		}
		w.parts[num-1] = minio.CompletePart{PartNumber: num, ETag: part.ETag}
	})
	return nil
}

// initiate starts the multipart upload and the part buffer pool.
func (w *writer) initiate() error {
	w.key = w.s.opts.prefix + ingestDir + newID()
	err := w.s.opts.retry.do(w.ctx, func() error {
		var err error
		w.uploadID, err = w.s.core.NewMultipartUpload(w.ctx, w.s.bucket, w.key,
			minio.PutObjectOptions{ContentType: "application/octet-stream"})
		return classify("CreateMultipartUpload", w.key, err)
	})
	if err != nil {
		return fmt.Errorf("write blob: %w", err)
	}
	n := w.s.opts.concurrency
	w.slots = make(chan struct{}, n)
	w.free = make(chan []byte, n+1)
	for range n {
		w.free <- make([]byte, 0, w.s.opts.partSize)
	}
	return nil
}

func (w *writer) uploadErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.upErr
}

// Commit checks size and digest, then publishes the blob under its digest
// key without ever replacing an existing object; whatever happens, the
// staged bytes are removed. An expected digest that is invalid or not
// sha256 is ErrInvalidArgument.
func (w *writer) Commit(ctx context.Context, size int64, expected digest.Digest) error {
	if w.done {
		return fmt.Errorf("commit blob: writer is closed: %w", errdefs.ErrFailedPrecondition)
	}
	defer w.Close()
	d := w.Digest()
	if err := artifacts.CheckCommit(d, w.size, size, expected); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("commit blob %s: %w", d, err)
	}
	final, _ := w.s.blobKey(d)
	if w.uploadID == "" {
		if err := w.putSmall(ctx, final, d); err != nil {
			return fmt.Errorf("commit blob %s: %w", d, err)
		}
		return nil
	}
	if err := w.publishLarge(ctx, final); err != nil {
		return fmt.Errorf("commit blob %s: %w", d, err)
	}
	return nil
}

// putSmall PUTs the one buffered part under final, create-only.
func (w *writer) putSmall(ctx context.Context, final string, d digest.Digest) error {
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream"}
	opts.SetMatchETagExcept("*")
	return w.s.opts.retry.do(ctx, func() error {
		_, err := w.s.core.PutObject(ctx, w.s.bucket, final, bytes.NewReader(w.buf), int64(len(w.buf)), "", d.Encoded(), opts)
		err = classify("PutObject", final, err)
		if errdefs.IsUnavailable(err) {
			// A create-only PUT that loses a race may see its connection
			// reset instead of a 412: the server can refuse before reading
			// the body. If the blob is there now (only verified bytes are
			// ever stored under a digest), the race was lost, not the write.
			if _, serr := w.s.Stat(ctx, d); serr == nil {
				return fmt.Errorf("commit blob %s: %w", d, errdefs.ErrAlreadyExists)
			}
		}
		return err
	})
}

// publishLarge uploads the last part, completes the staged upload and
// copies it under final.
func (w *writer) publishLarge(ctx context.Context, final string) error {
	if len(w.buf) > 0 {
		if err := w.flush(); err != nil {
			return err
		}
	}
	w.wg.Wait()
	if err := w.uploadErr(); err != nil {
		return err
	}
	err := w.s.opts.retry.do(ctx, func() error {
		_, err := w.s.core.CompleteMultipartUpload(ctx, w.s.bucket, w.key, w.uploadID, w.parts,
			minio.PutObjectOptions{ContentType: "application/octet-stream"})
		return classify("CompleteMultipartUpload", w.key, err)
	})
	if err != nil {
		return err
	}
	w.uploadID = "" // completed: Close deletes the staged object instead
	// An existing blob is never replaced: its bytes are these bytes.
	err = w.s.opts.retry.do(ctx, func() error {
		_, err := w.s.core.StatObject(ctx, w.s.bucket, final, minio.StatObjectOptions{})
		return classify("HeadObject", final, err)
	})
	switch {
	case err == nil:
		return errdefs.ErrAlreadyExists
	case !errdefs.IsNotFound(err):
		return err
	}
	return w.compose(ctx, final)
}

// compose copies the staged object to final server-side as a multipart
// upload of part copies, concurrency of them at once (a single CopyObject
// is one sequential copy on the server, and stops at 5 GiB), completed
// create-only (If-None-Match: *), so an existing blob is never replaced.
func (w *writer) compose(ctx context.Context, final string) error {
	var id string
	err := w.s.opts.retry.do(ctx, func() error {
		var err error
		id, err = w.s.core.NewMultipartUpload(ctx, w.s.bucket, final, minio.PutObjectOptions{ContentType: "application/octet-stream"})
		return classify("CreateMultipartUpload", final, err)
	})
	if err != nil {
		return err
	}
	completed := false
	defer func() {
		if !completed { // best effort: CleanStaging does not see uploads outside ingest/
			actx, cancel := context.WithTimeout(w.cleanup, abortTimeout)
			defer cancel()
			_ = w.s.core.AbortMultipartUpload(actx, w.s.bucket, final, id)
		}
	}()
	chunk := copyChunk(w.size, w.s.opts.concurrency)
	parts := make([]minio.CompletePart, (w.size+chunk-1)/chunk)
	errs := make([]error, len(parts))
	sem := make(chan struct{}, w.s.opts.concurrency)
	var wg sync.WaitGroup
	for i := range parts {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			off := int64(i) * chunk
			n := min(chunk, w.size-off)
			errs[i] = w.s.opts.retry.do(ctx, func() error {
				var err error
				parts[i], err = w.s.core.CopyObjectPart(ctx, w.s.bucket, w.key, w.s.bucket, final, id, i+1, off, n, nil)
				return classify("UploadPartCopy", final, err)
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream"}
	opts.SetMatchETagExcept("*")
	err = w.s.opts.retry.do(ctx, func() error {
		_, err := w.s.core.CompleteMultipartUpload(ctx, w.s.bucket, final, id, parts, opts)
		return classify("CompleteMultipartUpload", final, err)
	})
	if err == nil {
		completed = true
	}
	return err
}

// copyChunk is the part size compose copies with: the object split in
// about four parts per upload slot, at least 5 MiB and at most 5 GiB each,
// and at most maxParts of them.
func copyChunk(size int64, concurrency int) int64 {
	c := (size + int64(4*concurrency) - 1) / int64(4*concurrency)
	c = max(c, minPartSize, (size+maxParts-1)/maxParts)
	return min(c, maxCopyObject)
}

// Close abandons an uncommitted write: it stops the part uploads and
// aborts the multipart upload, or deletes the staged object once
// completed. After Commit or Close it does nothing.
func (w *writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	w.cancel()
	w.wg.Wait()
	w.buf = nil
	if w.key == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(w.cleanup, abortTimeout)
	defer cancel()
	var err error
	if w.uploadID != "" {
		err = w.abort(ctx)
	} else {
		err = w.s.remove(ctx, w.key)
	}
	if err != nil {
		return fmt.Errorf("abandon blob write: %w", err)
	}
	return nil
}

// abort aborts the multipart upload and makes sure it stays gone: a part
// the server was still writing when the client cancelled it can land
// after the abort and bring the upload back, so the upload is listed
// again and aborted again until it no longer shows.
func (w *writer) abort(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		err := classify("AbortMultipartUpload", w.key, w.s.core.AbortMultipartUpload(ctx, w.s.bucket, w.key, w.uploadID))
		if err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		if attempt == abortChecks || !w.uploadListed(ctx) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
		}
	}
}

// abortChecks bounds the re-aborts of one upload (waits of 50 ms doubling).
const abortChecks = 5

// uploadListed reports whether the writer's upload is still listed; a
// listing error counts as not listed (CleanStaging removes leftovers).
func (w *writer) uploadListed(ctx context.Context) bool {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for up := range w.s.core.Client.ListIncompleteUploads(lctx, w.s.bucket, w.key, false) {
		if up.Err != nil {
			return false
		}
		if up.Key == w.key && up.UploadID == w.uploadID {
			return true
		}
	}
	return false
}

var _ artifacts.Writer = (*writer)(nil)
