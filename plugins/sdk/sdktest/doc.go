// Package sdktest lets a plugin package test its implementation over the
// real protocol without building a binary: Connect serves it on an
// in-process gRPC connection and returns the client side, and Conformance
// checks what every plugin must satisfy.
package sdktest
