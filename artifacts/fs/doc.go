// Package fs is the embedded default artifacts.Store: a folder on a local
// filesystem.
//
// Layout under the root folder:
//
//	blobs/sha256/<hex>   committed blobs, read-only files named by digest
//	ingest/<random>      staging files of writes (and records) in progress
//	records/<name>       records, one file each; name's slashes are folders
//
// A write streams into a staging file under ingest/, hashing as it goes;
// Commit checks size and digest, fsyncs, and publishes the file under its
// digest with a hard link (falling back to a rename where links are not
// supported), so a blob appears complete and verified or not at all, and an
// existing blob is never replaced. Records are written to a staging file and
// renamed over the old one. Every read of a blob verifies it: the Read that
// reaches the end reports ErrDataLoss if the bytes changed on disk.
//
// Several processes may share one root. Staging files left behind by a
// crash are removed by Open once they are a day old.
package fs
