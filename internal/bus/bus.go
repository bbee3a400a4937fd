// Package bus is the durable log under the bridge: NATS JetStream, embedded
// in the process by default or an external cluster.
//
// Every ingested event is stored before its producer is acknowledged. On
// an external cluster, or an embedded bus that listens (bus.listen: other
// bridges may share it), it is written to two streams: EVENTS, the
// archive that replays read, and WORK, the router's queue (an event
// leaves WORK once routed), which the router consumes. On an embedded bus
// that listens on no port it is written once, to EVENTS: Publish hands
// each stored event to the router in this process (AddLocalReader), and
// the archive is the record of what the router has not settled; the
// router keeps a checkpoint of EVENTS sequences (Checkpoint,
// CheckpointsBucket) and reads the archive back from it at start
// (ReadEvents). WORK is then only read back once, if an older version
// or a run with bus.listen left messages in it, and purged. RETRY holds
// deliveries waiting for another attempt, DLQ those that failed for good.
//
// Why two copies where WORK is consumed: the file store keeps a block's
// cache in memory for ten seconds after its last write when the block is
// also read, so a stream that is both the archive and a consumer's queue
// holds about ten seconds of ingest bytes in memory (hundreds of MiB at
// saturation). The archive is only written while fresh, and WORK's blocks
// are deleted once routed. With one write the archive is read only after
// a crash (from the checkpoint), so that cost does not arise.
// The bus decides duplicates itself, before any write (dedupSet), and
// every copy carries the event's key in Eb-Key. The package knows nothing
// of rules or targets; it stores, dedups and hands out messages.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Bus is a connection to JetStream with the bridge's streams in place.
// Safe for concurrent use.
type Bus struct {
	cfg Config
	n   names // the server's names of streams, subjects and buckets (bus.prefix)
	log *slog.Logger
	srv *server.Server // nil for an external cluster
	nc  *nats.Conn
	js  jetstream.JetStream
	// rnc and rjs are a second connection, for the router: its deliveries
	// and acknowledgements do not queue behind ingest's publishes, and
	// each connection's traffic is parsed by a goroutine of its own.
	rnc *nats.Conn
	rjs jetstream.JetStream
	// acks pipelines ingest's writes on nc (Publish).
	acks *pubAcks
	// local are the readers Publish hands stored events to (local.go).
	local localReaders
	// workConsumed: a durable consumer of WORK was opened in this process
	// (WorkQueue.Open), so Publish writes WORK on an embedded bus that
	// listens on no port too (writesWork).
	workConsumed atomic.Bool
	// eventsAtOpen is the archive's last sequence when the bus opened.
	eventsAtOpen uint64

	events  jetstream.Stream // EVENTS, for deleting duplicate copies
	dedup   *dedupSet        // the keys stored inside the dedup window
	storage *storageGuard    // nil for an external cluster

	retryMaxAge time.Duration // RETRY's max age when the bus opened (RetryMaxAge)

	// snapPath is the dedup snapshot's file (embedded store only), for the
	// archive created at eventsCreated (unix nanos); snapStop ends the
	// loop that saves it, which closes snapDone.
	snapPath      string
	eventsCreated int64
	snapStop      chan struct{}
	snapDone      chan struct{}
	snapOnce      sync.Once
	snapFailing   bool // the last save failed (logged once)

	// maxStore is the embedded server's max_file_store (0: not sized,
	// or an external cluster).
	maxStore int64

	avail availability // outages noted by Report

	// Provisioned is true when the embedded store was empty at start (a
	// first start).
	Provisioned bool

	component.Tracker
}

