// Command agent is the agent side of the cloudsync example: it applies the
// specs a source sends for its cluster, reports a status for each
// ({"applied": <version>}), and writes the objects it holds to a JSON
// file. On start it reads that file back, so a restarted agent asks the
// source only for what changed (the spec resync).
//
//	go run ./examples/cloudsync/agent -transport mqtt -state agent-state.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"

	"github.com/eventbridge-dev/eventbridge/examples/cloudsync/internal/exampletransport"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

func main() {
	var tf exampletransport.Flags
	fs := flag.NewFlagSet("agent", flag.ExitOnError)
	tf.Register(fs)
	agentID := fs.String("agent-id", "example-agent", "the agent's id")
	cluster := fs.String("cluster", "cluster1", "the cluster this agent serves")
	sourceID := fs.String("source-id", "example-source", "the source whose objects it takes (mqtt and the status topics need it)")
	state := fs.String("state", "agent-state.json", "file the agent keeps its objects in")
	_ = fs.Parse(os.Args[1:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, tf, *agentID, *cluster, *sourceID, *state); err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, tf exampletransport.Flags, agentID, cluster, sourceID, state string) error {
	store := cloudsync.NewResourceStore()
	if err := load(state, store); err != nil {
		return err
	}
	tr, err := tf.Agent(agentID, cluster, sourceID)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	client, err := cloudsync.NewAgentClient(ctx, cloudsync.AgentOptions{AgentID: agentID, ClusterName: cluster, Transport: tr}, store,
		cloudsync.HashResourceStatus, cloudsync.Codec[*cloudsync.Resource](cloudsync.ResourceCodec{Type: exampletransport.DataType}),
		cloudsync.WithLogger(log),
		cloudsync.WithConnectionHandler(func(e cloudsync.ConnectionEvent) { fmt.Printf("connection %s\n", e.State) }))
	if err != nil {
		return err
	}
	defer client.Close(context.Background())
	var mu sync.Mutex // one handler at a time writes the state file
	statusType := cloudsync.EventType{DataType: exampletransport.DataType, SubResource: cloudsync.SubResourceStatus, Action: cloudsync.UpdateRequest}
	err = client.Subscribe(ctx, func(ctx context.Context, action cloudsync.ResourceAction, r *cloudsync.Resource) error {
		mu.Lock()
		defer mu.Unlock()
		switch action {
		case cloudsync.Deleted:
			store.Delete(r.ID)
			fmt.Printf("deleted %s\n", r.ID)
		case cloudsync.Added, cloudsync.Modified:
			r.Status, _ = json.Marshal(map[string]int64{"applied": r.Version})
			store.Put(r)
			fmt.Printf("applied %s v%d %s\n", r.ID, r.Version, r.Spec)
			if err := client.Publish(ctx, statusType, r); err != nil && !errors.Is(err, cloudsync.ErrNotConnected) {
				return err // a status lost while reconnecting is resent by the status resync
			}
		default:
			return nil
		}
		return save(state, store)
	})
	if err != nil {
		return err
	}
	fmt.Printf("agent %s: cluster %s over %s, state in %s\n", agentID, cluster, tf.Transport, state)
	<-ctx.Done()
	return nil
}

// load reads the state file (if any) into store.
func load(path string, store *cloudsync.ResourceStore) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var rs []*cloudsync.Resource
	if err := json.Unmarshal(b, &rs); err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	for _, r := range rs {
		store.Put(r)
	}
	return nil
}

// save writes the objects, sorted by id, to path (through a temporary
// file, so a reader never sees half a file).
func save(path string, store *cloudsync.ResourceStore) error {
	rs, _ := store.List(cloudsync.ListOptions{})
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
	b, err := json.MarshalIndent(rs, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
