// Package client is what a program needs to work with studies on a dag
// server: start a run of a stored plan or attach to an identical running
// one (Start), find runs and see their state (Find, View, RecordView),
// follow one until it ends (Follow), retry one (Retry), read its report
// (LoadReport), and find the embedded server a home's `dag server`
// announces (ServerFile). The CLI keeps flags and printing; everything it
// decides about runs is here, where tests can call it directly.
//
// Terms: a run is one execution of Temporal's study workflow (runs.StudyWorkflow);
// its RunRef is the workflow ID, which identical submissions share, and
// the run ID, which names this execution.
package client
