// Package spec holds the building blocks shared by every resource spec,
// whether it comes from the config file or from the API: typed values
// (Duration, ByteSize) and Problems, the list of validation errors with
// their paths that every Validate method fills.
//
// Problems is public, in pkg/spec, because connectors built outside this
// module fill it too; the names here are aliases of it.
package spec

import pub "github.com/eventbridge-dev/eventbridge/pkg/spec"

// Problem is one validation error: where, and why.
type Problem = pub.Problem

// Problems collects validation errors under a path prefix; see pkg/spec.
type Problems = pub.Problems

// ValidationError is the error of a spec with problems.
type ValidationError = pub.ValidationError

// NewProblems returns an empty list rooted at prefix ("" for the top).
func NewProblems(prefix string) Problems { return pub.NewProblems(prefix) }
