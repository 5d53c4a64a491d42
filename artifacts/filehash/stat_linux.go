package filehash

import (
	"os"
	"syscall"
)

// identity is what a memo entry must match to be reused.
func identity(fi os.FileInfo) stamp {
	st := stamp{Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.Ctime = sys.Ctim.Nano()
		st.Inode = sys.Ino
		st.Dev = uint64(sys.Dev)
	}
	return st
}
