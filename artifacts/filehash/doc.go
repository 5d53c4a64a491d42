// Package filehash remembers the digests of local files, so an unchanged
// big file (a dataset, base model weights) is hashed once, not on every run.
//
// A Memo maps a file's absolute path to its digest together with the file's
// identity at hashing time: size, modification and change times (in
// nanoseconds), inode and device. Any difference re-hashes the file. The
// change time catches edits that restore the modification time (touch -d,
// os.Chtimes) and the inode catches files replaced by a rename. Files
// changed within the last two seconds are hashed but not remembered, as
// git does with "racy" entries: a second edit within the filesystem's
// timestamp granularity would otherwise go unnoticed.
//
// A Memo lives in memory; Save writes it to its file atomically.
package filehash
