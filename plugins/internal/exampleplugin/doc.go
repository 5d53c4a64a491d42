// Package exampleplugin is a toy backend used by the protocol's tests and
// benchmarks; it is not shipped (dag-plugin-example beside this file is
// its main, built by tests with Build).
//
// Train counts: each step adds one to a counter that starts from the
// parent model's counter.txt and ends in the output folder's counter.txt.
// Params make it misbehave on purpose: crash_at exits the process with
// crash_message on standard error, step_delay_ms slows it down,
// ignore_cancel makes it ignore cancellation, spawn_child starts a child
// process (its pid goes to child.pid in the output folder). A problem file
// makes Describe report not ready.
//
// Score is a byte-level bigram toy language model: every byte of the
// continuation is a token, scored with a log-softmax over 256 logits that
// depend on the previous byte and the checkpoint's counter, so it is
// deterministic and does per-token work proportional to a vocabulary, as a
// real model head does. Param "softmax": false replaces the softmax with a
// closed form, for measuring pure protocol overhead.
package exampleplugin
