package connector

import (
	"errors"
	"fmt"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// ExtensionLimits are the limits on the extensions of one event that a
// source takes from outside, with the names and defaults of the http
// source's. Source configs embed it; a zero field takes its default.
type ExtensionLimits struct {
	// MaxExtensions limits the extension attributes of one event. Default 100.
	MaxExtensions int `json:"max_extensions,omitempty"`
	// MaxExtensionSize limits the names and values of one event's
	// extensions together. Default 64KiB.
	MaxExtensionSize spec.ByteSize `json:"max_extension_size,omitempty"`
}

// FillExtensionDefaults sets unset limits to their defaults.
func (c *ExtensionLimits) FillExtensionDefaults() {
	if c.MaxExtensions == 0 {
		c.MaxExtensions = ebevent.DefaultMaxExtensions
	}
	if c.MaxExtensionSize == 0 {
		c.MaxExtensionSize = ebevent.DefaultMaxExtensionBytes
	}
}

// ValidateExtensionLimits reports problems under p.
func (c *ExtensionLimits) ValidateExtensionLimits(p spec.Problems) {
	if c.MaxExtensions < 1 {
		p.AddAt("max_extensions", "must be at least 1")
	}
	if c.MaxExtensionSize < 1024 {
		p.AddAt("max_extension_size", "must be at least 1KiB")
	}
}

// EventLimits are the limits as ebevent.Limits. Unset fields (a config
// whose defaults were not filled, in tests) take the defaults.
func (c *ExtensionLimits) EventLimits() ebevent.Limits {
	d := *c
	d.FillExtensionDefaults()
	return ebevent.Limits{MaxExtensions: d.MaxExtensions, MaxExtensionBytes: int(d.MaxExtensionSize)}
}

// CheckExtensions checks the extensions of e. Its error wraps an
// *ebevent.LimitError (errors.Is ebevent.ErrTooManyExtensions or
// ebevent.ErrExtensionsTooLarge) and names the setting that limits them.
func (c *ExtensionLimits) CheckExtensions(e *ce.Event) error {
	err := c.EventLimits().CheckEvent(e)
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w (%s)", err, LimitSetting(err))
}

// LimitSetting is the setting behind a limit error of CheckExtensions:
// max_extensions or max_extension_size ("" for another error).
func LimitSetting(err error) string {
	switch {
	case errors.Is(err, ebevent.ErrTooManyExtensions):
		return "max_extensions"
	case errors.Is(err, ebevent.ErrExtensionsTooLarge):
		return "max_extension_size"
	}
	return ""
}

// RejectReason is the reason label of eventbridge_events_rejected_total
// for an event a source refuses with err: "extensions" for a limit error
// of CheckExtensions, else "invalid".
func RejectReason(err error) string {
	if LimitSetting(err) != "" {
		return "extensions"
	}
	return "invalid"
}
