// Package embedded runs a real Temporal server in-process: SQLite
// persistence in one file, every service on loopback, and the Temporal Web
// UI. It is what `dag` uses when no cluster address is given; only cmd/dag
// and integration tests import it, so libraries stay free of the server.
package embedded
