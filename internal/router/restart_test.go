package router

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// The router may be stopped and started again (the bridge does so after
// the bus restarted JetStream) while the controller sets rules.
func TestRestartWhileRulesChange(t *testing.T) {
	cfg := bus.Config{DataDir: t.TempDir()}
	cfg.Defaults()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	keeper := delivery.NewKeeper(cfg.AckWait.D())
	defer keeper.Close()
	r := New(Config{Bus: b, AckWait: cfg.AckWait.D(), Keeper: keeper, Metrics: telemetry.NewMetrics()})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := r.SetRules(ctx, nil); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 5 {
		_ = r.Stop(ctx)
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	_ = r.Stop(ctx)
}
