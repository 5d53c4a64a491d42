package planner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins/host"
	"github.com/dagproject/dag/study"
)

// Status is what planning found for a node.
type Status string

// The statuses of `dag plan --json` (docs/cli.md).
const (
	Hit     Status = "hit"
	Miss    Status = "miss"
	Blocked Status = "blocked"
)

// Node is the planning verdict for one plan node.
type Node struct {
	ID     string     `json:"id"`
	Kind   study.Kind `json:"kind"`
	Key    *string    `json:"key"` // null when blocked
	Status Status     `json:"status"`
	Reason string     `json:"reason"`
	Deps   []string   `json:"deps"`
	// Changes explain a miss against the last result for this node.
	Changes []study.Change `json:"changes,omitempty"`
	// Outputs of a hit, by output name.
	Outputs map[string]digest.Digest `json:"outputs,omitempty"`

	// Preimage is the canonical description the key is the digest of.
	Preimage []byte `json:"-"`
}

// Result is a whole plan's verdicts, in plan (ID) order.
type Result struct {
	Study string        `json:"study"`
	Plan  digest.Digest `json:"plan"`
	Nodes []Node        `json:"nodes"`
}

// Count returns how many nodes have the status.
func (r *Result) Count(s Status) int {
	n := 0
	for _, node := range r.Nodes {
		if node.Status == s {
			n++
		}
	}
	return n
}

// Options configure Plan.
type Options struct {
	// Namespace enters every key (default "default").
	Namespace string
	// Store is looked up for results; required.
	Store artifacts.Store
	// Plugins finds installed plugins; nil means none are installed.
	Plugins Plugins
	// Hash digests local files; nil hashes them in full every time.
	Hash artifacts.HashFunc
	// Fetch pins remote sources (https://, s3://, hf://) by digest; nil
	// leaves every data node with a remote source BLOCKED.
	Fetch Fetcher
}

// Fetcher pins a remote source by the digest of its bytes. Planning needs
// that digest for the data node's key, so planning fetches: a
// datasets.Fetcher downloads the source into the store once and answers
// later plans from its fetch cache.
type Fetcher interface {
	// Fetch returns the source's content digest. Any error but the
	// context's makes the node BLOCKED with the error as its reason.
	Fetch(ctx context.Context, src *study.Source) (digest.Digest, error)
}

