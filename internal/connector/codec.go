package connector

import pub "github.com/eventbridge-dev/eventbridge/pkg/connector"

// Codec turns a message body that is not a CloudEvent in one of the
// CloudEvents formats into an event (e.g. Choria lifecycle events).
type Codec = pub.Codec

// RegisterCodec adds a codec sources can name in their `codec` option.
// Call it from init(); it panics on a duplicate name.
func RegisterCodec(name string, c Codec) { pub.RegisterCodec(name, c) }
