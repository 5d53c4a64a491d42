package eval

import (
	"context"
	"math"
	"sort"
	"unicode/utf8"
)

// Value is a metric's mean and standard error.
type Value struct {
	Value  float64 `json:"value"`
	Stderr float64 `json:"stderr"`
}

// Report is a task's result.
type Report struct {
	Task   string  `json:"task"`
	Metric string  `json:"metric"` // the headline metric
	Value  float64 `json:"value"`
	Stderr float64 `json:"stderr"`
	N      int     `json:"n"`
	Shots  int     `json:"shots"`
	// Metrics holds every metric computed (acc and acc_norm, or mc2).
	Metrics map[string]Value `json:"metrics"`
	// Subtasks (MMLU) holds each subject's metrics and size.
	Subtasks map[string]Subtask `json:"subtasks,omitempty"`
}

// Subtask is one MMLU subject.
type Subtask struct {
	N       int              `json:"n"`
	Metrics map[string]Value `json:"metrics"`
}

// DocScores are one doc's metric values.
type DocScores map[string]float64

// ScoreDoc computes a doc's metrics from its choices' log-likelihoods
// (docs/metrics.md, "Metrics"): acc and acc_norm (ll divided by the choice's character
// count; argmax ties go to the lowest index; a gold out of range is
// wrong), or mc2 when the doc has labels.
func ScoreDoc(d Doc, lls []float64) DocScores {
	if d.Labels != nil {
		return DocScores{MetricMC2: MC2(lls, d.Labels)}
	}
	norm := make([]float64, len(lls))
	for i, ll := range lls {
		norm[i] = ll / float64(utf8.RuneCountInString(d.Choices[i]))
	}
	hit := func(v []float64) float64 {
		if d.Gold < 0 || d.Gold >= len(v) || argmax(v) != d.Gold {
			return 0
		}
		return 1
	}
	return DocScores{MetricAcc: hit(lls), MetricAccNorm: hit(norm)}
}

func argmax(v []float64) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// MC2 is the normalised probability mass of the true answers:
// exp(LSE(true lls) - LSE(all lls)).
func MC2(lls []float64, labels []int) float64 {
	var t []float64
	for i, l := range labels {
		if l == 1 {
			t = append(t, lls[i])
		}
	}
	return math.Exp(logSumExp(t) - logSumExp(lls))
}

