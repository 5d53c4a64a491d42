// Package host finds, launches and kills dag plugins.
//
// Terms:
//
//   - The search path is the ordered list of folders searched for plugin
//     binaries (SearchPath: the dag binary's own folder, each folder of
//     DAG_PLUGIN_PATH, then <home>/plugins). A binary is a regular,
//     executable file named dag-plugin-<name>; the first one found wins
//     for each name.
//   - A plugin's digest is the sha256 of its binary. It enters cache keys
//     with the protocol version, and Launch refuses a binary whose digest
//     is no longer the one discovered (go-plugin's SecureConfig).
//   - Discover launches each binary once to ask Describe and returns an
//     Info per name, broken binaries included (Ready false, Problem set).
//   - Launch starts one plugin (gRPC with AutoMTLS, managed by go-plugin)
//     and returns a Client: the plugins.Plugin interface over RPC plus its
//     lifetime. The process lives until the Launch context is done or
//     Close is called; it gets SIGKILL if dag dies (parent-death signal on
//     Linux) and runs in its own process group, which Close and a
//     cancellation kill whole.
//
// Failures: a plugin that crashes, before or during a call, yields an
// *ExitError carrying its exit status and the tail of its standard error;
// its class is Unavailable. A call whose context ends kills the plugin.
package host
