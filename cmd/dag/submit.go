package main

import (
	"context"
	"fmt"
	"sync"

	dagclient "github.com/dagproject/dag/client"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/datasets"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/planner"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/host"
	"github.com/dagproject/dag/runs"
	"github.com/dagproject/dag/study"
)

func newSubmitCommand(g *globals) *cobra.Command {
	var wait bool
	var parallel int
	var force []string
	cmd := &cobra.Command{
		Use:   "submit FILE",
		Short: "Run a study (or attach to an identical running one)",
		Long: `Compile a study, upload its local sources and plan to the store, and start
its run on Temporal. Nodes whose results are cached are not executed again.

Submitting a study identical to one still running (same plan, same source
contents) attaches to that run; after it finished, a new run starts whose
unchanged nodes come out "cached". With --wait, dag shows live progress
and exits non-zero if any node failed.`,
		Args: cobra.ExactArgs(1),
		RunE: g.withTelemetry(nil, true, func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			// Check what can be wrong before anything starts: the study,
			// then the store, then Temporal; only then upload and start.
			if _, err := compileStudy(args[0]); err != nil {
				return err
			}
			if _, err := g.openStore(ctx); err != nil {
				return err
			}
			sess, err := g.connect(ctx)
			if err != nil {
				return err
			}
			defer sess.close()
			in, err := g.prepareRun(ctx, args[0], parallel, force)
			if err != nil {
				return err
			}
			run, attached, err := dagclient.New(sess.client, g.namespace).Start(ctx, in)
			if err != nil {
				return err
			}
			g.announce(run, in.Study, attached, sess.ui)
			noteRun(ctx, run, in.Study)
			if !wait {
				if g.json {
					return g.printJSON(runDocument{Run: run.RunID, Study: in.Study, Status: "running", Nodes: []nodeDocument{}})
				}
				return nil
			}
			return g.follow(ctx, sess.client, run)
		}),
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the run until it ends, showing progress")
	cmd.Flags().IntVar(&parallel, "parallel", 4, "nodes run at once")
	cmd.Flags().StringArrayVar(&force, "force", nil, "re-execute this node even if cached, overwriting its entry (repeatable)")
	return cmd
}

// uploadParallelism bounds local sources uploaded at once.
const uploadParallelism = 8

// compileStudy loads and compiles a study file.
func compileStudy(file string) (*study.Plan, error) {
	s, err := study.Load(file)
	if err != nil {
		return nil, err
	}
	return study.Compile(s)
}

// prepareRun compiles a study and stores everything a worker needs: each
// local source and the plan, by digest.
func (g *globals) prepareRun(ctx context.Context, file string, parallel int, force []string) (runs.StudyInput, error) {
	p, err := compileStudy(file)
	if err != nil {
		return runs.StudyInput{}, err
	}
	store, err := g.openStore(ctx)
	if err != nil {
		return runs.StudyInput{}, err
	}
	memo, err := g.openHashMemo()
	if err != nil {
		return runs.StudyInput{}, err
	}
	for _, id := range force {
		if _, ok := p.Node(id); !ok {
			return runs.StudyInput{}, fmt.Errorf("--force %s: no such node in study %s (see dag plan): %w", id, p.Study, errdefs.ErrInvalidArgument)
		}
	}
	fetch, err := g.fetcher(store)
	if err != nil {
		return runs.StudyInput{}, err
	}
	in := runs.StudyInput{Study: p.Study, Namespace: g.namespace, Sources: map[string]digest.Digest{}, Parallelism: parallel, Force: force}
	// Local sources upload a few at a time (each is hashed, written and
	// synced); remote ones are fetched one by one.
	var mu sync.Mutex
	local, lctx := errgroup.WithContext(ctx)
	local.SetLimit(uploadParallelism)
	for _, n := range p.Nodes {
		if n.Source == nil {
			continue
		}
		upload := func(ctx context.Context) error {
			d, err := uploadSource(ctx, store, fetch, n.Source, memo.HashFunc())
			if err != nil {
				return fmt.Errorf("%s: %s: %w", n.ID, n.Source.URI, err)
			}
			mu.Lock()
			in.Sources[n.ID] = d
			mu.Unlock()
			return nil
		}
		if n.Source.Remote() {
			if err := upload(ctx); err != nil {
				return runs.StudyInput{}, err
			}
			continue
		}
		local.Go(func() error { return upload(lctx) })
	}
	if err := local.Wait(); err != nil {
		return runs.StudyInput{}, err
	}
	_ = memo.Save() // only saves re-hashing next time
	if in.Classes, err = g.nodeClasses(ctx, p); err != nil {
		return runs.StudyInput{}, err
	}
	if in.Plan, err = artifacts.PutBytes(ctx, store, p.Encode()); err != nil {
		return runs.StudyInput{}, err
	}
	return in, nil
}

// nodeClasses finds the resource class of each plugin-run node from the
// plugins installed here, so the workflow routes it to a worker of that
// class. A plugin not installed here is routed to cpu, with a warning:
// in a cluster, install every plugin binary beside dag on the machines
// that submit (they need not be ready).
func (g *globals) nodeClasses(ctx context.Context, p *study.Plan) (map[string]string, error) {
	var infos []host.Info
	discovered := false
	classes := map[string]string{}
	warned := map[string]bool{}
	for _, n := range p.Nodes {
		if n.Plugin == "" {
			continue
		}
		if !discovered {
			var err error
			if infos, err = g.discoverPlugins(ctx); err != nil {
				return nil, err
			}
			discovered = true
		}
		info, err := host.Lookup(infos, n.Plugin)
		if err != nil {
			if !warned[n.Plugin] {
				warned[n.Plugin] = true
				fmt.Fprintf(g.stderr, "warning: plugin %s is not installed here; its stages go to cpu workers\n", n.Plugin)
			}
			continue
		}
		if info.Resource != plugins.ResourceCPU {
			classes[n.ID] = string(info.Resource)
		}
	}
	return classes, nil
}

// uploadSource stores a local source unless its bytes are already there,
// or fetches a remote one (the fetch cache answers when plan fetched it).
func uploadSource(ctx context.Context, s artifacts.Store, fetch planner.Fetcher, src *study.Source, hash artifacts.HashFunc) (digest.Digest, error) {
	if src.Remote() {
		return fetch.Fetch(ctx, src)
	}
	if src.Format != "dir" && !src.Remote() {
		if d, _, err := hash(src.Path); err == nil {
			if _, err := s.Stat(ctx, d); err == nil {
				return d, nil
			}
		}
	}
	return datasets.Upload(ctx, s, src)
}

// announce tells the user (on stderr) which run this is and where to see it.
func (g *globals) announce(r dagclient.RunRef, studyName string, attached bool, ui string) {
	verb := "started"
	if attached {
		verb = "attached to running"
	}
	fmt.Fprintf(g.stderr, "%s run %s of study %s\n", verb, r.RunID, studyName)
	if ui != "" {
		fmt.Fprintf(g.stderr, "web ui: %s/namespaces/%s/workflows/%s/%s\n", ui, g.namespace, r.WorkflowID, r.RunID)
	}
}
