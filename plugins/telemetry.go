package plugins

// MetricTokensPerSecond is the key under which a training plugin reports
// its throughput in metrics events; the host turns it into the
// dag.train.tokens_per_second metric.
const MetricTokensPerSecond = "tokens_per_second"
