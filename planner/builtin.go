package planner

import (
	"github.com/dagproject/dag/datasets"
	"github.com/dagproject/dag/eval"
	"github.com/dagproject/dag/report"
	"github.com/dagproject/dag/study"
)

// The implementations of the node kinds dag runs itself. Their versions
// are owned by the packages that compute them (docs/caching.md).
var (
	DataImpl   = study.Impl{Name: "dag.data", Version: datasets.Version}
	ReportImpl = study.Impl{Name: "dag.report", Version: report.Version}
)

// Builtin is the implementation of a built-in node (data, report) with
// its built-in versions; ok is false for kinds a plugin runs.
func Builtin(n *study.Node) (impl study.Impl, ok bool) {
	switch n.Kind {
	case study.KindData:
		return WithBuiltins(DataImpl, n), true
	case study.KindReport:
		return WithBuiltins(ReportImpl, n), true
	}
	return study.Impl{}, false
}

// WithBuiltins returns impl with the versions of the built-in code that
// computes part of n's output: a data node's adapter, an eval node's task,
// a safety node's SafeNLP score. Training nodes have none, so their keys
// do not move when dag's own code does.
func WithBuiltins(impl study.Impl, n *study.Node) study.Impl {
	v := map[string]string{}
	switch n.Kind {
	case study.KindData:
		// Params that do not decode fail the node where it runs; here they
		// name no adapter.
		p, _ := study.DecodeParams[study.DataParams](n.Params)
		if ver := datasets.AdapterVersion(p.Adapter); ver != "" {
			v["datasets.adapter/"+p.Adapter] = ver
		}
	case study.KindEval:
		p, _ := study.DecodeParams[study.EvalParams](n.Params)
		if t, err := eval.Lookup(p.Task); err == nil {
			v["eval.task/"+t.Name] = t.Version
		}
	case study.KindSafety:
		v["eval.safenlp"] = eval.SafeNLPVersion
	}
	if len(v) > 0 {
		impl.Builtins = v
	}
	return impl
}
