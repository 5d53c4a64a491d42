//go:build !linux

package filehash

import "os"

// identity is what a memo entry must match to be reused. Without Linux's
// stat fields only size and mtime are known, so an edit that restores the
// mtime goes unnoticed.
func identity(fi os.FileInfo) stamp {
	return stamp{Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}
}
