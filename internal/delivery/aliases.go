package delivery

import "github.com/eventbridge-dev/eventbridge/internal/delivery/policy"

// Policy is a rule's delivery policy. It lives in the leaf package policy
// so that resource specs do not import this package (and the bus).
type Policy = policy.Policy

// Backoff is an exponential backoff with jitter; see policy.Backoff.
type Backoff = policy.Backoff
