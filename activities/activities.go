package activities

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/planner"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/host"
	"github.com/dagproject/dag/runs"
	"github.com/dagproject/dag/study"
)

// Activities are the activity methods; a worker registers one value.
type Activities struct {
	store      artifacts.Store
	pluginDirs []string
	scratch    string
	logs       string
	host       string
	opts       options

	mu      sync.Mutex
	plans   map[digest.Digest]*study.Plan
	plugins []host.Info // discovered once per worker
	found   bool
}

// New returns activities over a store. pluginDirs is the plugin search
// path (host.SearchPath); scratch holds per-run folders, removed after
// each run; logs receives one plugin log file per node run.
func New(store artifacts.Store, pluginDirs []string, scratch, logs string, opts ...Option) (*Activities, error) {
	hostname, _ := os.Hostname()
	a := &Activities{
		store: store, pluginDirs: pluginDirs, scratch: scratch, logs: logs, host: hostname,
		plans: map[digest.Digest]*study.Plan{},
	}
	for _, o := range opts {
		if err := o(&a.opts); err != nil {
			return nil, err
		}
	}
	if a.opts.identity == "" {
		a.opts.identity = hostname
	}
	return a, nil
}

// plan loads a stored plan, once per worker.
func (a *Activities) plan(ctx context.Context, d digest.Digest) (*study.Plan, error) {
	a.mu.Lock()
	p, ok := a.plans[d]
	a.mu.Unlock()
	if ok {
		return p, nil
	}
	b, err := artifacts.ReadAll(ctx, a.store, d, 256<<20)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", d, err)
	}
	p, err = study.DecodePlan(b)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %v: %w", d, err, errdefs.ErrDataLoss)
	}
	a.mu.Lock()
	a.plans[d] = p
	a.mu.Unlock()
	return p, nil
}

func (a *Activities) node(ctx context.Context, in runs.NodeRef) (*study.Plan, *study.Node, error) {
	p, err := a.plan(ctx, in.Plan)
	if err != nil {
		return nil, nil, err
	}
	n, ok := p.Node(in.Node)
	if !ok {
		return nil, nil, fmt.Errorf("plan %s has no node %s: %w", in.Plan, in.Node, errdefs.ErrInvalidArgument)
	}
	return p, n, nil
}

// plugin returns the named plugin installed on this worker (discovered
// once per worker), which the worker resolves nodes with.
func (a *Activities) plugin(ctx context.Context, name string) (host.Info, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.found {
		infos, err := host.Discover(ctx, a.pluginDirs)
		if err != nil {
			return host.Info{}, err
		}
		a.plugins, a.found = infos, true
	}
	return host.Lookup(a.plugins, name)
}

// resolve decides how this worker runs node n (planner.Resolve, as `dag
// plan` does) and checks that the node's plugin is of a class this worker
// serves. A plugin that is missing, not ready, of the wrong kind or class
// here is FailedPrecondition naming the worker: another worker may run
// it.
func (a *Activities) resolve(ctx context.Context, n *study.Node) (planner.Resolution, error) {
	r, err := planner.Resolve(ctx, n, planResolver{a})
	var u *planner.Unresolved
	switch {
	case errors.As(err, &u):
		return r, fmt.Errorf("node %s on worker %s: %s: %w", n.ID, a.opts.identity, u.Reason, errdefs.ErrFailedPrecondition)
	case err != nil:
		return r, err
	case r.Plugin.Name != "" && !a.serves(r.Plugin.Resource):
		return r, fmt.Errorf("node %s: plugin %s needs a %s worker; worker %s serves %s: %w", n.ID, n.Plugin, r.Plugin.Resource, a.opts.identity, joinClasses(a.opts.classes), errdefs.ErrFailedPrecondition)
	}
	return r, nil
}

// planResolver lets planner.Resolve find this worker's plugins.
type planResolver struct{ a *Activities }

func (p planResolver) Plugin(ctx context.Context, name string) (host.Info, error) {
	return p.a.plugin(ctx, name)
}

var _ planner.Plugins = planResolver{}

