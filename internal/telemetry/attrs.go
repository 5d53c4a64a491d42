package telemetry

import "go.opentelemetry.io/otel/attribute"

// Span and metric attribute keys. They are part of what dashboards and
// trace queries rely on: add keys, do not rename them.
const (
	// AttrStudy is the study's name.
	AttrStudy = attribute.Key("dag.study")
	// AttrNode is a node's ID in its study.
	AttrNode = attribute.Key("dag.node")
	// AttrKind is a node's stage kind (data, sft, eval, ...).
	AttrKind = attribute.Key("dag.kind")
	// AttrKey is a node's cache key (a digest).
	AttrKey = attribute.Key("dag.key")
	// AttrCache is a cache outcome: "hit" or "miss" on a lookup,
	// "executed" on a run.
	AttrCache = attribute.Key("dag.cache")
	// AttrRun is the Temporal run ID of a study run.
	AttrRun = attribute.Key("dag.run")
	// AttrDigest is the digest of the blob a store operation reads or
	// writes.
	AttrDigest = attribute.Key("dag.digest")
	// AttrRecord names the record a store operation reads or writes.
	AttrRecord = attribute.Key("dag.record")
	// AttrBytes is how many bytes a store operation moved.
	AttrBytes = attribute.Key("dag.bytes")
	// AttrOp is a store operation (open, stat, write, ...).
	AttrOp = attribute.Key("dag.store.op")
	// AttrDirection is "read" or "write" on byte counts.
	AttrDirection = attribute.Key("dag.direction")
	// AttrPlugin is a plugin's name.
	AttrPlugin = attribute.Key("dag.plugin.name")
	// AttrPluginDigest is the sha256 of a plugin's binary.
	AttrPluginDigest = attribute.Key("dag.plugin.digest")
	// AttrOutcome is how a stage ended: "executed" or "failed".
	AttrOutcome = attribute.Key("dag.outcome")
)

// Cache outcomes, the values of AttrCache.
const (
	CacheHit      = "hit"
	CacheMiss     = "miss"
	CacheExecuted = "executed"
)
