package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
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
		return "", fmt.Errorf("remote source %s: use a Fetcher: %w", src.URI, errdefs.ErrInvalidArgument)
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
	p, err := study.DecodeParams[study.DataParams](n.Params)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", n.ID, err)
	}
	output := study.OutData
	if p.Role != "" {
		output = p.Role
	}
	format := n.Source.Format
	if format == "dir" {
		if _, err := artifacts.ReadManifest(ctx, s, source); err != nil {
			return nil, fmt.Errorf("node %s: source folder: %w", n.ID, err)
		}
		return map[string]digest.Digest{output: source}, nil
	}
	d, err := prepareFile(ctx, s, source, format, p)
	if err != nil {
		return nil, fmt.Errorf("node %s (%s): %w", n.ID, n.Source.URI, err)
	}
	return map[string]digest.Digest{output: d}, nil
}

func prepareFile(ctx context.Context, s artifacts.Store, source digest.Digest, format string, p study.DataParams) (digest.Digest, error) {
	adapter := p.Adapter
	rc, err := s.Open(ctx, source)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	r, gzipped, err := gunzip(rc)
	if err != nil {
		return "", err
	}
	if adapter == "" || adapter == "text" {
		if gzipped {
			return "", fmt.Errorf("a gzip-compressed source is read through an adapter only: name one, or decompress it: %w", errdefs.ErrInvalidArgument)
		}
		if adapter == "text" && format != "text" {
			return "", fmt.Errorf("adapter text needs format text, not %s: %w", format, errdefs.ErrInvalidArgument)
		}
		if err := validate(ctx, r, format); err != nil {
			return "", err
		}
		info, err := s.Stat(ctx, source)
		if err != nil {
			return "", err
		}
		return putManifest(ctx, s, FileName(format), source, info.Size)
	}
	conv, err := newConverter(adapter, p.Options)
	if err != nil {
		return "", err
	}
	out, st, err := convert(ctx, r, format, conv, skipBad(p.Options))
	if err != nil {
		return "", err
	}
	if p.Sample != nil {
		out = sampleLines(out, p.Sample.N, p.Sample.Seed)
		st.Records = bytes.Count(out, []byte("\n"))
	}
	blob, err := artifacts.PutBytes(ctx, s, out)
	if err != nil {
		return "", err
	}
	stats, _ := json.MarshalIndent(st, "", "  ")
	statsBlob, err := artifacts.PutBytes(ctx, s, stats)
	if err != nil {
		return "", err
	}
	m := artifacts.Manifest{
		MediaType: artifacts.ManifestMediaType,
		Entries: []artifacts.Entry{
			{Path: FileName("jsonl"), Digest: blob, Size: int64(len(out)), Mode: 0o644},
			{Path: StatsFile, Digest: statsBlob, Size: int64(len(stats)), Mode: 0o644},
		},
	}
	return artifacts.PutBytes(ctx, s, m.Encode())
}

// StatsFile is the file of an adapted data node's output folder that
// counts what the adapter read, kept, filtered and found unusable.
const StatsFile = "stats.json"

// Stats is the content of StatsFile. It holds counts only (and, when bad
// records were skipped, the first few with their positions), so a
// cosmetic edit of the source leaves it as it was.
type Stats struct {
	Read        int            `json:"read"`         // source records
	Bad         int            `json:"bad"`          // unusable (skipped with skip_bad)
	BadExamples []string       `json:"bad_examples"` // the first few, with positions
	Filtered    map[string]int `json:"filtered"`     // dropped by an option, by reason
	Records     int            `json:"records"`      // in data.jsonl (after sampling)
}

// convert runs a converter over a source and returns the records as JSON
// Lines, keys sorted. Bad records fail the whole source (InvalidArgument
// naming the first few with their positions and the count) unless
// skipBad; zero records out is InvalidArgument too.
func convert(ctx context.Context, r io.Reader, format string, conv converter, skipBad bool) ([]byte, Stats, error) {
	var out bytes.Buffer
	st := Stats{Filtered: map[string]int{}, BadExamples: []string{}}
	emit := func(v any) {
		enc, _ := json.Marshal(v) // map keys come out sorted
		out.Write(enc)
		out.WriteByte('\n')
		st.Records++
	}
	err := eachRecord(ctx, r, format, func(pos string, rec record, problem string) error {
		st.Read++
		drop := ""
		if problem == "" {
			drop, problem = conv.convert(rec, emit)
		}
		if problem != "" {
			st.Bad++
			if len(st.BadExamples) < maxBadRecords {
				st.BadExamples = append(st.BadExamples, pos+": "+problem)
			}
		}
		if drop != "" {
			st.Filtered[drop]++
		}
		return nil
	})
	if err != nil {
		return nil, st, err
	}
	conv.finish(emit)
	if st.Bad > 0 && !skipBad {
		return nil, st, fmt.Errorf("%d of %d records are unusable (%s; set options: {skip_bad: true} to drop them): %w",
			st.Bad, st.Read, joinSemi(st.BadExamples), errdefs.ErrInvalidArgument)
	}
	if st.Records == 0 {
		why := fmt.Sprintf("%d read", st.Read)
		if st.Bad > 0 {
			why += fmt.Sprintf(", %d unusable (%s)", st.Bad, joinSemi(st.BadExamples))
		}
		for reason, k := range st.Filtered {
			why += fmt.Sprintf(", %d dropped: %s", k, reason)
		}
		return nil, st, fmt.Errorf("no usable records (%s): %w", why, errdefs.ErrInvalidArgument)
	}
	if !skipBad {
		st.BadExamples = []string{}
	}
	return out.Bytes(), st, nil
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
func validate(ctx context.Context, r io.Reader, format string) error {
	switch format {
	case "jsonl", "parquet":
		var bad []string
		nbad, records := 0, 0
		err := eachRecord(ctx, r, format, func(pos string, _ record, problem string) error {
			if problem == "" {
				records++
			} else if nbad++; len(bad) < maxBadRecords {
				bad = append(bad, pos+": "+problem)
			}
			return nil
		})
		switch {
		case err != nil:
			return err
		case nbad > 0:
			return fmt.Errorf("%d of %d records are unusable (%s): %w", nbad, nbad+records, joinSemi(bad), errdefs.ErrInvalidArgument)
		case records == 0:
			return fmt.Errorf("no records: %w", errdefs.ErrInvalidArgument)
		}
		return nil
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
	default:
		return fmt.Errorf("unknown format %q: %w", format, errdefs.ErrInvalidArgument)
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

// gunzip reads r decompressed when it starts with the gzip magic bytes
// (hh-rlhf's files are .jsonl.gz), and as it is otherwise.
func gunzip(r io.Reader) (io.Reader, bool, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, false, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, true, fmt.Errorf("gzip: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	return zr, true, nil
}
