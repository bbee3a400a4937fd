package cloudsync_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync/memtransport"
)

// The automatic resync is sent once more after the repeat delay: a request
// sent while the peer was still reconnecting is lost, and a peer that is
// not of ours (or one behind the gRPC broker) does not ask again.
func TestResyncRepeat(t *testing.T) {
	ctx := t.Context()
	dt := cloudsync.MustParseDataType("io.example.v1.things")
	req := cloudsync.EventType{DataType: dt, SubResource: cloudsync.SubResourceStatus, Action: cloudsync.ResyncRequest}
	b := memtransport.NewBroker()
	const repeat = 300 * time.Millisecond
	src, err := cloudsync.NewSourceClient[*cloudsync.Resource](ctx,
		cloudsync.SourceOptions{SourceID: "s1", Transport: b.Source("s1"), ResyncClusters: []string{"c1"}},
		cloudsync.NewResourceStore(), nil, cloudsync.ResourceCodec{Type: dt}, cloudsync.WithResyncRepeat(repeat))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(context.Background())
	start := time.Now()
	if err := src.Subscribe(ctx, func(context.Context, cloudsync.ResourceAction, *cloudsync.Resource) error { return nil }); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for len(sentOf(b, req)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d status resync requests after %v, want 2 (the automatic one and its repeat)", len(sentOf(b, req)), wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if el := time.Since(start); el < repeat {
		t.Errorf("the repeat came %v after Subscribe, before the repeat delay %v", el, repeat)
	}
	sent := sentOf(b, req)
	for i := range sent {
		if got := cloudsync.ExtString(&sent[i], cloudsync.ExtClusterName); got != "c1" {
			t.Errorf("request %d: clustername %q, want c1", i, got)
		}
	}
}
