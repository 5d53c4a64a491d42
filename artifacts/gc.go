package artifacts

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
)

// DefaultGrace is how old an unreachable result or blob must be before GC
// removes it: younger ones may belong to a run still writing.
const DefaultGrace = 24 * time.Hour

// StagingCleaner is implemented by backends that stage writes (files or
// objects under ingest/, unfinished multipart uploads). GC calls it to
// remove what crashed writers left.
type StagingCleaner interface {
	// CleanStaging removes (or with dryRun only counts) staged items last
	// changed before cutoff and returns how many and their bytes (where
	// known).
	CleanStaging(ctx context.Context, cutoff time.Time, dryRun bool) (n int, bytes int64, err error)
}

type gcOptions struct {
	grace  time.Duration
	dryRun bool
	now    time.Time
}

// GCOption configures GC.
type GCOption func(*gcOptions) error

// WithGrace keeps results that finished, and blobs committed, less than d
// ago, reachable or not. Default: DefaultGrace (24h).
func WithGrace(d time.Duration) GCOption {
	return func(o *gcOptions) error {
		if d < 0 {
			return fmt.Errorf("gc: negative grace %v: %w", d, errdefs.ErrInvalidArgument)
		}
		o.grace = d
		return nil
	}
}

// WithDryRun makes GC report what it would remove and remove nothing.
// Default: false.
func WithDryRun(dryRun bool) GCOption {
	return func(o *gcOptions) error {
		o.dryRun = dryRun
		return nil
	}
}

// WithNow sets the time ages are measured from. Default: time.Now().
func WithNow(t time.Time) GCOption {
	return func(o *gcOptions) error {
		o.now = t
		return nil
	}
}

// GCReport says what GC found and removed (or, in a dry run, would remove).
type GCReport struct {
	DryRun         bool            `json:"dry_run"`
	Results        int             `json:"results"`         // result entries found
	ResultsRemoved []digest.Digest `json:"results_removed"` // their keys
	Blobs          int             `json:"blobs"`           // blobs found
	BlobsRemoved   int             `json:"blobs_removed"`
	BytesFreed     int64           `json:"bytes_freed"` // by removed blobs and staging
	BytesKept      int64           `json:"bytes_kept"`
	StagingRemoved int             `json:"staging_removed"` // staged leftovers
}

// GC removes what no root reaches. The roots are every ref (the latest
// key of each study node), every pin, and every result that finished within
// the grace period. A key reaches its preimage blob and its result; a
// result reaches its output manifests and every blob they list. Unreachable
// result entries are removed first, then unreachable blobs committed before
// the grace period, then staging leftovers older than it (backends that are
// StagingCleaners). Results written while GC runs are found by a second
// listing before any blob is removed, and what they reach is kept. A
// result is never left pointing at a blob GC removed, unless it already
// pointed at a missing or corrupt manifest (its entries cannot be known).
//
// Errors: bad options are ErrInvalidArgument; store errors are returned as
// they are, after what was removed so far (the report counts it).
func GC(ctx context.Context, s Store, opts ...GCOption) (GCReport, error) {
	o := gcOptions{grace: DefaultGrace}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return GCReport{}, err
		}
	}
	if o.now.IsZero() {
		o.now = time.Now()
	}
	g := &collection{s: s, o: o, cutoff: o.now.Add(-o.grace), m: newMarker(s),
		rep: GCReport{DryRun: o.dryRun, ResultsRemoved: []digest.Digest{}}}
	for _, step := range []func(context.Context) error{g.mark, g.removeResults, g.markNewResults, g.removeBlobs, g.cleanStaging} {
		if err := step(ctx); err != nil {
			return g.rep, fmt.Errorf("gc: %w", err)
		}
	}
	return g.rep, nil
}

// collection is one GC pass, step by step: mark what is kept, remove
// results (a result must never outlive its blobs), keep what results
// made meanwhile reach, then remove blobs and stale staging.
type collection struct {
	s       Store
	o       gcOptions
	cutoff  time.Time
	m       *marker
	results []digest.Digest
	rep     GCReport
}

// mark keeps what roots (refs, pins) and results younger than the grace
// period reach.
func (g *collection) mark(ctx context.Context) error {
	results, err := listResultKeys(ctx, g.s)
	if err != nil {
		return err
	}
	g.results, g.rep.Results = results, len(results)
	roots, err := rootKeys(ctx, g.s)
	if err != nil {
		return err
	}
	for _, key := range results {
		r, err := readResult(ctx, g.s, key)
		young := err == nil && resultTime(r).After(g.cutoff)
		if roots[key] || young {
			if err := g.m.markKey(ctx, key); err != nil {
				return err
			}
		}
	}
	for key := range roots { // refs and pins whose result is gone keep their preimage
		g.m.blobs[key] = true
	}
	return nil
}