// Open starts the embedded server (or connects to cfg.URL), and creates or
// updates the streams. cfg must have had Defaults applied.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Bus, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bus{cfg: cfg, log: log, n: newNames(cfg.Prefix)}
	b.Set(component.Starting, nil)
	var err error
	if cfg.URL == "" {
		err = b.startEmbedded()
	} else {
		err = b.connectExternal(ctx)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	b.js, err = jetstream.New(b.nc)
	if err == nil {
		b.acks, err = newPubAcks(b.nc)
	}
	if err == nil {
		b.rnc, err = b.connect("eventbridge-router", false)
	}
	if err == nil {
		b.rjs, err = jetstream.New(b.rnc)
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	if err := b.ensureStreams(ctx); err != nil {
		b.Close()
		return nil, err
	}
	b.dedup = newDedupSet(cfg.DedupWindow.D())
	start := time.Now()
	fromSnap, n, err := b.loadDedup(ctx)
	if err != nil {
		b.Close()
		return nil, err
	}
	if n > 0 || fromSnap > 0 {
		log.Info("dedup keys loaded", "from_snapshot", fromSnap, "from_archive", n, "window", cfg.DedupWindow.D(), "took", time.Since(start).Round(time.Millisecond))
	}
	if b.snapPath != "" {
		b.snapStop, b.snapDone = make(chan struct{}), make(chan struct{})
		go b.snapshotLoop(b.snapStop, b.snapDone)
	}
	if b.storage != nil {
		go b.storage.run()
	}
	b.Set(component.Running, nil)
	return b, nil
}

// OnRestart registers f to be called after the bus restarted JetStream in
// the process (to heal a store that had stopped writing): the pull
// requests of consumers were lost with it, so their owners pull again. f
// runs on the bus's goroutine before events are accepted again. Nothing
// happens with an external cluster.
func (b *Bus) OnRestart(f func()) {
	if b.storage == nil {
		return
	}
	b.storage.mu.Lock()
	defer b.storage.mu.Unlock()
	b.storage.hooks = append(b.storage.hooks, f)
}

// Storage is the health of the embedded store's disk: running while there
// is room, failed (with the reason) while ingest is refused for want of
// space. Nil for an external cluster.
func (b *Bus) Storage() component.Component {
	if b.storage == nil {
		return nil
	}
	return b.storage
}

func (b *Bus) startEmbedded() error {
	dir, err := filepath.Abs(b.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("bus: data_dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("bus: data_dir: %w", err)
	}
	b.snapPath = filepath.Join(dir, dedupSnapshotFile)
	entries, _ := os.ReadDir(filepath.Join(dir, "jetstream"))
	b.Provisioned = len(entries) == 0
	var plan storagePlan
	total, free, serr := statfs(dir)
	if serr == nil {
		js := filepath.Join(dir, "jetstream")
		archived := dirSize(filepath.Join(js, "$G", "streams", b.n.stream(StreamEvents)))
		if plan, err = planStorage(b.cfg, total, free, dirSize(js), archived); err != nil {
			return err
		}
		b.cfg.Archive.MaxBytes = spec.ByteSize(plan.archive)
		b.cfg.DiskReserve = spec.ByteSize(plan.reserve)
		b.maxStore = plan.maxStore
	} else if b.cfg.Archive.MaxBytes == 0 {
		b.log.Warn("cannot read the free space of data_dir: the store is not sized to its disk", "data_dir", dir, "err", serr)
		b.cfg.Archive.MaxBytes = defaultArchiveBytes
	}
	opts := &server.Options{
		ServerName:         "eventbridge",
		JetStream:          true,
		StoreDir:           dir,
		JetStreamMaxMemory: 64 << 20,
		JetStreamMaxStore:  plan.maxStore, // 0: the server's own guess
		DontListen:         true,
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         8 << 20,
		SyncInterval:       b.cfg.SyncInterval.D(),
		SyncAlways:         b.cfg.SyncAlways,
	}
	if b.cfg.Listen != "" {
		host, port, err := net.SplitHostPort(b.cfg.Listen)
		if err != nil {
			return fmt.Errorf("bus: listen: %w", err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return fmt.Errorf("bus: listen: bad port %q", port)
		}
		opts.DontListen = false
		opts.Host, opts.Port = host, p
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("bus: embedded server: %w", err)
	}
	b.srv = srv
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		return errors.New("bus: embedded server did not start within 30s")
	}
	if b.nc, err = b.connect("eventbridge", true); err != nil {
		return err
	}
	b.log.Info("embedded JetStream started", "data_dir", dir, "listen", b.cfg.Listen, "first_start", b.Provisioned)
	if serr == nil {
		b.log.Info("store sized to its disk", "data_dir", dir, "filesystem", human(total), "free", human(free),
			"used", human(plan.used), "disk_reserve", human(plan.reserve), "max_file_store", human(plan.maxStore),
			"archive_max_bytes", human(plan.archive), "archive_sized_to_disk", plan.archiveAuto)
		b.storage = newStorageGuard(dir, plan.reserve, srv, server.JetStreamConfig{
			StoreDir: dir, MaxMemory: opts.JetStreamMaxMemory, MaxStore: plan.maxStore,
			SyncInterval: opts.SyncInterval, SyncAlways: opts.SyncAlways, Strict: true,
		}, b.log)
	}
	return nil
}

// connectExternal connects to cfg.URL, waiting (within start_timeout) for
// a server to answer, and refuses one older than MinServerVersion.
func (b *Bus) connectExternal(ctx context.Context) error {
	if b.cfg.Archive.MaxBytes == 0 {
		b.cfg.Archive.MaxBytes = defaultArchiveBytes
	}
	err := b.untilUp(ctx, "connect", func(context.Context) (err error) {
		b.nc, err = b.connect("eventbridge", true)
		return err
	})
	if err != nil {
		return err
	}
	v := b.nc.ConnectedServerVersion()
	if err := checkServerVersion(v, b.nc.ConnectedUrlRedacted()); err != nil {
		return err
	}
	b.log.Info("connected to external NATS", "url", b.nc.ConnectedUrlRedacted(), "server_version", v,
		"server", b.nc.ConnectedServerName(), "cluster", b.nc.ConnectedClusterName())
	return nil
}

// connect opens a connection named name: in-process to the embedded
// server, or to cfg.URL. The main connection's state is the bus's.
func (b *Bus) connect(name string, main bool) (*nats.Conn, error) {
	if b.srv != nil {
		nc, err := nats.Connect(b.srv.ClientURL(), nats.InProcessServer(b.srv), nats.Name(name), nats.MaxReconnects(-1))
		if err != nil {
			return nil, fmt.Errorf("bus: in-process connection: %w", err)
		}
		return nc, nil
	}
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if main {
				b.Set(component.Starting, err)
			}
			b.log.Warn("bus disconnected", "connection", name, "err", err)
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			if main {
				b.Set(component.Running, nil)
			}
			b.log.Info("bus reconnected", "connection", name)
		}),
	}
	if b.cfg.Credentials != "" {
		opts = append(opts, nats.UserCredentials(b.cfg.Credentials))
	}
	nc, err := nats.Connect(b.cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("bus: connect %s: %w", b.cfg.URL, err)
	}
	return nc, nil
}

