package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/eval"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/study"
)

// nodeParams are the report node's parameters, as study.Compile writes
// them.
type nodeParams struct {
	Rows      []Row         `json:"rows"`
	Tasks     []string      `json:"tasks"`
	Safety    bool          `json:"safety"`
	Curves    []CurveSource `json:"curves"`
	Reference Reference     `json:"reference"`
}

// SpecOf reads a report node's params strictly: an unknown field or a
// mistyped value is InvalidArgument.
func SpecOf(studyName string, params map[string]any) (Spec, error) {
	spec := Spec{Study: studyName}
	b, err := json.Marshal(params)
	if err != nil {
		return spec, fmt.Errorf("report params: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	var p nodeParams
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return spec, fmt.Errorf("report params: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	spec.Rows, spec.Tasks, spec.Safety = p.Rows, p.Tasks, p.Safety
	spec.Curves, spec.Reference = p.Curves, p.Reference
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
