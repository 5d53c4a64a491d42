// Package planner decides, before anything runs, what each node of a plan
// would do: hit (its result is in the store), miss (it must run, and why),
// or blocked (its key cannot be known yet: an input is not produced, or its
// plugin is missing). It hashes local sources, predicts keys with the
// locally installed plugins (Resolve, which workers use too), and explains a miss as a field-level diff
// against the last result recorded for the same node.
package planner