func (g *collection) removeResults(ctx context.Context) error {
	for _, key := range g.results {
		if g.m.keys[key] {
			continue
		}
		if !g.o.dryRun {
			if err := DeleteResult(ctx, g.s, key); err != nil && !errdefs.IsNotFound(err) {
				return err
			}
		}
		g.rep.ResultsRemoved = append(g.rep.ResultsRemoved, key)
	}
	return nil
}

// markNewResults keeps what results published during the pass reach.
func (g *collection) markNewResults(ctx context.Context) error {
	again, err := listResultKeys(ctx, g.s)
	if err != nil {
		return err
	}
	known := map[digest.Digest]bool{}
	for _, key := range g.results {
		known[key] = true
	}
	for _, key := range again {
		if !known[key] {
			if err := g.m.markKey(ctx, key); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeBlobs deletes unmarked blobs older than the grace period.
func (g *collection) removeBlobs(ctx context.Context) error {
	var victims []Info
	err := g.s.Walk(ctx, func(i Info) error {
		g.rep.Blobs++
		if g.m.blobs[i.Digest] || i.CreatedAt.After(g.cutoff) {
			g.rep.BytesKept += i.Size
			return nil
		}
		victims = append(victims, i)
		return nil
	})
	if err != nil {
		return err
	}
	for _, i := range victims {
		if !g.o.dryRun {
			if err := g.s.Delete(ctx, i.Digest); err != nil && !errdefs.IsNotFound(err) {
				return err
			}
		}
		g.rep.BlobsRemoved++
		g.rep.BytesFreed += i.Size
	}
	return nil
}

func (g *collection) cleanStaging(ctx context.Context) error {
	sc, ok := g.s.(StagingCleaner)
	if !ok {
		return nil
	}
	n, b, err := sc.CleanStaging(ctx, g.cutoff, g.o.dryRun)
	g.rep.StagingRemoved += n
	g.rep.BytesFreed += b
	return err
}

// resultTime is when r finished (or started, if it does not say).
func resultTime(r Result) time.Time {
	if !r.Finished.IsZero() {
		return r.Finished
	}
	return r.Started
}

// marker collects the keys and blobs reachable from roots.
type marker struct {
	s     Store
	keys  map[digest.Digest]bool // results kept
	blobs map[digest.Digest]bool
}

func newMarker(s Store) *marker {
	return &marker{s: s, keys: map[digest.Digest]bool{}, blobs: map[digest.Digest]bool{}}
}

// markKey marks key's preimage and, when its result is readable, its
// output manifests and their entries. A manifest that is missing or
// unreadable marks nothing below it.
func (m *marker) markKey(ctx context.Context, key digest.Digest) error {
	if m.keys[key] {
		return nil
	}
	m.keys[key] = true
	m.blobs[key] = true
	r, err := readResult(ctx, m.s, key)
	if err != nil {
		if errdefs.IsNotFound(err) || errdefs.IsDataLoss(err) {
			return nil
		}
		return err
	}
	for _, md := range r.Outputs {
		m.blobs[md] = true
		man, err := ReadManifest(ctx, m.s, md)
		if err != nil {
			if errdefs.IsNotFound(err) || errdefs.IsDataLoss(err) || errdefs.IsInvalidArgument(err) || errdefs.IsFailedPrecondition(err) {
				continue
			}
			return err
		}
		for _, e := range man.Entries {
			if e.Link == "" {
				m.blobs[e.Digest] = true
			}
		}
	}
	return nil
}

// readResult reads key's result record without checking its blobs. A
// record that does not decode is ErrDataLoss.
func readResult(ctx context.Context, s Records, key digest.Digest) (Result, error) {
	name, err := resultName(key)
	if err != nil {
		return Result{}, err
	}
	b, err := s.GetRecord(ctx, name)
	if err != nil {
		return Result{}, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, fmt.Errorf("result %s: %w: %v", key, errdefs.ErrDataLoss, err)
	}
	return r, nil
}

// listResultKeys returns the keys of every result record.
func listResultKeys(ctx context.Context, s Records) ([]digest.Digest, error) {
	var keys []digest.Digest
	err := s.WalkRecords(ctx, resultsPrefix, func(name string) error {
		alg, hex, ok := strings.Cut(strings.TrimPrefix(name, resultsPrefix), "/")
		if !ok {
			return nil
		}
		if d := digest.NewDigestFromEncoded(digest.Algorithm(alg), hex); d.Validate() == nil {
			keys = append(keys, d)
		}
		return nil
	})
	return keys, err
}

// rootKeys returns the keys every ref and pin points at; records that do
// not hold a digest are ignored.
func rootKeys(ctx context.Context, s Records) (map[digest.Digest]bool, error) {
	roots := map[digest.Digest]bool{}
	for _, prefix := range []string{refsPrefix, pinsPrefix} {
		err := s.WalkRecords(ctx, prefix, func(name string) error {
			b, err := s.GetRecord(ctx, name)
			if errdefs.IsNotFound(err) {
				return nil // removed meanwhile
			}
			if err != nil {
				return err
			}
			if d, err := digest.Parse(strings.TrimSpace(string(b))); err == nil {
				roots[d] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return roots, nil
}
