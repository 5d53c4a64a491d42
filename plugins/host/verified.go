package host

import (
	"os"
	"sync"
	"syscall"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// Launch verifies a binary's sha256 before running it. Hashing a plugin
// of tens of megabytes on every stage costs more than the rest of a
// launch, so a binary verified once is trusted again while its file is
// unchanged: same device, inode, size and modification time. Replacing
// or rewriting the file changes one of them and it is hashed again.
var verified sync.Map // path -> verifiedFile

type verifiedFile struct {
	digest digest.Digest
	dev    uint64
	ino    uint64
	size   int64
	mtime  time.Time
}

func statIdentity(path string) (verifiedFile, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return verifiedFile{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return verifiedFile{}, false
	}
	return verifiedFile{dev: uint64(st.Dev), ino: uint64(st.Ino), size: fi.Size(), mtime: fi.ModTime()}, true
}

// alreadyVerified reports whether path was verified as want and has not
// changed since.
func alreadyVerified(path string, want digest.Digest) bool {
	v, ok := verified.Load(path)
	if !ok {
		return false
	}
	now, ok := statIdentity(path)
	if !ok {
		return false
	}
	now.digest = want
	return v.(verifiedFile) == now
}

// rememberVerified records that path, as its file is now, hashed to d.
// The stat is taken after the launch that verified it: a file changed in
// between would not match its later stats and is hashed again.
func rememberVerified(path string, d digest.Digest, before verifiedFile) {
	now, ok := statIdentity(path)
	if !ok || now != before {
		return
	}
	now.digest = d
	verified.Store(path, now)
}
