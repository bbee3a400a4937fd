package spec

import "errors"

// Errors of references, given as the reasons of problems. None of them
// carries a resolved value.
var (
	// ErrEnvFileRef: ${env:…} or ${file:…} in a spec that may not read the
	// bridge's environment and files (one sent through the API).
	ErrEnvFileRef = errors.New("${env:…} and ${file:…} references are only expanded in the bridge's config file, not in resources sent through the API (they would read the bridge's environment and files): declare a named secret in the config file (secrets:) and write ${secret:NAME} in a secret field")
	// ErrSecretField: ${secret:…} in a field that is not a secret.
	ErrSecretField = errors.New("${secret:…} references are only allowed in secret fields (tokens, passwords, header values), which are never shown")
	// ErrUnknownSecret: ${secret:NAME} names no declared secret.
	ErrUnknownSecret = errors.New("no such secret")
)
