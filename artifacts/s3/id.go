package s3

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// newID names a staged object: its creation time (so listings sort by
// age) and 64 random bits.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// sha256Hex is the hex sha256 of b, the signed payload hash of small PUTs.
func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
