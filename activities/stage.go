package activities

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/plugins/host"
	"github.com/dagproject/dag/runs"
	"github.com/dagproject/dag/study"
)

// stage is what every plugin stage starts with: a fresh scratch folder,
// its inputs materialised under in/, and the launched plugin logging to
// the node's log file. close kills the plugin and removes the folder.
type stage struct {
	dir    string
	inputs map[string]string // input name -> folder
	client host.Client
}

func (a *Activities) startStage(ctx context.Context, studyName string, n *study.Node, in runs.NodeRef, key digest.Digest, info host.Info) (*stage, error) {
	dir, err := a.runDir(key)
	if err != nil {
		return nil, err
	}
	st := &stage{dir: dir, inputs: map[string]string{}}
	for name, d := range in.Inputs {
		path := filepath.Join(dir, "in", name)
		if err := a.materializeModel(ctx, d, path); err != nil {
			st.close()
			return nil, fmt.Errorf("input %s: %w", name, err)
		}
		st.inputs[name] = path
	}
	logPath := a.logPath(studyName, n.ID)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		st.close()
		return nil, err
	}
	if st.client, err = host.Launch(ctx, info.Path, info.Digest, append(a.opts.observer.hostOptions(), host.WithLogPath(logPath))...); err != nil {
		st.close()
		return nil, err
	}
	return st, nil
}

func (st *stage) close() {
	if st.client != nil {
		st.client.Close()
	}
	os.RemoveAll(st.dir)
}
