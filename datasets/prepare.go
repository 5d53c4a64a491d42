package datasets

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/study"
)

// FileName is the name a single-file source gets inside a data node's
// output folder: fixed per format, so renaming a source file changes
// neither its key nor its output.
func FileName(format string) string {
	switch format {
	case "text":
		return "data.txt"
	default:
		return "data." + format
	}
}

// maxBadRecords is how many bad records an error quotes.
const maxBadRecords = 3

// Prepare executes a local data node: it validates the source against its
// format and stores it as a folder (a file source becomes FileName(format)
// in it; a folder source is stored as is). It returns the node's outputs.
// A malformed source is InvalidArgument naming the file and its first bad
// records; nothing is stored for it.
func Prepare(ctx context.Context, s artifacts.Store, n *study.Node) (map[string]digest.Digest, error) {
	if n.Kind != study.KindData || n.Source == nil {
		return nil, fmt.Errorf("node %s is not a data node: %w", n.ID, errdefs.ErrInvalidArgument)
	}
	src := n.Source
	if src.Remote() {
		return nil, fmt.Errorf("node %s: remote source %s: fetching is not supported yet: %w", n.ID, src.URI, errdefs.ErrFailedPrecondition)
	}
	output := study.OutData
	if role, _ := n.Params["role"].(string); role != "" {
		output = role
	}
	var d digest.Digest
	var err error
	if src.Format == "dir" {
		d, err = artifacts.PutDir(ctx, s, src.Path)
	} else {
		d, err = putFile(ctx, s, src.Path, src.Format)
	}
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", n.ID, err)
	}
	return map[string]digest.Digest{output: d}, nil
}

// putFile validates and stores one file as a one-entry folder.
func putFile(ctx context.Context, s artifacts.Store, path, format string) (digest.Digest, error) {
	if err := validateFile(path, format); err != nil {
		return "", err
	}
	fd, size, err := artifacts.PutFile(ctx, s, path)
	if err != nil {
		return "", err
	}
	m := artifacts.Manifest{
		MediaType: artifacts.ManifestMediaType,
		Entries:   []artifacts.Entry{{Path: FileName(format), Digest: fd, Size: size, Mode: 0o644}},
	}
	return artifacts.PutBytes(ctx, s, m.Encode())
}

// validateFile checks that a file parses as its format.
func validateFile(path, format string) error {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("source file not found: %s: %w", path, errdefs.ErrNotFound)
		}
		return err
	}
	defer f.Close()
	switch format {
	case "jsonl":
		return validateJSONL(path, f)
	case "json":
		dec := json.NewDecoder(bufio.NewReader(f))
		var v any
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%s: not valid JSON: %v: %w", path, err, errdefs.ErrInvalidArgument)
		}
		if dec.More() {
			return fmt.Errorf("%s: more than one JSON value (use format: jsonl): %w", path, errdefs.ErrInvalidArgument)
		}
	case "text":
		b, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		if !utf8.Valid(b) {
			return fmt.Errorf("%s: text is not valid UTF-8: %w", path, errdefs.ErrInvalidArgument)
		}
	case "parquet":
		var magic [4]byte
		if _, err := io.ReadFull(f, magic[:]); err != nil || string(magic[:]) != "PAR1" {
			return fmt.Errorf("%s: not a Parquet file: %w", path, errdefs.ErrInvalidArgument)
		}
	default:
		return fmt.Errorf("%s: unknown format %q: %w", path, format, errdefs.ErrInvalidArgument)
	}
	return nil
}

func validateJSONL(path string, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var bad []string
	nbad, records, line := 0, 0, 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			nbad++
			if len(bad) < maxBadRecords {
				bad = append(bad, fmt.Sprintf("line %d: %v", line, err))
			}
			continue
		}
		records++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: line %d: %v: %w", path, line+1, err, errdefs.ErrInvalidArgument)
	}
	if nbad > 0 {
		return fmt.Errorf("%s: %d of %d records are not JSON objects (%s): %w", path, nbad, nbad+records, joinSemi(bad), errdefs.ErrInvalidArgument)
	}
	if records == 0 {
		return fmt.Errorf("%s: no records: %w", path, errdefs.ErrInvalidArgument)
	}
	return nil
}

func joinSemi(s []string) string {
	var b bytes.Buffer
	for i, e := range s {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e)
	}
	return b.String()
}
