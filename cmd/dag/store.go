package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/artifacts/filehash"
	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/errdefs"
)

// openStore opens the store named by --store.
func (g *globals) openStore() (artifacts.Store, error) {
	uri := g.store
	switch {
	case strings.HasPrefix(uri, "file://"):
		return fsstore.Open(filepath.FromSlash(strings.TrimPrefix(uri, "file://")))
	case strings.HasPrefix(uri, "s3://"):
		return nil, fmt.Errorf("store %s: S3 stores are not supported by this build yet: %w", uri, errdefs.ErrInvalidArgument)
	case !strings.Contains(uri, "://"):
		return fsstore.Open(uri)
	}
	return nil, fmt.Errorf("store %s: want file://DIR or s3://BUCKET/PREFIX: %w", uri, errdefs.ErrInvalidArgument)
}

// openHashMemo opens the memo of local file digests kept under home.
func (g *globals) openHashMemo() (*filehash.Memo, error) {
	return filehash.OpenMemo(filepath.Join(g.home, "cache", "file-hashes.json"))
}
