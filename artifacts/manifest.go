package artifacts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
)

// ManifestMediaType identifies the one manifest format, version 1.
const ManifestMediaType = "application/vnd.dag.manifest.v1+json"

// maxManifestSize bounds ReadManifest (about a million entries).
const maxManifestSize = 128 << 20

// Entry modes: permission bits only. A file keeps only whether it is
// executable.
const (
	modeFile = 0o644
	modeExec = 0o755
	modeLink = 0o777
)

// Entry is one file or symlink of a folder. Folders are implied by the
// paths below them, so an empty folder is not recorded.
type Entry struct {
	Path   string        `json:"path"`             // slash-separated, relative, clean
	Digest digest.Digest `json:"digest,omitempty"` // regular files
	Size   int64         `json:"size"`
	Mode   uint32        `json:"mode"`           // permission bits only: 0644 or 0755 (exec bit kept), 0777 for links
	Link   string        `json:"link,omitempty"` // symlink target (relative, must stay inside the folder)
}

// Manifest describes a folder; its digest is the folder's digest. The zero
// Manifest is not valid (its MediaType is empty); an empty folder is a
// Manifest with ManifestMediaType and no entries.
type Manifest struct {
	MediaType string  `json:"mediaType"`
	Entries   []Entry `json:"entries"` // sorted by Path (byte order)
}

// Validate reports the first problem of m as ErrInvalidArgument. A valid
// manifest has MediaType ManifestMediaType and entries strictly sorted by
// Path (so no duplicates), whose paths are valid UTF-8, relative, clean and
// never "." or climb with "..". A regular file has a valid digest, a size >=
// 0 and mode 0644 or 0755. A symlink has no digest, size 0, mode 0777 and a
// clean relative target that, resolved from the link's folder, stays inside
// the manifest's folder. No entry lies below another entry (below a file or
// a link).
func (m Manifest) Validate() error {
	if m.MediaType != ManifestMediaType {
		return fmt.Errorf("manifest: media type %q: %w", m.MediaType, errdefs.ErrInvalidArgument)
	}
	paths := make(map[string]bool, len(m.Entries))
	for i, e := range m.Entries {
		if err := validateEntry(e); err != nil {
			return fmt.Errorf("manifest: entry %d: %w", i, err)
		}
		if i > 0 && m.Entries[i-1].Path >= e.Path {
			return fmt.Errorf("manifest: entry %d %q: not sorted after %q (or duplicate): %w",
				i, e.Path, m.Entries[i-1].Path, errdefs.ErrInvalidArgument)
		}
		paths[e.Path] = true
	}
	for _, e := range m.Entries {
		for dir := path.Dir(e.Path); dir != "."; dir = path.Dir(dir) {
			if paths[dir] {
				return fmt.Errorf("manifest: entry %q lies below the file or link %q: %w", e.Path, dir, errdefs.ErrInvalidArgument)
			}
		}
	}
	return nil
}

func validateEntry(e Entry) error {
	if err := validRelPath(e.Path); err != nil {
		return fmt.Errorf("path %q: %w", e.Path, err)
	}
	if e.Link == "" {
		if err := e.Digest.Validate(); err != nil {
			return fmt.Errorf("%q: digest %q: %w: %v", e.Path, e.Digest, errdefs.ErrInvalidArgument, err)
		}
		if e.Size < 0 {
			return fmt.Errorf("%q: negative size: %w", e.Path, errdefs.ErrInvalidArgument)
		}
		if e.Mode != modeFile && e.Mode != modeExec {
			return fmt.Errorf("%q: file mode %#o: %w", e.Path, e.Mode, errdefs.ErrInvalidArgument)
		}
		return nil
	}
	if e.Digest != "" || e.Size != 0 || e.Mode != modeLink {
		return fmt.Errorf("%q: a link has no digest, size 0 and mode 0777: %w", e.Path, errdefs.ErrInvalidArgument)
	}
	if !utf8.ValidString(e.Link) || strings.ContainsRune(e.Link, 0) ||
		path.IsAbs(e.Link) || path.Clean(e.Link) != e.Link {
		return fmt.Errorf("%q: link target %q is absolute or not clean: %w", e.Path, e.Link, errdefs.ErrInvalidArgument)
	}
	// A clean target has its ".." segments first; they climb real folders
	// (nothing lies below a link), so the lexical resolution is the real
	// one, and links it passes through are themselves inside.
	if to := path.Join(path.Dir(e.Path), e.Link); to == ".." || strings.HasPrefix(to, "../") {
		return fmt.Errorf("%q: link target %q leaves the folder: %w", e.Path, e.Link, errdefs.ErrInvalidArgument)
	}
	return nil
}

// validRelPath checks an entry path: valid UTF-8 without NUL, relative,
// clean, not "." and not climbing out with "..".
func validRelPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty: %w", errdefs.ErrInvalidArgument)
	case !utf8.ValidString(p) || strings.ContainsRune(p, 0):
		return fmt.Errorf("not UTF-8 or contains NUL: %w", errdefs.ErrInvalidArgument)
	case path.IsAbs(p):
		return fmt.Errorf("absolute: %w", errdefs.ErrInvalidArgument)
	case path.Clean(p) != p:
		return fmt.Errorf("not clean: %w", errdefs.ErrInvalidArgument)
	case p == "." || p == ".." || strings.HasPrefix(p, "../"):
		return fmt.Errorf("not below the folder: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

// Encode returns m's canonical bytes: compact JSON with fields in declaration
// order and entries as given (a valid manifest's are sorted), so equal
// manifests encode equally. Nil Entries encode as [].
func (m Manifest) Encode() []byte {
	if m.Entries == nil {
		m.Entries = []Entry{}
	}
	b, err := json.Marshal(m)
	if err != nil { // strings, integers and slices always encode
		panic(fmt.Sprintf("artifacts: encode manifest: %v", err))
	}
	return b
}

// Digest is the sha256 digest of Encode(): the folder's digest.
func (m Manifest) Digest() digest.Digest {
	return digest.SHA256.FromBytes(m.Encode())
}

// ReadManifest reads, verifies and decodes the manifest d. Besides the
// classes of ReadAll (ErrNotFound, ErrDataLoss, ...), bytes that are not a
// valid manifest in canonical encoding (unknown fields, trailing data,
// Validate failing, bytes other than Encode's) are ErrInvalidArgument; a
// manifest over 128 MiB is ErrFailedPrecondition.
func ReadManifest(ctx context.Context, p Provider, d digest.Digest) (Manifest, error) {
	b, err := ReadAll(ctx, p, d, maxManifestSize)
	if err != nil {
		return Manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("read manifest %s: decode: %w: %v", d, errdefs.ErrInvalidArgument, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Manifest{}, fmt.Errorf("read manifest %s: trailing data: %w", d, errdefs.ErrInvalidArgument)
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, fmt.Errorf("read manifest %s: %w", d, err)
	}
	if !bytes.Equal(m.Encode(), b) {
		return Manifest{}, fmt.Errorf("read manifest %s: not in canonical encoding: %w", d, errdefs.ErrInvalidArgument)
	}
	return m, nil
}
