// Package s3 is the artifacts.Store on any S3 server, through minio-go.
//
// Layout under the store's prefix in its bucket:
//
//	blobs/sha256/<hex>   committed blobs, named by digest
//	ingest/<time>-<rand> staged writes (objects and multipart uploads)
//	records/<name>       records (results, refs, pins), one object each
//
// A write hashes (sha256) on the client while it streams. A blob of up to
// one part (16 MiB by default) is PUT under its digest key at Commit,
// create-only (If-None-Match: *) and signed with its sha256 so the server
// checks the payload. A larger one streams as a multipart upload under
// ingest/, several parts in flight; Commit completes it and composes it
// under its digest key with parallel server-side part copies, completed
// create-only, then deletes the staged object. So nothing appears under a
// digest before its bytes were verified, and nothing there is replaced.
// Every read verifies size and digest at EOF (ErrDataLoss); large blobs are
// read as parallel ranged GETs pinned to one ETag.
//
// Errors are classified (see errdefs): missing objects and buckets are
// ErrNotFound, refused credentials ErrFailedPrecondition, throttling, 5xx
// and network failures ErrUnavailable, retried with jittered exponential
// backoff before they are returned. Leftovers of crashed writers are
// removed by CleanStaging (artifacts.GC calls it).
//
// Package s3test starts a real server (versitygw) for tests.
package s3
