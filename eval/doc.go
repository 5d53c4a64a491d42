// Package eval computes benchmark metrics with lm-evaluation-harness
// semantics and the SafeNLP safety score (docs/metrics.md). It is
// pure code: a backend only answers log-likelihood requests (Scorer).
//
// Terms:
//   - A Doc is one benchmark question: a context (the prompt without
//     few-shot examples), its choices, and the gold answer.
//   - A Request is one (context, continuation) pair; a multiple-choice Doc
//     yields one per choice, with continuation " " + choice (the target
//     delimiter).
//   - A Task turns public-schema records into Docs and names its metric
//     (acc, acc_norm or mc2).
//   - Sentence is a SafeNLP item; its perplexity comes from a request whose
//     context is exactly the BOS token.
//
// Malformed records and inputs are errdefs.ErrInvalidArgument.
package eval
