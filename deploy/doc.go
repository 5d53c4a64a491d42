// Package deploy holds dag's deployment files and the tests that check them
// offline, without a container engine or a cluster:
//
//   - ../docker-compose.yml: a Temporal cluster on PostgreSQL with its Web UI,
//     MinIO as the store, Jaeger and Prometheus, and one worker per queue.
//   - Dockerfile: the worker images. Target worker-cpu (Debian slim) and
//     target worker-gpu (PyTorch with CUDA, plus requirements-gpu.txt) share
//     one build stage, so both carry the same binaries and plugin digests.
//   - temporal/: the schema and namespace setup the compose file runs.
//   - k8s/: plain manifests for workers against an existing Temporal cluster
//     and S3 store (kubectl apply -k deploy/k8s).
//
// A queue is a pool of workers: `dag worker --queues cpu` polls the workflow
// queue "dag" and the activity queue "dag-cpu"; `--queues gpu` polls "dag" and
// "dag-gpu". docs/deploy.md is the guide.
package deploy
