package plugins

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/dagproject/dag/errdefs"
)

// RequestDecoder reads a requests file (file mode of Score): one JSON
// LoglikelihoodRequest per line.
type RequestDecoder struct {
	dec *json.Decoder
	n   int
}

// NewRequestDecoder returns a decoder reading from r.
func NewRequestDecoder(r io.Reader) *RequestDecoder {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	dec.DisallowUnknownFields()
	return &RequestDecoder{dec: dec}
}

// Next returns the next request, or io.EOF after the last. A malformed or
// invalid request is InvalidArgument, naming its 1-based position.
func (d *RequestDecoder) Next() (LoglikelihoodRequest, error) {
	var q LoglikelihoodRequest
	if err := d.dec.Decode(&q); err != nil {
		if errors.Is(err, io.EOF) {
			return q, io.EOF
		}
		return q, fmt.Errorf("request %d: %v: %w", d.n+1, err, errdefs.ErrInvalidArgument)
	}
	d.n++
	if err := q.Validate(); err != nil {
		return q, fmt.Errorf("request %d: %w", d.n, err)
	}
	return q, nil
}

// WriteRequests writes reqs to w as a requests file.
func WriteRequests(w io.Writer, reqs []LoglikelihoodRequest) error {
	return writeLines(w, reqs)
}

// WriteResults writes res to w as a results file. Log-probabilities must
// be finite (JSON has no infinities).
func WriteResults(w io.Writer, res []LoglikelihoodResult) error {
	return writeLines(w, res)
}

// ReadResults reads a whole results file. A malformed line is
// InvalidArgument.
func ReadResults(r io.Reader) ([]LoglikelihoodResult, error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	dec.DisallowUnknownFields()
	var out []LoglikelihoodResult
	for {
		var v LoglikelihoodResult
		if err := dec.Decode(&v); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, fmt.Errorf("result %d: %v: %w", len(out)+1, err, errdefs.ErrInvalidArgument)
		}
		out = append(out, v)
	}
}

func writeLines[T any](w io.Writer, vs []T) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, v := range vs {
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return bw.Flush()
}
