package report

// Version versions Build: the tables, reference deltas and curves of the
// report.json a report node stores. It is the version of the built-in
// report implementation in every report node's key (docs/caching.md).
// Bump it whenever Build's output changes; TestVersions fails until it
// is. Rendering (md, csv, html) reads report.json later and needs no bump.
const Version = "1"
