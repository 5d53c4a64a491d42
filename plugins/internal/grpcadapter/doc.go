// Package grpcadapter carries the plugins.Plugin interface over the gRPC
// service of plugins/proto, in both directions, and holds what the host and
// the SDK must agree on: the go-plugin handshake (magic cookie, protocol
// version) and the go-plugin GRPCPlugin.
//
// The server adapter turns a plugins.Plugin into a pluginpb.BackendServer;
// the client adapter turns a gRPC connection into a plugins.Plugin. Error
// classes of errdefs cross as gRPC status codes (ToGRPC, FromGRPC), so
// errdefs.IsNotFound and friends work on the far side. Inline Score
// requests travel in column-wise batches of at most MaxBatchRequests
// requests and about MaxBatchBytes bytes each.
package grpcadapter
