package plugins

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/study"
)

// ProtocolVersion is the version of the plugin protocol this package
// speaks (dag.plugin.v1). It is negotiated in the handshake and enters cache
// keys with the plugin's digest.
const ProtocolVersion = 1

// Kind is a stage kind: one type for the study's nodes and the plugins
// that run them. Trains (pretrain, sft, dpo) are run by Train, the others
// by Score.
type Kind = study.Kind

// The stage kinds a plugin runs (data and report nodes are dag's own).
const (
	KindPretrain = study.KindPretrain
	KindSFT      = study.KindSFT
	KindDPO      = study.KindDPO
	KindEval     = study.KindEval
	KindSafety   = study.KindSafety
)

// Kinds lists every stage kind a plugin may run, in a fixed order.
var Kinds = []Kind{KindPretrain, KindSFT, KindDPO, KindEval, KindSafety}

// ValidKind reports whether k is one of Kinds.
func ValidKind(k Kind) bool { return slices.Contains(Kinds, k) }

// Resource is the class of worker a plugin's stages need.
type Resource string

// The resource classes.
const (
	ResourceCPU Resource = "cpu"
	ResourceGPU Resource = "gpu"
)

// Valid reports whether r is cpu or gpu.
func (r Resource) Valid() bool { return r == ResourceCPU || r == ResourceGPU }

// ParamType is the JSON type of a parameter's value.
type ParamType string

// The parameter types.
const (
	TypeString ParamType = "string"
	TypeInt    ParamType = "int"
	TypeFloat  ParamType = "float"
	TypeBool   ParamType = "bool"
	TypeList   ParamType = "list"
	TypeObject ParamType = "object"
)

// Description is a plugin's answer to Describe.
type Description struct {
	// Name equals <name> in the binary's file name dag-plugin-<name>.
	Name string
	// Version is the implementation's version, free text.
	Version string
	// ProtocolVersion is the protocol version spoken. Authors leave it
	// zero; the SDK fills in ProtocolVersion.
	ProtocolVersion int
	// Kinds are the stage kinds it runs.
	Kinds []Kind
	// Params are the parameters it accepts, by dotted path.
	Params []Param
	// Resource is cpu or gpu.
	Resource Resource
	// Ready is false when the plugin cannot run now; Problem says why
	// (e.g. "python package torch not installed").
	Ready   bool
	Problem string
}

// Param describes one parameter of the nested params object.
type Param struct {
	// Path is the field's dotted path, e.g. "lora.rank".
	Path string
	// Type is the JSON type of its value.
	Type ParamType
	// Default is the JSON value used when the field is absent; nil means
	// the field is required.
	Default json.RawMessage
	// Description is one line of help.
	Description string
	// ExecutionOnly marks fields that change how a stage runs but not what
	// it computes (per-device batch size, loader threads): they stay out
	// of cache keys.
	ExecutionOnly bool
}

// ExecutionOnlyPaths returns the dotted paths of d's execution-only
// params, sorted; nil when there are none.
func (d Description) ExecutionOnlyPaths() []string {
	var out []string
	for _, p := range d.Params {
		if p.ExecutionOnly {
			out = append(out, p.Path)
		}
	}
	slices.Sort(out)
	return out
}

// Supports reports whether d lists kind k.
func (d Description) Supports(k Kind) bool { return slices.Contains(d.Kinds, k) }

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	pathRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
)

// ValidName reports whether name can be a plugin name: letters, digits,
// '-' and '_', not starting with '-' or '_'.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// Validate checks d: a valid name, known kinds and resource, and params
// with unique well-formed paths, known types and defaults of their type.
// Every problem is reported, joined; the class is InvalidArgument.
func (d Description) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("description: "+format+": %w", append(a, errdefs.ErrInvalidArgument)...))
	}
	if !ValidName(d.Name) {
		bad("name %q is not a valid plugin name", d.Name)
	}
	for _, k := range d.Kinds {
		if !ValidKind(k) {
			bad("unknown kind %q", k)
		}
	}
	if !d.Resource.Valid() {
		bad("resource %q is not cpu or gpu", d.Resource)
	}
	if !d.Ready && d.Problem == "" {
		bad("not ready but no problem given")
	}
	seen := map[string]bool{}
	for _, p := range d.Params {
		if !pathRE.MatchString(p.Path) {
			bad("param path %q is not a dotted path", p.Path)
			continue
		}
		if seen[p.Path] {
			bad("param %q listed twice", p.Path)
		}
		seen[p.Path] = true
		if err := checkDefault(p); err != nil {
			bad("param %q: %v", p.Path, err)
		}
	}
	return errors.Join(errs...)
}

func checkDefault(p Param) error {
	var want func(v any) bool
	switch p.Type {
	case TypeString:
		want = func(v any) bool { _, ok := v.(string); return ok }
	case TypeInt:
		want = func(v any) bool { n, ok := v.(json.Number); _, err := n.Int64(); return ok && err == nil }
	case TypeFloat:
		want = func(v any) bool { _, ok := v.(json.Number); return ok }
	case TypeBool:
		want = func(v any) bool { _, ok := v.(bool); return ok }
	case TypeList:
		want = func(v any) bool { _, ok := v.([]any); return ok }
	case TypeObject:
		want = func(v any) bool { _, ok := v.(map[string]any); return ok }
	default:
		return fmt.Errorf("unknown type %q", p.Type)
	}
	if p.Default == nil {
		return nil
	}
	v, err := decodeJSON(p.Default)
	if err != nil {
		return fmt.Errorf("default is not JSON: %v", err)
	}
	if v != nil && !want(v) {
		return fmt.Errorf("default %s is not of type %s", p.Default, p.Type)
	}
	return nil
}
