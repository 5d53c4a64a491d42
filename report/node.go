package report

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/eval"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/study"
)

// SpecOf reads a report node's params (study.ReportParams) strictly: an
// unknown field or a mistyped value is InvalidArgument.
func SpecOf(studyName string, params map[string]any) (Spec, error) {
	p, err := study.DecodeParams[study.ReportParams](params)
	if err != nil {
		return Spec{}, fmt.Errorf("report %w", err)
	}
	spec := Spec{Study: studyName, Tasks: p.Tasks, Safety: p.Safety}
	for _, r := range p.Rows {
		spec.Rows = append(spec.Rows, Row{Label: r.Label, Model: r.Model, Slug: r.Slug})
	}
	for _, c := range p.Curves {
		spec.Curves = append(spec.Curves, CurveSource{Node: c.Node, Kind: string(c.Kind)})
	}
	if p.Reference != nil {
		b, _ := json.Marshal(p.Reference)
		if err := json.Unmarshal(b, &spec.Reference); err != nil {
			return Spec{}, fmt.Errorf("report params: reference: %v: %w", err, errdefs.ErrInvalidArgument)
		}
	}
	return spec, nil
}

// InputFile is the one file the report node reads of its input named
// name: a trained model's training log (inputs named study.CurveInput +
// node), or an evaluation's result.json.
func InputFile(name string) string {
	if strings.HasPrefix(name, study.CurveInput) {
		return plugins.MetricsFile
	}
	return eval.ResultFile
}

// DocumentFile is the one file of a report node's output folder: its
// Document as JSON.
const DocumentFile = "report.json"

// BuildNode is what a report node computes: the document of its params
// and of the InputFile of each of its inputs, by input name. Bad params
// are InvalidArgument; a missing or malformed input is an error of no
// class.
func BuildNode(studyName string, params map[string]any, inputs map[string][]byte) (Document, error) {
	spec, err := SpecOf(studyName, params)
	if err != nil {
		return Document{}, err
	}
	results, logs := map[string][]byte{}, map[string][]byte{}
	for name, b := range inputs {
		if node, ok := strings.CutPrefix(name, study.CurveInput); ok {
			logs[node] = b
		} else {
			results[name] = b
		}
	}
	return Build(spec, results, logs)
}
