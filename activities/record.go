package activities

import (
	"context"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/runs"
)

// RecordRun stores the record of an ended run (runs.Put), naming for each
// node with a result the producer its result entry records.
func (a *Activities) RecordRun(ctx context.Context, r runs.Record) error {
	for i := range r.Nodes {
		n := &r.Nodes[i]
		if n.Key == "" || (n.Outcome != runs.Executed && n.Outcome != runs.Cached) {
			continue
		}
		res, err := artifacts.PeekResult(ctx, a.store, n.Key)
		switch {
		case err == nil:
			p := res.Producer
			n.Producer = &p
		case errdefs.IsNotFound(err) || errdefs.IsDataLoss(err):
			// cache: never, or an entry removed since: no producer to name.
		default:
			return classify(err)
		}
	}
	return classify(runs.Put(ctx, a.store, r))
}
