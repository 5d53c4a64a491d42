package telemetrytest

import (
	"encoding/hex"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Attr returns the string form of a received span's attribute, and
// whether it has it.
func (s Span) Attr(key string) (string, bool) {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() == key {
			v := kv.GetValue()
			if v.GetStringValue() != "" {
				return v.GetStringValue(), true
			}
			return strings.TrimSpace(strings.Trim(v.String(), "{}")), true
		}
	}
	return "", false
}

// TraceID is the received span's trace ID in hex.
func (s Span) TraceID() string { return hex.EncodeToString(s.GetTraceId()) }

// Tree indexes in-memory spans (tracetest.SpanStubs) by span ID, to walk
// from a span up to its root.
type Tree struct {
	byID map[string]tracetest.SpanStub
}

// NewTree indexes spans.
func NewTree(spans tracetest.SpanStubs) Tree {
	t := Tree{byID: map[string]tracetest.SpanStub{}}
	for _, s := range spans {
		t.byID[s.SpanContext.SpanID().String()] = s
	}
	return t
}

// Ancestors returns the names of s's ancestors, nearest first, as far as
// the spans go.
func (t Tree) Ancestors(s tracetest.SpanStub) []string {
	var names []string
	for p := s.Parent; p.IsValid(); {
		ps, ok := t.byID[p.SpanID().String()]
		if !ok {
			break
		}
		names = append(names, ps.Name)
		p = ps.Parent
	}
	return names
}

// StubAttr returns an in-memory span's attribute, and whether it has it.
func StubAttr(s tracetest.SpanStub, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}