// serves reports whether this worker runs stages of class r.
func (a *Activities) serves(r plugins.Resource) bool {
	if len(a.opts.classes) == 0 {
		return true
	}
	for _, c := range a.opts.classes {
		if c == r {
			return true
		}
	}
	return false
}

func joinClasses(cs []plugins.Resource) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

// preimage describes a node for keying, with the implementation this
// worker would run it with.
func (a *Activities) preimage(ctx context.Context, in runs.NodeRef, n *study.Node) (study.Preimage, host.Info, error) {
	inputs := make(map[string]digest.Digest, len(in.Inputs)+1)
	for k, v := range in.Inputs {
		inputs[k] = v
	}
	if n.Source != nil {
		if in.Source == "" {
			return study.Preimage{}, host.Info{}, fmt.Errorf("node %s: no source digest: %w", n.ID, errdefs.ErrInvalidArgument)
		}
		inputs[study.InputSource] = in.Source
	}
	r, err := a.resolve(ctx, n)
	if err != nil {
		return study.Preimage{}, host.Info{}, err
	}
	info := r.Plugin
	pre, err := study.NewPreimage(in.Namespace, n, r.Impl, r.ExecutionOnly, inputs)
	return pre, info, err
}

// LoadGraph returns a stored plan's nodes and wiring.
func (a *Activities) LoadGraph(ctx context.Context, plan digest.Digest) (runs.Graph, error) {
	p, err := a.plan(ctx, plan)
	if err != nil {
		return runs.Graph{}, classify(err)
	}
	g := runs.Graph{Study: p.Study, Nodes: make([]runs.GraphNode, len(p.Nodes))}
	for i, n := range p.Nodes {
		g.Nodes[i] = runs.GraphNode{ID: n.ID, Kind: n.Kind, Inputs: n.Inputs, Deps: n.Deps}
	}
	return g, nil
}

// Lookup computes a node's key and checks the store for its result. On a
// miss, when in.Claim is set, it also claims the key's lease for that run
// (see runs.Lease) and checks again, since the holder of a lease that just
// ended may have published the key between the two.
func (a *Activities) Lookup(ctx context.Context, in runs.LookupInput) (runs.LookupResult, error) {
	p, n, err := a.node(ctx, in.NodeRef)
	if err != nil {
		return runs.LookupResult{}, classify(err)
	}
	pre, _, err := a.preimage(ctx, in.NodeRef, n)
	if err != nil {
		return runs.LookupResult{}, classify(err)
	}
	key := pre.Key()
	if n.NoCache {
		return runs.LookupResult{Key: key}, nil
	}
	r, err := artifacts.GetResult(ctx, a.store, key)
	a.opts.observer.lookup(ctx, p.Study, n, key, err)
	switch {
	case err == nil:
		return runs.LookupResult{Key: key, Hit: true, Outputs: r.Outputs}, nil
	case !errdefs.IsNotFound(err):
		return runs.LookupResult{}, classify(err)
	case in.Claim == nil:
		return runs.LookupResult{Key: key}, nil
	}
	lease, err := a.claim(ctx, runs.LeaseRequest{Key: key, Holder: *in.Claim})
	if err != nil {
		return runs.LookupResult{}, classify(err)
	}
	if lease.Granted {
		r, err := artifacts.GetResult(ctx, a.store, key)
		switch {
		case err == nil:
			_ = a.Release(ctx, lease) // best effort: the lease also ends once the key is published
			return runs.LookupResult{Key: key, Hit: true, Outputs: r.Outputs}, nil
		case !errdefs.IsNotFound(err):
			_ = a.Release(ctx, lease) // the workflow retries the lookup, claiming anew
			return runs.LookupResult{}, classify(err)
		}
	}
	return runs.LookupResult{Key: key, Lease: &lease}, nil
}

// runDir makes a fresh scratch folder for one attempt.
func (a *Activities) runDir(key digest.Digest) (string, error) {
	if err := os.MkdirAll(a.scratch, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(a.scratch, "run-"+key.Encoded()[:12]+"-")
}

// logPath is where a node's plugin log goes.
func (a *Activities) logPath(studyName, node string) string {
	safe := strings.NewReplacer("/", "_", "@", "_at_", ":", "_").Replace(node)
	return filepath.Join(a.logs, studyName, safe+".log")
}
