package artifacts

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
)

// ResultInfo is one cache entry as ListResults reports it.
type ResultInfo struct {
	Result  Result
	Size    int64    // bytes of the blobs it reaches (preimage, manifests, files), each once
	Missing int      // blobs it names that are not stored (a hit on it is a miss)
	Refs    []string // refs pointing at its key, without "refs/"
	Pinned  bool
	Damaged bool // the record or a manifest does not decode; Result may be partial
}

// ListResults returns every result entry, sorted by finish time (newest
// first), with sizes from one walk of the blobs. Records that do not decode
// are listed as Damaged with only their key.
func ListResults(ctx context.Context, s Store) ([]ResultInfo, error) {
	keys, err := listResultKeys(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("list results: %w", err)
	}
	sizes := map[digest.Digest]int64{}
	if err := s.Walk(ctx, func(i Info) error { sizes[i.Digest] = i.Size; return nil }); err != nil {
		return nil, fmt.Errorf("list results: %w", err)
	}
	refs, err := refsByKey(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("list results: %w", err)
	}
	pins, err := rootKeys(ctx, pinsOnly{s})
	if err != nil {
		return nil, fmt.Errorf("list results: %w", err)
	}
	var out []ResultInfo
	for _, key := range keys {
		info := ResultInfo{Result: Result{Key: key}, Refs: refs[key], Pinned: pins[key]}
		r, err := readResult(ctx, s, key)
		switch {
		case errdefs.IsNotFound(err):
			continue // removed meanwhile
		case errdefs.IsDataLoss(err):
			info.Damaged = true
			out = append(out, info)
			continue
		case err != nil:
			return nil, fmt.Errorf("list results: %w", err)
		}
		info.Result = r
		if err := info.measure(ctx, s, sizes); err != nil {
			return nil, fmt.Errorf("list results: %w", err)
		}
		out = append(out, info)
	}
	sort.SliceStable(out, func(i, j int) bool {
		ti, tj := resultTime(out[i].Result), resultTime(out[j].Result)
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return out[i].Result.Key < out[j].Result.Key
	})
	return out, nil
}

// refsByKey lists the refs pointing at each key, without "refs/".
func refsByKey(ctx context.Context, s Store) (map[digest.Digest][]string, error) {
	refs := map[digest.Digest][]string{}
	err := s.WalkRecords(ctx, refsPrefix, func(name string) error {
		k, err := GetRef(ctx, s, strings.TrimPrefix(name, refsPrefix))
		if err == nil {
			refs[k] = append(refs[k], strings.TrimPrefix(name, refsPrefix))
		} else if !errdefs.IsNotFound(err) && !errdefs.IsDataLoss(err) {
			return err
		}
		return nil
	})
	return refs, err
}

// measure adds up the sizes of the blobs info's result reaches (its
// preimage, output manifests and their entries, each once), counting
// those missing from sizes; a manifest that does not read marks it
// Damaged.
func (info *ResultInfo) measure(ctx context.Context, s Store, sizes map[digest.Digest]int64) error {
	seen := map[digest.Digest]bool{}
	add := func(d digest.Digest) {
		if seen[d] {
			return
		}
		seen[d] = true
		if n, ok := sizes[d]; ok {
			info.Size += n
		} else {
			info.Missing++
		}
	}
	add(info.Result.Key)
	for _, md := range info.Result.Outputs {
		add(md)
		if _, ok := sizes[md]; !ok {
			continue
		}
		m, err := ReadManifest(ctx, s, md)
		if err != nil {
			if errdefs.IsDataLoss(err) || errdefs.IsInvalidArgument(err) || errdefs.IsFailedPrecondition(err) || errdefs.IsNotFound(err) {
				info.Damaged = true
				continue
			}
			return err
		}
		for _, e := range m.Entries {
			if e.Link == "" {
				add(e.Digest)
			}
		}
	}
	return nil
}

// pinsOnly hides refs from rootKeys, so it returns pins alone.
type pinsOnly struct{ Records }

func (p pinsOnly) WalkRecords(ctx context.Context, prefix string, fn func(string) error) error {
	if prefix != pinsPrefix {
		return nil
	}
	return p.Records.WalkRecords(ctx, prefix, fn)
}
