package fs

import (
	"os"
	"syscall"
)

// writebackChunk is how much a writer stages before asking the kernel to
// start writing it out, so the disk works while the rest is hashed and
// Commit's fsync has little left to do.
const writebackChunk = 8 << 20

// startWriteback asks the kernel to start writing [off, off+n) of f to disk
// without waiting. It is only a hint: errors are ignored because Commit's
// fsync reports any real write failure.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn() // unlike Fd, leaves the file's mode alone
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SyncFileRange(int(fd), off, n, 0x2 /* SYNC_FILE_RANGE_WRITE */)
	})
}