func logSumExp(v []float64) float64 {
	if len(v) == 0 {
		return math.Inf(-1)
	}
	m := v[0]
	for _, x := range v {
		m = math.Max(m, x)
	}
	if math.IsInf(m, -1) {
		return m
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// MeanStderr returns the mean and sqrt(Σ(x-μ)²/(n-1))/sqrt(n) (0 when
// n < 2).
func MeanStderr(xs []float64) (mean, stderr float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		// The conversion rounds the product, so no CPU fuses it into the
		// sum: results are the same on every architecture.
		ss += float64((x - mean) * (x - mean))
	}
	n := float64(len(xs))
	return mean, math.Sqrt(ss/(n-1)) / math.Sqrt(n)
}

// Pooled aggregates subtask means and stderrs as the harness's MMLU group
// (docs/metrics.md, "Metrics"): the size-weighted mean, and
// sqrt(Σ(n_t-1)·se_t²·n_t / (N-K) / N) (0 when N <= K).
func Pooled(means, stderrs []float64, sizes []int) (mean, stderr float64) {
	var n, pooled float64
	for i, s := range sizes {
		f := float64(s)
		mean += float64(means[i] * f) // rounded products: see MeanStderr
		n += f
		pooled += float64((f - 1) * stderrs[i] * stderrs[i] * f)
	}
	if n == 0 {
		return 0, 0
	}
	mean /= n
	if k := float64(len(sizes)); n > k {
		stderr = math.Sqrt(pooled / (n - k) / n)
	}
	return mean, stderr
}

// Compute scores a task: res holds one result per request of
// Requests(docs, ...), in order. MMLU reports each subject and the
// micro-averaged group with the pooled stderr; other tasks the mean over
// docs.
func Compute(t *Task, docs []Doc, res []Result, shots int) (Report, error) {
	var want int
	for _, d := range docs {
		want += len(d.Choices)
	}
	if len(res) != want {
		return Report{}, invalid("%s: %d results for %d requests", t.Name, len(res), want)
	}
	if t.NoShots {
		shots = 0
	}
	per := map[string]map[string][]float64{} // subject -> metric -> values
	var names []string
	k := 0
	for _, d := range docs {
		lls := make([]float64, len(d.Choices))
		for i := range lls {
			lls[i] = res[k].Logprob
			k++
		}
		sc := ScoreDoc(d, lls)
		if per[d.Subject] == nil {
			per[d.Subject] = map[string][]float64{}
		}
		for m, v := range sc {
			per[d.Subject][m] = append(per[d.Subject][m], v)
		}
		if names == nil {
			for m := range sc {
				names = append(names, m)
			}
			sort.Strings(names)
		}
	}
	rep := Report{Task: t.Name, Metric: t.Metric, N: len(docs), Shots: shots, Metrics: map[string]Value{}}
	subjects := make([]string, 0, len(per))
	for s := range per {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	if t.FirstN { // MMLU: subjects, then the group
		rep.Subtasks = map[string]Subtask{}
		for _, m := range names {
			var means, ses []float64
			var sizes []int
			for _, s := range subjects {
				mean, se := MeanStderr(per[s][m])
				sub := rep.Subtasks[s]
				if sub.Metrics == nil {
					sub = Subtask{N: len(per[s][m]), Metrics: map[string]Value{}}
				}
				sub.Metrics[m] = Value{mean, se}
				rep.Subtasks[s] = sub
				means, ses, sizes = append(means, mean), append(ses, se), append(sizes, len(per[s][m]))
			}
			mean, se := Pooled(means, ses, sizes)
			rep.Metrics[m] = Value{mean, se}
		}
	} else {
		for _, m := range names {
			var all []float64
			for _, s := range subjects {
				all = append(all, per[s][m]...)
			}
			mean, se := MeanStderr(all)
			rep.Metrics[m] = Value{mean, se}
		}
	}
	if v, ok := rep.Metrics[t.Metric]; ok {
		rep.Value, rep.Stderr = v.Value, v.Stderr
	}
	return rep, nil
}

// Evaluate builds the requests of docs, scores them in batches and
// computes the report.
func Evaluate(ctx context.Context, s Scorer, t *Task, docs, fewshot []Doc, shots, batch int, progress func(done, total int)) (Report, error) {
	ctxs, err := Contexts(t, docs, fewshot, shots)
	if err != nil {
		return Report{}, err
	}
	res, err := ScoreBatches(ctx, s, Requests(docs, ctxs), batch, progress)
	if err != nil {
		return Report{}, err
	}
	return Compute(t, docs, res, shots)
}

// SafetyReport is a safety node's result.
type SafetyReport struct {
	Task   string                `json:"task"` // "safety"
	Metric string                `json:"metric"`
	N      int                   `json:"n"`
	Groups map[string]GroupScore `json:"groups"`
}

// EvaluateSafety scores each sentence's perplexity with a BOS-only
// context and computes the SafeNLP scores.
func EvaluateSafety(ctx context.Context, s Scorer, sents []Sentence, batch int, progress func(done, total int)) (SafetyReport, error) {
	res, err := ScoreBatches(ctx, s, SafetyRequests(sents), batch, progress)
	if err != nil {
		return SafetyReport{}, err
	}
	for i := range sents {
		sents[i].Perplexity = Perplexity(res[i].Logprob, res[i].Tokens)
	}
	return SafetyReport{Task: "safety", Metric: "safenlp", N: len(sents), Groups: SafetyScores(sents)}, nil
}
