package plugins

import (
	"encoding/json"
	"fmt"

	"github.com/dagproject/dag/errdefs"
)

// LoglikelihoodRequest is one (context, continuation) pair to score. It is
// also the shape of a line of a requests file (file mode).
type LoglikelihoodRequest struct {
	Context      string `json:"context"`
	Continuation string `json:"continuation"`
	// BOSContext means the context is exactly the BOS token (per-sentence
	// perplexity); Context must then be empty.
	BOSContext bool `json:"bos_context,omitempty"`
}

// LoglikelihoodResult is the score of one request (docs/plugins.md, "Score"). It is
// also the shape of a line of a results file.
type LoglikelihoodResult struct {
	// Logprob is the sum of the continuation tokens' log-probabilities.
	Logprob float64 `json:"logprob"`
	// Tokens is the number of continuation tokens.
	Tokens int `json:"tokens"`
	// Greedy reports whether every continuation token was the argmax.
	Greedy bool `json:"greedy"`
}

// ScoreRequest asks for log-likelihoods, inline or file to file.
type ScoreRequest struct {
	// Checkpoint is the folder of the model to score with.
	Checkpoint string
	// Params is one JSON object (e.g. max_length, batch_size); nil means {}.
	Params json.RawMessage
	// RequestsPath (file mode) is a JSONL file of LoglikelihoodRequest;
	// OutputPath receives one LoglikelihoodResult line per request, in
	// order. Both set, or neither.
	RequestsPath string
	OutputPath   string
	// Requests (inline mode) is used when RequestsPath is empty.
	Requests []LoglikelihoodRequest
}

// FileMode reports whether r names a requests file.
func (r ScoreRequest) FileMode() bool { return r.RequestsPath != "" }

// Validate checks that r is in exactly one mode with well-formed requests.
// The class is InvalidArgument.
func (r ScoreRequest) Validate() error {
	invalid := func(format string, a ...any) error {
		return fmt.Errorf("score: "+format+": %w", append(a, errdefs.ErrInvalidArgument)...)
	}
	if r.Checkpoint == "" {
		return invalid("no checkpoint folder")
	}
	if (r.RequestsPath == "") != (r.OutputPath == "") {
		return invalid("requests and output paths go together")
	}
	if r.FileMode() && len(r.Requests) > 0 {
		return invalid("both a requests file and inline requests")
	}
	for i, q := range r.Requests {
		if err := q.Validate(); err != nil {
			return fmt.Errorf("score: request %d: %w", i, err)
		}
	}
	return checkObject("score", r.Params)
}

// Validate checks that a BOS-context request has an empty context. The
// class is InvalidArgument.
func (q LoglikelihoodRequest) Validate() error {
	if q.BOSContext && q.Context != "" {
		return fmt.Errorf("bos_context with a non-empty context: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

// ScoreResponse answers a ScoreRequest.
type ScoreResponse struct {
	// Count is the number of requests scored.
	Count int
	// Results (inline mode) has one result per request, in order; nil in
	// file mode.
	Results []LoglikelihoodResult
}
