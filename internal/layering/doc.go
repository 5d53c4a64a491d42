// Package layering holds the test that enforces dag's dependency rules
// (docs/architecture.md, "Dependency rules") on direct imports and on
// reading the environment.
package layering
