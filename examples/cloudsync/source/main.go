// Command source is the source side of the cloudsync example: it keeps the
// objects listed in a JSON file ({"<id>": <spec>, ...}) in sync with the
// agent of a cluster. It publishes a create, update or delete whenever the
// file changes, prints every status the agent reports, and answers the
// agent's resync requests.
//
//	go run ./examples/cloudsync/source -transport mqtt -objects objects.json
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/eventbridge-dev/eventbridge/examples/cloudsync/internal/exampletransport"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

func main() {
	var tf exampletransport.Flags
	fs := flag.NewFlagSet("source", flag.ExitOnError)
	tf.Register(fs)
	sourceID := fs.String("source-id", "example-source", "the source's id (lower-case letters, digits, '-')")
	cluster := fs.String("cluster", "cluster1", "the cluster the objects go to")
	objects := fs.String("objects", "objects.json", `JSON file of the desired objects, {"<id>": <spec>, ...}; re-read when it changes`)
	interval := fs.Duration("interval", time.Second, "how often to look for changes of -objects")
	_ = fs.Parse(os.Args[1:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, tf, *sourceID, *cluster, *objects, *interval); err != nil {
		fmt.Fprintln(os.Stderr, "source:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, tf exampletransport.Flags, sourceID, cluster, objects string, interval time.Duration) error {
	tr, err := tf.Source(sourceID)
	if err != nil {
		return err
	}
	store := cloudsync.NewResourceStore()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	client, err := cloudsync.NewSourceClient(ctx, cloudsync.SourceOptions{SourceID: sourceID, Transport: tr}, store,
		cloudsync.HashResourceStatus, cloudsync.Codec[*cloudsync.Resource](cloudsync.ResourceCodec{Type: exampletransport.DataType}),
		cloudsync.WithLogger(log),
		cloudsync.WithConnectionHandler(func(e cloudsync.ConnectionEvent) { fmt.Printf("connection %s\n", e.State) }))
	if err != nil {
		return err
	}
	defer client.Close(context.Background())
	err = client.Subscribe(ctx, func(_ context.Context, _ cloudsync.ResourceAction, r *cloudsync.Resource) error {
		store.Update(r.ID, func(cur *cloudsync.Resource) { cur.Status = r.Status })
		fmt.Printf("status %s %s\n", r.ID, r.Status)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("source %s: syncing %s to cluster %s over %s\n", sourceID, objects, cluster, tf.Transport)
	var last []byte
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		b, err := os.ReadFile(objects)
		switch {
		case err != nil:
			fmt.Fprintln(os.Stderr, "source:", err)
		case !bytes.Equal(b, last):
			if err := reconcile(ctx, client, store, sourceID, cluster, b); err != nil {
				fmt.Fprintln(os.Stderr, "source:", err)
			} else {
				last = b
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// reconcile makes the store hold the file's objects and publishes what
// changed. A publish that fails while the client reconnects is left to
// the resync that follows the reconnect.
func reconcile(ctx context.Context, client *cloudsync.SourceClient[*cloudsync.Resource], store *cloudsync.ResourceStore, sourceID, cluster string, file []byte) error {
	var want map[string]json.RawMessage
	if err := json.Unmarshal(file, &want); err != nil {
		return fmt.Errorf("objects file: %w", err)
	}
	typ := func(a cloudsync.Action) cloudsync.EventType {
		return cloudsync.EventType{DataType: exampletransport.DataType, SubResource: cloudsync.SubResourceSpec, Action: a}
	}
	publish := func(a cloudsync.Action, r *cloudsync.Resource) error {
		err := client.Publish(ctx, typ(a), r)
		if errors.Is(err, cloudsync.ErrNotConnected) {
			return nil
		}
		return err
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		spec, err := compact(want[id])
		if err != nil {
			return fmt.Errorf("object %s: %w", id, err)
		}
		cur, ok := store.Get(id)
		switch {
		case !ok || cur.Deleting != nil:
			r := &cloudsync.Resource{ID: id, Version: 1, ClusterName: cluster, Source: sourceID, Spec: spec}
			if ok {
				r.Version = cur.Version + 1
			}
			store.Put(r)
			fmt.Printf("create %s v%d\n", id, r.Version)
			if err := publish(cloudsync.CreateRequest, r); err != nil {
				return err
			}
		case !bytes.Equal(cur.Spec, spec):
			r := cur.Clone()
			r.Version++
			r.Spec = spec
			store.Put(r)
			fmt.Printf("update %s v%d\n", id, r.Version)
			if err := publish(cloudsync.UpdateRequest, r); err != nil {
				return err
			}
		}
	}
	all, _ := store.List(cloudsync.ListOptions{})
	for _, cur := range all {
		if _, ok := want[cur.ID]; ok || cur.Deleting != nil {
			continue
		}
		// A deleted object stays in the store, marked, so that a spec
		// resync tells an agent that missed the delete.
		now := time.Now()
		r := cur.Clone()
		r.Deleting = &now
		store.Put(r)
		fmt.Printf("delete %s\n", cur.ID)
		if err := publish(cloudsync.DeleteRequest, r); err != nil {
			return err
		}
	}
	return nil
}

func compact(spec json.RawMessage) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, spec); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
