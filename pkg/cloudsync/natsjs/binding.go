package natsjs

import (
	"errors"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// headerPrefix marks the attribute headers of the CloudEvents NATS binding
// in binary mode.
const headerPrefix = "ce-"

// errNotCloudEvent says a message has no ce-specversion header.
var errNotCloudEvent = errors.New("not a binary-mode CloudEvent: no ce-specversion header")

// encode writes evt in binary mode: every attribute, datacontenttype
// included, is a ce- header (values percent-encoded as in HTTP), the data is
// the payload. It is the mapping eventbridge's NATS connector uses, so the
// bridge reads these messages as they are.
func encode(subject string, evt *cloudevents.Event) *nats.Msg {
	m := &nats.Msg{Subject: subject, Header: nats.Header{}}
	for name, v := range ebevent.BinaryAttributes(evt) {
		m.Header[headerPrefix+name] = []string{ebevent.PercentEncode(v)}
	}
	if ct := evt.DataContentType(); ct != "" {
		m.Header[headerPrefix+"datacontenttype"] = []string{ebevent.PercentEncode(ct)}
	}
	m.Data = evt.Data()
	return m
}

// decode reads a binary-mode event (header names case-insensitive).
// Extension values arrive as strings, as in every binary binding; the
// cloudsync codecs read them with the sdk-go type conversions.
func decode(h nats.Header, data []byte) (*cloudevents.Event, error) {
	attrs := map[string]string{}
	ct := ""
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		if strings.EqualFold(k, "Content-Type") {
			ct = vs[0]
			continue
		}
		if len(k) <= len(headerPrefix) || !strings.EqualFold(k[:len(headerPrefix)], headerPrefix) {
			continue
		}
		v, err := ebevent.PercentDecode(vs[0])
		if err != nil {
			return nil, err
		}
		attrs[strings.ToLower(k[len(headerPrefix):])] = v
	}
	if _, ok := attrs["specversion"]; !ok {
		return nil, errNotCloudEvent
	}
	if dct, ok := attrs["datacontenttype"]; ok {
		ct = dct
		delete(attrs, "datacontenttype")
	}
	return ebevent.FromBinary(attrs, ct, data)
}
