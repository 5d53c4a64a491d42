package eval

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
)

// Request is one log-likelihood request (docs/metrics.md, "Scoring a request").
type Request struct {
	Context      string `json:"context"`
	Continuation string `json:"continuation"`
	// BOSContext: the context is exactly the BOS token (Context empty).
	BOSContext bool `json:"bos_context,omitempty"`
}

// Result answers a Request.
type Result struct {
	Logprob float64 `json:"logprob"` // sum over the continuation's tokens
	Tokens  int     `json:"tokens"`  // continuation tokens
	Greedy  bool    `json:"greedy"`
}

// Scorer answers log-likelihood requests: one Result per Request, in
// order.
type Scorer interface {
	Loglikelihood(ctx context.Context, reqs []Request) ([]Result, error)
}

// ReadRecords reads JSON objects as JSON lines or as one JSON array.
// Malformed input is InvalidArgument.
func ReadRecords(r io.Reader) ([]map[string]json.RawMessage, error) {
	br := bufio.NewReader(r)
	b, err := io.ReadAll(br)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		var out []map[string]json.RawMessage
		if err := dec.Decode(&out); err != nil {
			return nil, invalid("records: %v", err)
		}
		return out, nil
	}
	var out []map[string]json.RawMessage
	for {
		var rec map[string]json.RawMessage
		if err := dec.Decode(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, invalid("record %d: %v", len(out)+1, err)
		}
		out = append(out, rec)
	}
}

// ReadDocs reads a task's documents (ReadRecords, then Task.Doc); limit > 0
// keeps only the first limit.
func ReadDocs(t *Task, r io.Reader, limit int) ([]Doc, error) {
	recs, err := ReadRecords(r)
	if err != nil {
		return nil, err
	}
	if limit > 0 && len(recs) > limit {
		recs = recs[:limit]
	}
	docs := make([]Doc, len(recs))
	for i, rec := range recs {
		if docs[i], err = t.Doc(rec); err != nil {
			return nil, invalid("record %d: %v", i+1, err)
		}
	}
	return docs, nil
}

// Contexts builds each doc's full context (docs/metrics.md, "Prompts"): description,
// then shots few-shot examples ("query target", joined and followed by
// "\n\n"), then the query. Few-shot examples come from fewshot: the first
// ones of the doc's subject for FirstN tasks, otherwise
// random.Random(1234).sample per doc in doc order. Shots > 0 with no
// few-shot docs is InvalidArgument; NoShots tasks ignore shots.
func Contexts(t *Task, docs, fewshot []Doc, shots int) ([]string, error) {
	if t.NoShots {
		shots = 0
	}
	if shots < 0 {
		return nil, invalid("%s: %d shots", t.Name, shots)
	}
	if shots > 0 && len(fewshot) == 0 {
		return nil, invalid("%s: %d shots but no few-shot documents", t.Name, shots)
	}
	rnd := newPyRandom(1234)
	out := make([]string, len(docs))
	for i, d := range docs {
		var ex []Doc
		switch {
		case shots == 0:
		case t.FirstN:
			for _, f := range fewshot {
				if len(ex) == shots {
					break
				}
				if f.Subject == d.Subject {
					ex = append(ex, f)
				}
			}
		default:
			for _, j := range rnd.sample(len(fewshot), shots) {
				ex = append(ex, fewshot[j])
			}
		}
		var b bytes.Buffer
		b.WriteString(t.Description(d))
		for _, f := range ex {
			b.WriteString(f.Query + TargetDelimiter + f.target() + FewshotDelimiter)
		}
		b.WriteString(d.Query)
		out[i] = b.String()
	}
	return out, nil
}

// Requests lists one request per (doc, choice), docs in order, choices in
// order: continuation = " " + choice.
func Requests(docs []Doc, contexts []string) []Request {
	var out []Request
	for i, d := range docs {
		for _, c := range d.Choices {
			out = append(out, Request{Context: contexts[i], Continuation: TargetDelimiter + c})
		}
	}
	return out
}

// SafetyRequests lists one BOS-context request per sentence, the
// continuation being the text exactly as stored.
func SafetyRequests(sents []Sentence) []Request {
	out := make([]Request, len(sents))
	for i, s := range sents {
		out[i] = Request{Continuation: s.Text, BOSContext: true}
	}
	return out
}

// ScoreBatches sends reqs to s in batches of size batch (all at once when
// batch <= 0), calling progress(done, total) after each.
func ScoreBatches(ctx context.Context, s Scorer, reqs []Request, batch int, progress func(done, total int)) ([]Result, error) {
	if batch <= 0 {
		batch = len(reqs)
	}
	out := make([]Result, 0, len(reqs))
	for lo := 0; lo < len(reqs); lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+batch, len(reqs))
		res, err := s.Loglikelihood(ctx, reqs[lo:hi])
		if err != nil {
			return nil, err
		}
		if len(res) != hi-lo {
			return nil, invalid("scorer returned %d results for %d requests", len(res), hi-lo)
		}
		out = append(out, res...)
		if progress != nil {
			progress(hi, len(reqs))
		}
	}
	return out, nil
}