// placement is bus.placement as JetStream takes it (nil: none).
func (b *Bus) placement() *jetstream.Placement {
	if b.cfg.Placement == nil {
		return nil
	}
	return &jetstream.Placement{Cluster: b.cfg.Placement.Cluster, Tags: b.cfg.Placement.Tags}
}

func (b *Bus) ensureStreams(ctx context.Context) error {
	streams := []jetstream.StreamConfig{{
		Name:        b.n.stream(StreamEvents),
		Description: "every ingested event; also the archive that replays read",
		Subjects:    []string{b.n.subject(AllEvents)},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      b.cfg.Archive.MaxAge.D(),
		MaxBytes:    b.archiveStreamBytes(),
		// The bus dedups before it writes (dedupSet; WORK carries
		// Nats-Msg-Id on an external cluster) and writes no Nats-Msg-Id
		// to EVENTS: the server's own window there would cost a load of
		// every message inside it at each start (its rebuild reads them
		// all, filling block caches), so it is the least the server takes.
		Duplicates: eventsDuplicates,
		Discard:    jetstream.DiscardOld,
		Replicas:   b.cfg.Replicas,
		Placement:  b.placement(),
	}, {
		Name:        b.n.stream(StreamWork),
		Description: "every ingested event until the router has settled it for every matched rule",
		Subjects:    []string{b.n.subject("work.>")},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  b.cfg.DedupWindow.D(),
		Replicas:    b.cfg.Replicas,
		Placement:   b.placement(),
	}, {
		Name:        b.n.stream(StreamRetry),
		Description: "deliveries waiting for another attempt",
		Subjects:    []string{b.n.subject("retry.>")},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  b.cfg.DedupWindow.D(),
		Replicas:    b.cfg.Replicas,
		Placement:   b.placement(),
	}, {
		Name:        b.n.stream(StreamDLQ),
		Description: "deliveries that failed for good, with why",
		Subjects:    []string{b.n.subject(AllDeadLetters)},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      b.cfg.DLQMaxAge.D(),
		Duplicates:  b.cfg.DedupWindow.D(),
		Replicas:    b.cfg.Replicas,
		Placement:   b.placement(),
		// Subscriptions' dead letters carry a TTL of their own
		// (api.subscription_dlq_max_age); the server refuses one unless
		// the stream allows it.
		AllowMsgTTL: true,
	}}
	for _, sc := range streams {
		var s jetstream.Stream
		err := b.untilUp(ctx, "stream "+sc.Name, func(ctx context.Context) (err error) {
			s, err = b.js.CreateOrUpdateStream(ctx, sc)
			return err
		})
		if err != nil {
			return fmt.Errorf("bus: stream %s: %w", sc.Name, err)
		}
		if sc.Name == b.n.stream(StreamRetry) {
			b.retryMaxAge = s.CachedInfo().Config.MaxAge
		}
		if sc.Name == b.n.stream(StreamEvents) {
			b.events = s
			b.eventsCreated = s.CachedInfo().Created.UnixNano()
			b.eventsAtOpen = s.CachedInfo().State.LastSeq
		}
	}
	return nil
}

