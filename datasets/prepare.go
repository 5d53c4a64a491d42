package datasets

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// Upload stores a local source as it is: a file as one blob, a folder as a
// manifest. The digest equals what planning computed for the source, so
// the data node's key does not depend on where its bytes came from.
func Upload(ctx context.Context, s artifacts.Store, src *study.Source) (digest.Digest, error) {
	if src.Remote() {
		return "", fmt.Errorf("remote source %s: fetching remote sources is not supported yet: %w", src.URI, errdefs.ErrFailedPrecondition)
	}
	if src.Format == "dir" {
		return artifacts.PutDir(ctx, s, src.Path)
	}
	d, _, err := artifacts.PutFile(ctx, s, src.Path)
	return d, err
}

// Prepare executes a data node whose source bytes are in the store under
// source (a blob, or a manifest for a folder source): it checks them
// against the format, applies the adapter, and stores the node's output
// folder. A malformed source is InvalidArgument naming the node and its
// first bad records; nothing is published for it.
func Prepare(ctx context.Context, s artifacts.Store, n *study.Node, source digest.Digest) (map[string]digest.Digest, error) {
	if n.Kind != study.KindData || n.Source == nil {
		return nil, fmt.Errorf("node %s is not a data node: %w", n.ID, errdefs.ErrInvalidArgument)
	}
	output := study.OutData
	if role, _ := n.Params["role"].(string); role != "" {
		output = role
	}
	format := n.Source.Format
	if format == "dir" {
		if _, err := artifacts.ReadManifest(ctx, s, source); err != nil {
			return nil, fmt.Errorf("node %s: source folder: %w", n.ID, err)
		}
		return map[string]digest.Digest{output: source}, nil
	}
	adapter, _ := n.Params["adapter"].(string)
	d, err := prepareFile(ctx, s, n, source, format, adapter)
	if err != nil {
		return nil, fmt.Errorf("node %s (%s): %w", n.ID, n.Source.URI, err)
	}
	return map[string]digest.Digest{output: d}, nil
}

func prepareFile(ctx context.Context, s artifacts.Store, n *study.Node, source digest.Digest, format, adapter string) (digest.Digest, error) {
	r, err := s.Open(ctx, source)
	if err != nil {
		return "", err
	}
	defer r.Close()
	var records *normalizer
	switch adapter {
	case "sft-jsonl":
		records = &normalizer{required: []string{"prompt", "response"}, optional: []string{"system"}}
	case "pref-jsonl":
		records = &normalizer{required: []string{"prompt", "chosen", "rejected"}, optional: []string{"system"}}
	case "", "text":
		if adapter == "text" && format != "text" {
			return "", fmt.Errorf("adapter text needs format text, not %s: %w", format, errdefs.ErrInvalidArgument)
		}
		if err := validate(r, format); err != nil {
			return "", err
		}
		info, err := s.Stat(ctx, source)
		if err != nil {
			return "", err
		}
		return putManifest(ctx, s, FileName(format), source, info.Size)
	default:
		return "", fmt.Errorf("adapter %s is not implemented yet (use sft-jsonl, pref-jsonl or text): %w", adapter, errdefs.ErrFailedPrecondition)
	}
	if format != "jsonl" {
		return "", fmt.Errorf("adapter %s reads jsonl, not %s: %w", adapter, format, errdefs.ErrInvalidArgument)
	}
	out, err := records.normalize(r)
	if err != nil {
		return "", err
	}
	if sample, ok := n.Params["sample"].(map[string]any); ok {
		out = sampleLines(out, toInt(sample["n"]), toInt(sample["seed"]))
	}
	blob, err := artifacts.PutBytes(ctx, s, out)
	if err != nil {
		return "", err
	}
	return putManifest(ctx, s, "data.jsonl", blob, int64(len(out)))
}

// putManifest stores a one-file folder.
func putManifest(ctx context.Context, s artifacts.Store, name string, blob digest.Digest, size int64) (digest.Digest, error) {
	m := artifacts.Manifest{
		MediaType: artifacts.ManifestMediaType,
		Entries:   []artifacts.Entry{{Path: name, Digest: blob, Size: size, Mode: 0o644}},
	}
	return artifacts.PutBytes(ctx, s, m.Encode())
}

// validate checks that a stream parses as its format.
func validate(r io.Reader, format string) error {
	switch format {
	case "jsonl":
		_, err := (&normalizer{}).normalize(r)
		return err
	case "json":
		dec := json.NewDecoder(bufio.NewReader(r))
		var v any
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("not valid JSON: %v: %w", err, errdefs.ErrInvalidArgument)
		}
		if dec.More() {
			return fmt.Errorf("more than one JSON value (use format: jsonl): %w", errdefs.ErrInvalidArgument)
		}
		_, err := io.Copy(io.Discard, r) // reach EOF so the store verifies the digest
		return err
	case "text":
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if !utf8.Valid(b) {
			return fmt.Errorf("text is not valid UTF-8: %w", errdefs.ErrInvalidArgument)
		}
	case "parquet":
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if len(b) < 8 || string(b[:4]) != "PAR1" || string(b[len(b)-4:]) != "PAR1" {
			return fmt.Errorf("not a Parquet file: %w", errdefs.ErrInvalidArgument)
		}
	default:
		return fmt.Errorf("unknown format %q: %w", format, errdefs.ErrInvalidArgument)
	}
	return nil
}

func toInt(v any) int {
	switch x := v.(type) {
	case int64:
		return int(x)
	case float64:
		return int(x)
	case int:
		return x
	}
	return 0
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
