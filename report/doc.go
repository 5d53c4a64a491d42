// Package report builds a study's result tables from its evaluation and
// safety results: benchmarks x models (value and standard error per task)
// and demographic groups x models (SafeNLP scores, null where a group's
// difference is not significant). It is pure code; the report node and
// `dag report` render what it builds.
package report
