// Package interop holds the wire-compatibility tests of pkg/cloudsync
// against open-cluster-management's generic CloudEvents clients
// (open-cluster-management.io/sdk-go). It is its own Go module so that the
// main module does not take the Kubernetes dependencies of the OCM SDK.
//
// The tests need Mosquitto on 127.0.0.1:1883 (MQTT v5); without it they skip,
// unless EVENTBRIDGE_INTEGRATION=1, where they fail.
package interop
