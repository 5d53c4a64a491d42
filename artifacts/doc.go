// Package artifacts is dag's content-addressed store.
//
// Terms:
//
//   - A blob is an immutable byte sequence named by its sha256 digest
//     (go-digest). Nothing is visible under a digest until its bytes were
//     verified to hash to it, and every read verifies them again.
//   - A manifest is a blob describing a folder: sorted entries of relative
//     path, digest, size and mode (or a symlink target). A folder's digest is
//     its manifest's digest.
//   - A key is the digest of a node's canonical description (its preimage,
//     stored as a blob itself, so any key can be explained).
//   - A result is the record stored under a key once the node succeeded: its
//     output digests, who produced it, and when. It is written last, after
//     every blob it names; a result whose blobs are gone is a miss.
//   - A ref is a small record pointing at the latest key for a name (such as a
//     study's node), so a new miss can be explained against the last hit.
//
// Helpers over the roles (each takes the narrowest role it needs):
// Put, PutBytes and PutFile write blobs idempotently (a blob already present
// is success); ReadAll reads a bounded, verified blob; BuildManifest, PutDir,
// ReadManifest and Materialize move folders in and out; PutPreimage,
// PutResult, GetResult and DeleteResult manage results under the record
// names "results/<alg>/<hex>"; SetRef and GetRef manage "refs/<name>".
//
// Backends implement Store: artifacts/fs (the embedded default) and
// artifacts/s3; artifacts/artifactstest is the conformance suite both pass.
package artifacts

import _ "crypto/sha256" // registers sha256 for go-digest
