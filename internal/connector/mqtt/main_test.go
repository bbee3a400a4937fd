package mqtt

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		var opts []goleak.Option
		if mochiStuck.Load() {
			// The goroutines of a broker that closeMochi left behind.
			for _, f := range []string{
				"github.com/mochi-mqtt/server/v2.(*Clients).Len",
				"github.com/mochi-mqtt/server/v2.(*Clients).Delete",
				"github.com/mochi-mqtt/server/v2.(*Server).eventLoop",
				"github.com/mochi-mqtt/server/v2.(*Server).EstablishConnection",
				"github.com/mochi-mqtt/server/v2/listeners.(*TCP).Serve",
				"github.com/mochi-mqtt/server/v2.(*Client).Read",
				"github.com/mochi-mqtt/server/v2.(*Client).WriteLoop",
			} {
				opts = append(opts, goleak.IgnoreAnyFunction(f))
			}
		}
		if err := goleak.Find(opts...); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
