package study

import (
	"fmt"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
)

// KeyFormat versions the preimage encoding; bump it when the encoding
// changes so old entries stop matching instead of matching wrongly.
const KeyFormat = "dag-key/1"

// Impl identifies the code that computes a node's output: a plugin by
// the sha256 of its binary and its protocol version, or a built-in step by
// name and version; and Builtins, the versions of dag's own code that
// computes part of it beside the plugin (an eval node's task, whose
// prompts and metrics are dag's, around the plugin's log-likelihoods).
// docs/caching.md lists them.
type Impl struct {
	Name     string            `json:"name"`
	Digest   digest.Digest     `json:"digest,omitempty"`
	Protocol int               `json:"protocol,omitempty"`
	Version  string            `json:"version,omitempty"`
	Builtins map[string]string `json:"builtins,omitempty"`
}

// Input names of the nodes Compile wires, shared with the code that
// reads the inputs (plugins.InputModel and InputData are these).
const (
	// InputSource names a data node's source content among its key inputs.
	InputSource = "source"
	// InputModel is a stage's model: the parent a training node starts
	// from, or the model an eval or safety node scores.
	InputModel = "model"
	// InputData is a stage's prepared data.
	InputData = "data"
	// InputFewshot is an eval node's few-shot examples.
	InputFewshot = "fewshot"
)

// Preimage is the canonical description a cache key is the digest of.
type Preimage struct {
	Format    string                   `json:"format"`
	Namespace string                   `json:"namespace"`
	Kind      Kind                     `json:"kind"`
	Impl      Impl                     `json:"impl"`
	Params    map[string]any           `json:"params"`
	Inputs    map[string]digest.Digest `json:"inputs"`
}

// NewPreimage describes node n for keying: its params without the
// execution-only fields (dotted paths such as "log_every" or "lora.dropout"
// that change how a run goes, not what it produces) and the content
// digests of its inputs, which must all be known.
func NewPreimage(namespace string, n *Node, impl Impl, executionOnly []string, inputs map[string]digest.Digest) (Preimage, error) {
	for name, d := range inputs {
		if err := d.Validate(); err != nil {
			return Preimage{}, fmt.Errorf("node %s: input %s: %v: %w", n.ID, name, err, errdefs.ErrInvalidArgument)
		}
	}
	for _, in := range n.Inputs {
		_, ok := inputs[in.Name]
		if !ok {
			return Preimage{}, fmt.Errorf("node %s: input %s has no digest: %w", n.ID, in.Name, errdefs.ErrFailedPrecondition)
		}
	}
	want := len(n.Inputs)
	if n.Source != nil {
		want++ // a data node's source enters as the input named InputSource
		if _, ok := inputs[InputSource]; !ok {
			return Preimage{}, fmt.Errorf("node %s: source has no digest: %w", n.ID, errdefs.ErrFailedPrecondition)
		}
	}
	if len(inputs) != want {
		return Preimage{}, fmt.Errorf("node %s: %d input digests for %d inputs: %w", n.ID, len(inputs), want, errdefs.ErrInvalidArgument)
	}
	params := normalize(n.Params).(map[string]any)
	for _, path := range executionOnly {
		deletePath(params, strings.Split(path, ".")) // params are copied by normalize: the node's map is untouched
	}
	return Preimage{
		Format: KeyFormat, Namespace: namespace, Kind: n.Kind, Impl: impl,
		Params: params, Inputs: inputs,
	}, nil
}

// Encode returns the preimage's canonical bytes.
func (p Preimage) Encode() []byte {
	b, err := Canonical(p)
	if err != nil {
		panic("study: preimage is not canonical: " + err.Error())
	}
	return b
}

// Key is the cache key: the digest of the canonical preimage.
func (p Preimage) Key() digest.Digest { return digest.FromBytes(p.Encode()) }

// deletePath removes a dotted path ("lora.dropout", split) from nested
// maps, and the maps it leaves empty: how execution-only fields are left
// out of keys.
func deletePath(m map[string]any, path []string) {
	if len(path) == 1 {
		delete(m, path[0])
		return
	}
	if sub, ok := m[path[0]].(map[string]any); ok {
		deletePath(sub, path[1:])
		if len(sub) == 0 {
			delete(m, path[0])
		}
	}
}

// Change is one field that differs between two preimages.
type Change struct {
	Path string `json:"path"` // e.g. params.learning_rate, inputs.data
	Old  string `json:"old"`  // canonical JSON of the old value; "" if absent
	New  string `json:"new"`
}

func (c Change) String() string {
	switch {
	case c.Old == "":
		return fmt.Sprintf("%s added (%s)", c.Path, c.New)
	case c.New == "":
		return fmt.Sprintf("%s removed (was %s)", c.Path, c.Old)
	}
	return fmt.Sprintf("%s %s -> %s", c.Path, c.Old, c.New)
}

// Diff explains why two keys differ, field by field, from their preimage
// bytes. Both must be canonical preimages (any format version).
func Diff(oldPre, newPre []byte) ([]Change, error) {
	var a, b map[string]any
	if err := unmarshalNumbers(oldPre, &a); err != nil {
		return nil, fmt.Errorf("old preimage: %w", err)
	}
	if err := unmarshalNumbers(newPre, &b); err != nil {
		return nil, fmt.Errorf("new preimage: %w", err)
	}
	fa, fb := map[string]string{}, map[string]string{}
	flatten("", a, fa)
	flatten("", b, fb)
	paths := map[string]bool{}
	for p := range fa {
		paths[p] = true
	}
	for p := range fb {
		paths[p] = true
	}
	var out []Change
	for _, p := range sortedKeys(paths) {
		if fa[p] != fb[p] {
			out = append(out, Change{Path: p, Old: fa[p], New: fb[p]})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// flatten maps each leaf (or list) path to its canonical JSON.
func flatten(prefix string, v any, out map[string]string) {
	if m, ok := v.(map[string]any); ok && len(m) > 0 {
		for k, e := range m {
			flatten(joinPath(prefix, k), e, out)
		}
		return
	}
	b, err := Canonical(v)
	if err != nil {
		b = []byte(fmt.Sprint(v))
	}
	s := string(b)
	if str, ok := v.(string); ok {
		s = str // digests and names read better unquoted
	}
	out[prefix] = s
}