// Plan computes every node's key and status. It writes nothing but what
// Options.Fetch stores (remote sources and their fetch cache). An error
// is returned only for failures of the store or of reading local sources;
// everything about the study itself ends up in a node's status.
func Plan(ctx context.Context, p *study.Plan, opts Options) (*Result, error) {
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Store == nil {
		return nil, fmt.Errorf("planner: no store: %w", errdefs.ErrInvalidArgument)
	}
	pl := &planning{opts: opts, plan: p, byID: map[string]*Node{}, plugins: &pluginMemo{of: opts.Plugins, found: map[string]pluginLookup{}}}
	res := &Result{Study: p.Study, Plan: p.Digest(), Nodes: make([]Node, len(p.Nodes))}
	for i, n := range p.Nodes {
		res.Nodes[i] = Node{ID: n.ID, Kind: n.Kind, Deps: n.Deps}
		pl.byID[n.ID] = &res.Nodes[i]
	}
	for _, id := range p.Topo() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, _ := p.Node(id)
		if err := pl.node(ctx, n, pl.byID[id]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

type planning struct {
	opts    Options
	plan    *study.Plan
	byID    map[string]*Node
	plugins *pluginMemo
}

// pluginMemo asks Plugins once per plugin name.
type pluginMemo struct {
	of    Plugins
	found map[string]pluginLookup
}

type pluginLookup struct {
	info host.Info
	err  error
}

func (m *pluginMemo) Plugin(ctx context.Context, name string) (host.Info, error) {
	lk, ok := m.found[name]
	if !ok {
		lk.err = fmt.Errorf("plugin %s: %w", name, errdefs.ErrNotFound)
		if m.of != nil {
			lk.info, lk.err = m.of.Plugin(ctx, name)
		}
		m.found[name] = lk
	}
	return lk.info, lk.err
}

func (pl *planning) node(ctx context.Context, n *study.Node, out *Node) error {
	inputs := map[string]digest.Digest{}
	var waiting []string
	for _, in := range n.Inputs {
		dep := pl.byID[in.Node]
		d, ok := dep.Outputs[in.Output]
		if dep.Status != Hit || !ok {
			waiting = append(waiting, in.Node)
			continue
		}
		inputs[in.Name] = d
	}
	if len(waiting) > 0 {
		out.Status, out.Reason = Blocked, "waiting on "+listSome(waiting, 3)
		// Say now what would still block it once its inputs exist.
		if _, _, blocked := pl.impl(ctx, n); blocked != "" {
			out.Reason += "; " + blocked
		}
		return nil
	}

	impl, execOnly, blocked := pl.impl(ctx, n)
	if blocked != "" {
		out.Status, out.Reason = Blocked, blocked
		return nil
	}
	if n.Source != nil {
		d, blocked, err := pl.source(ctx, n.Source)
		if err != nil {
			return fmt.Errorf("node %s: %w", n.ID, err)
		}
		if blocked != "" {
			out.Status, out.Reason = Blocked, blocked
			return nil
		}
		inputs[study.InputSource] = d
	}

	pre, err := study.NewPreimage(pl.opts.Namespace, n, impl, execOnly, inputs)
	if err != nil {
		return err
	}
	out.Preimage = pre.Encode()
	key := digest.FromBytes(out.Preimage)
	ks := key.String()
	out.Key = &ks
	if n.NoCache {
		out.Status, out.Reason = Miss, "cache: never (runs every time)"
		return nil
	}

	r, err := artifacts.GetResult(ctx, pl.opts.Store, key)
	switch {
	case err == nil:
		out.Status, out.Outputs = Hit, r.Outputs
		out.Reason = "cached"
		if !r.Finished.IsZero() {
			out.Reason = "cached " + r.Finished.UTC().Format("2006-01-02 15:04")
		}
		return nil
	case !errdefs.IsNotFound(err):
		return fmt.Errorf("node %s: %w", n.ID, err)
	}
	out.Status = Miss
	return pl.explainMiss(ctx, n, key, out)
}

// explainMiss compares the key with the last one recorded for the node.
func (pl *planning) explainMiss(ctx context.Context, n *study.Node, key digest.Digest, out *Node) error {
	last, err := artifacts.GetRef(ctx, pl.opts.Store, RefName(pl.opts.Namespace, pl.plan.Study, n.ID))
	if errdefs.IsNotFound(err) {
		out.Reason = "not in cache"
		return nil
	}
	if err != nil {
		return fmt.Errorf("node %s: %w", n.ID, err)
	}
	if last == key {
		out.Reason = "cached result is gone (its blobs were deleted)"
		return nil
	}
	old, err := artifacts.GetPreimage(ctx, pl.opts.Store, last)
	if errdefs.IsNotFound(err) {
		out.Reason = "inputs or parameters changed since the last run"
		return nil
	}
	if err != nil && !errdefs.IsDataLoss(err) {
		return fmt.Errorf("node %s: %w", n.ID, err)
	}
	if err == nil {
		if out.Changes, err = study.Diff(old, out.Preimage); err != nil {
			return fmt.Errorf("node %s: %w", n.ID, err)
		}
	}
	if len(out.Changes) == 0 {
		out.Reason = "inputs or parameters changed since the last run"
		return nil
	}
	parts := make([]string, 0, len(out.Changes))
	for _, c := range out.Changes {
		s := c.String()
		if c.Path == "inputs."+study.InputSource && n.Source != nil {
			s = fmt.Sprintf("source %s changed (%s -> %s)", n.Source.URI, short(c.Old), short(c.New))
		} else if strings.HasPrefix(c.Path, "inputs.") {
			s = fmt.Sprintf("%s %s -> %s", c.Path, short(c.Old), short(c.New))
		}
		parts = append(parts, s)
	}
	out.Reason = "changed: " + strings.Join(parts, "; ")
	return nil
}

// impl identifies the code that runs the node (Resolve), or says why it
// cannot be known here.
func (pl *planning) impl(ctx context.Context, n *study.Node) (study.Impl, []string, string) {
	r, err := Resolve(ctx, n, pl.plugins)
	var u *Unresolved
	switch {
	case errors.As(err, &u) && errdefs.IsNotFound(err):
		return study.Impl{}, nil, u.Reason + " (see dag plugins)"
	case errors.As(err, &u):
		return study.Impl{}, nil, u.Reason
	case err != nil:
		return study.Impl{}, nil, err.Error()
	}
	return r.Impl, r.ExecutionOnly, ""
}

// source digests a data node's bytes: a file's sha256, or a folder's
// manifest digest.
func (pl *planning) source(ctx context.Context, src *study.Source) (digest.Digest, string, error) {
	if src.Remote() {
		if pl.opts.Fetch == nil {
			return "", fmt.Sprintf("remote source %s: fetching is not configured", src.URI), nil
		}
		d, err := pl.opts.Fetch.Fetch(ctx, src)
		if err != nil {
			if ctx.Err() != nil {
				return "", "", ctx.Err()
			}
			return "", fmt.Sprintf("cannot fetch: %v", err), nil
		}
		return d, "", nil
	}
	hash := pl.opts.Hash
	if hash == nil {
		hash = artifacts.HashFile
	}
	if src.Format == "dir" {
		m, err := artifacts.BuildManifest(ctx, src.Path, hash)
		if err != nil {
			return "", "", err
		}
		return m.Digest(), "", nil
	}
	d, _, err := hash(src.Path)
	if errors.Is(err, errdefs.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("source %s: file not found: %s: %w", src.URI, src.Path, errdefs.ErrNotFound)
	}
	return d, "", err
}

// RefName is the ref recording the last key a study's node was stored
// under; explaining a miss compares against it.
func RefName(namespace, studyName, nodeID string) string {
	return namespace + "/studies/" + studyName + "/" + nodeID
}

// short abbreviates a digest for messages.
func short(s string) string {
	if alg, hex, ok := strings.Cut(s, ":"); ok && len(hex) > 12 {
		return alg + ":" + hex[:12]
	}
	return s
}

// listSome joins up to max names and counts the rest.
func listSome(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}