// eventsDuplicates is the EVENTS stream's duplicate window: the least
// JetStream accepts (see ensureStreams).
const eventsDuplicates = 100 * time.Millisecond

// archiveStreamBytes is the EVENTS stream's MaxBytes: on the embedded
// store, less than archive.max_bytes by what the file store may keep on
// disk beyond it; an external cluster's disks are its own.
func (b *Bus) archiveStreamBytes() int64 {
	if b.srv == nil {
		return int64(b.cfg.Archive.MaxBytes)
	}
	return archiveStreamBytes(int64(b.cfg.Archive.MaxBytes))
}

// SpareStoreBytes is what the embedded store may hold beside the archive:
// the room for streams and buckets with a size limit of their own. 0 when
// unknown (an external cluster, or a disk whose free space cannot be read).
func (b *Bus) SpareStoreBytes() int64 {
	if b.maxStore == 0 {
		return 0
	}
	return max(b.maxStore-b.archiveStreamBytes(), 1)
}

// StreamName is the name on the server of the stream named logical
// (StreamEvents, ...): logical with bus.prefix.
func (b *Bus) StreamName(logical string) string { return b.n.stream(logical) }

// SubjectName is the subject (or filter) on the server of the logical
// subject s (see EventSubject, ...): s with bus.prefix.
func (b *Bus) SubjectName(s string) string { return b.n.subject(s) }

// BucketName is the name on the server of the KV bucket named logical.
func (b *Bus) BucketName(logical string) string { return b.n.bucket(logical) }

// JetStream returns the JetStream context. Its streams, subjects and
// buckets have the server's names (StreamName, SubjectName, BucketName).
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// RouterJetStream is the JetStream context of the router's own
// connection.
func (b *Bus) RouterJetStream() jetstream.JetStream { return b.rjs }

// Conn returns the NATS connection.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Config returns the configuration the bus was opened with.
func (b *Bus) Config() Config { return b.cfg }

// Start implements component.Component; Open has done the work.
func (b *Bus) Start(context.Context) error { return nil }

// Stop implements component.Component by closing the bus.
func (b *Bus) Stop(context.Context) error { b.Close(); return nil }

// Close flushes and closes the connection and shuts the embedded server
// down. Safe to call more than once.
func (b *Bus) Close() {
	b.Set(component.Stopping, nil)
	b.avail.close()
	if b.snapStop != nil {
		b.snapOnce.Do(func() {
			close(b.snapStop)
			<-b.snapDone
			b.saveDedup()
		})
	}
	if b.storage != nil {
		b.storage.close()
	}
	for _, nc := range []*nats.Conn{b.rnc, b.nc} {
		if nc != nil && !nc.IsClosed() {
			_ = nc.FlushTimeout(2 * time.Second)
			nc.Close()
		}
	}
	if b.acks != nil {
		b.acks.close()
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
	b.Set(component.Terminated, nil)
}

var _ component.Component = (*Bus)(nil)
