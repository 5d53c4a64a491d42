package report

import "fmt"

// Reference is a study's published values (a paper's tables), shown
// beside the measured ones with the difference. Tables are keyed by row
// label, then task or group. A nil safety value is a cell the source
// marks as not significant.
type Reference struct {
	// Source names where the values come from (a title, a URL).
	Source     string                         `json:"source,omitempty"`
	Benchmarks map[string]map[string]float64  `json:"benchmarks,omitempty"`
	Safety     map[string]map[string]*float64 `json:"safety,omitempty"`
}

// Empty reports whether r declares no values.
func (r Reference) Empty() bool { return len(r.Benchmarks) == 0 && len(r.Safety) == 0 }

// hasBench reports whether any reference value is declared for model.
func (r Reference) hasBench(model string) bool { return len(r.Benchmarks[model]) > 0 }

func (r Reference) hasSafety(model string) bool {
	_, ok := r.Safety[model]
	return ok
}

// FormatDelta formats measured minus reference, signed.
func FormatDelta(d float64) string { return fmt.Sprintf("%+.3f", d) }

// refBenchCell is a benchmark reference cell: the reference value and the
// measured one's difference from it, or "" when none is declared.
func refBenchCell(doc Document, r BenchRow, task string) string {
	ref, ok := doc.Reference.Benchmarks[r.Model][task]
	if !ok {
		return ""
	}
	v, measured := r.Values[task]
	if !measured {
		return FormatValue(ref)
	}
	return FormatValue(ref) + " (Δ " + FormatDelta(v-ref) + ")"
}

// refSafetyCell is a safety reference cell: the reference value (or the
// not-significant mark) and, when both are numbers, the difference.
func refSafetyCell(doc Document, r SafetyRow, group string) string {
	refs, ok := doc.Reference.Safety[r.Model]
	if !ok {
		return ""
	}
	ref, ok := refs[group]
	switch {
	case !ok:
		return ""
	case ref == nil:
		return NotSignificant
	}
	if v := r.Values[group]; v != nil {
		return FormatValue(*ref) + " (Δ " + FormatDelta(*v-*ref) + ")"
	}
	return FormatValue(*ref)
}

// ReferenceLabel is the row label of a reference row under model's row.
func ReferenceLabel(model string) string { return model + " (reference)" }
