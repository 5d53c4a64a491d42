package datasets

import "sort"

// Version versions the preparation every data node goes through: format
// checks, the record readers (JSON Lines, JSON, Parquet, gzip), sampling,
// the output folder's layout and stats.json. It is the version of the
// built-in data implementation in every data node's key (docs/caching.md).
// Bump it whenever any of those changes an output; TestVersions fails
// until it is.
const Version = "1"

// adapterVersions versions each adapter's conversion on its own, so a fix
// to one adapter re-runs only the data nodes that use it. Bump an
// adapter's version whenever its output changes; TestVersions fails until
// it is. Every adapter newConverter knows has one.
var adapterVersions = map[string]string{
	"sft-jsonl":  "1",
	"pref-jsonl": "1",
	"shp":        "1",
	"hh-rlhf":    "1",
	"lima":       "1",
	"openorca":   "1",
	"arc":        "1",
	"piqa":       "1",
	"hellaswag":  "1",
	"mmlu":       "1",
	"toxigen":    "1",
	"truthfulqa": "1",
	"safenlp":    "1",
}

// AdapterVersion is the version of a named adapter's conversion, "" for
// no adapter (or "text": the source is passed through) and for a name
// newConverter does not know.
func AdapterVersion(adapter string) string { return adapterVersions[adapter] }

// Adapters lists every adapter with a conversion, sorted.
func Adapters() []string {
	out := make([]string, 0, len(adapterVersions))
	for a := range adapterVersions {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}
