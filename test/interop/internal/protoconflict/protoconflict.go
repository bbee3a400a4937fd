// Package protoconflict lets one test binary link both implementations of
// the CloudEvents protobuf schema (package io.cloudevents.v1, file
// cloudevent.proto): the CloudEvents SDK's, which pkg/cloudsync/grpc uses,
// and the copy open-cluster-management generated for its gRPC options.
// Both register the same names, and the protobuf runtime panics at init on
// the second unless GOLANG_PROTOBUF_REGISTRATION_CONFLICT says otherwise.
//
// The runtime reads that variable when the conflict happens. Go initializes
// a package as soon as its dependencies are, the one with the smallest
// import path first; this package depends on os only, so its init runs
// before the protobuf-generated packages (they wait for the protobuf
// runtime) and sets the variable for them. Import it for its side effect.
//
// A program of yours that links both gets the same effect by running with
// GOLANG_PROTOBUF_REGISTRATION_CONFLICT=warn, or by building with
// -ldflags "-X google.golang.org/protobuf/reflect/protoregistry.conflictPolicy=warn".
package protoconflict

import "os"

func init() {
	if os.Getenv("GOLANG_PROTOBUF_REGISTRATION_CONFLICT") == "" {
		_ = os.Setenv("GOLANG_PROTOBUF_REGISTRATION_CONFLICT", "warn")
	}
}
