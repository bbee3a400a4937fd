package bus

import (
	"context"

	"github.com/nats-io/nats.go"
)

// Listen connects to the NATS server at url as name, calls fn with the
// body of every message published on subjects (core NATS, at most once,
// one message at a time), and returns when ctx is done. It reconnects for
// as long as it runs.
func Listen(ctx context.Context, url, name string, subjects []string, fn func(data []byte)) error {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	defer nc.Close()
	for _, subj := range subjects {
		if _, err := nc.Subscribe(subj, func(m *nats.Msg) { fn(m.Data) }); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return ctx.Err()
}
