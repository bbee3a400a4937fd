package bus

import (
	"fmt"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Config is the `bus` section of the config file.
type Config struct {
	// DataDir is where the embedded JetStream keeps its files. Default ./data.
	DataDir string `json:"data_dir,omitempty"`
	// URL names an external NATS cluster (comma-separated URLs). When set,
	// no server is embedded and DataDir is unused.
	URL string `json:"url,omitempty"`
	// Credentials is an optional NATS credentials file for URL.
	Credentials string `json:"credentials,omitempty"`
	// Listen, when set, opens the embedded server on this address (e.g.
	// 127.0.0.1:4223) so that tools can reach it. Default: no listener.
	Listen string `json:"listen,omitempty"`
	// Prefix namespaces every stream, subject and KV bucket the bridge
	// makes (EVENTS becomes <prefix>_EVENTS, events.> <prefix>.events.>,
	// the bucket config <prefix>_config), so that several deployments
	// share one NATS account without touching each other's data. Default
	// empty: the names of releases before it, so existing data is kept.
	Prefix string `json:"prefix,omitempty"`
	// Replicas of every stream on an external cluster. Default 1.
	Replicas int `json:"replicas,omitempty"`
	// Placement, on an external cluster, puts every stream and bucket of
	// the bridge on the servers of one cluster (of a super-cluster) and/or
	// on servers with every one of the tags (server_tags in nats-server's
	// config). Default: wherever the server chooses.
	Placement *Placement `json:"placement,omitempty"`
	// StartTimeout bounds how long the bridge waits, for each stream,
	// bucket or consumer it makes or updates, for the cluster to answer (a
	// quorum, a stream leader) before giving up. Default 2m.
	StartTimeout spec.Duration `json:"start_timeout,omitempty"`
	// DedupWindow is how long (source, id) pairs are remembered to drop
	// duplicates. Default 2m. It costs about 35 B per event inside it.
	DedupWindow spec.Duration `json:"dedup_window,omitempty"`
	// AckWait is how long a delivery may stay unacknowledged before the bus
	// hands it out again (after a crash, say). Long deliveries are kept
	// alive, so this bounds recovery time, not delivery time. Default 30s.
	AckWait spec.Duration `json:"ack_wait,omitempty"`
	// SyncInterval is how often the embedded store fsyncs. A 202 survives a
	// process crash at once, and an OS crash or power loss after the next
	// sync. Default 2m (the NATS default); "always" is SyncAlways.
	SyncInterval spec.Duration `json:"sync_interval,omitempty"`
	// SyncAlways fsyncs every write: survives power loss, costs ~4x throughput.
	SyncAlways bool `json:"sync_always,omitempty"`
	// Archive bounds the EVENTS stream, which is also the archive that
	// replays read.
	Archive ArchiveConfig `json:"archive,omitempty"`
	// DLQMaxAge bounds how long dead letters are kept. Default 0 = forever.
	DLQMaxAge spec.Duration `json:"dlq_max_age,omitempty"`
	// DiskReserve is the free space the embedded store keeps on data_dir's
	// filesystem: below it, ingest is refused (ErrStorageFull) until space
	// is back. Default: 5% of the filesystem, at least 2MiB, at most 1GiB.
	DiskReserve spec.ByteSize `json:"disk_reserve,omitempty"`
}

// Placement is bus.placement: where JetStream puts the bridge's streams.
type Placement struct {
	// Cluster is the name of the NATS cluster (in a super-cluster).
	Cluster string `json:"cluster,omitempty"`
	// Tags are server tags that every chosen server must have.
	Tags []string `json:"tags,omitempty"`
}

// ArchiveConfig bounds the EVENTS stream.
type ArchiveConfig struct {
	// MaxAge drops events older than this. Default 168h (7 days).
	MaxAge spec.Duration `json:"max_age,omitempty"`
	// MaxBytes bounds the archive's files on disk: the oldest events leave
	// beyond it. Default (0): 1GiB, or less on a small disk (see
	// sizeStorage), chosen when the bus opens.
	MaxBytes spec.ByteSize `json:"max_bytes,omitempty"`
}

// defaultStartTimeout is bus.start_timeout's default.
const defaultStartTimeout = 2 * time.Minute

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.DataDir == "" && c.URL == "" {
		c.DataDir = "./data"
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.DedupWindow == 0 {
		c.DedupWindow = spec.Duration(2 * time.Minute)
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = spec.Duration(defaultStartTimeout)
	}
	if c.AckWait == 0 {
		c.AckWait = spec.Duration(30 * time.Second)
	}
	if c.Archive.MaxAge == 0 {
		c.Archive.MaxAge = spec.Duration(7 * 24 * time.Hour)
	}
}

// Validate reports problems under p.
func (c *Config) Validate(p spec.Problems) {
	if err := ValidPrefix(c.Prefix); err != nil {
		p.AddAt("prefix", "%s", err)
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		p.AddAt("replicas", "must be between 1 and 5")
	}
	if c.Replicas > 1 && c.URL == "" {
		p.AddAt("replicas", "more than one replica needs an external cluster (bus.url)")
	}
	if c.Placement != nil {
		if c.URL == "" {
			p.AddAt("placement", "needs an external cluster (bus.url): the embedded server places everything on itself")
		}
		if c.Placement.Cluster == "" && len(c.Placement.Tags) == 0 {
			p.AddAt("placement", "give a cluster, tags or both")
		}
		for i, t := range c.Placement.Tags {
			if strings.TrimSpace(t) == "" {
				p.AddAt(fmt.Sprintf("placement.tags[%d]", i), "must not be empty")
			}
		}
	}
	if c.DedupWindow.D() < time.Second {
		p.AddAt("dedup_window", "must be at least 1s")
	}
	if c.StartTimeout.D() < time.Second {
		p.AddAt("start_timeout", "must be at least 1s")
	}
	if c.AckWait.D() < time.Second {
		p.AddAt("ack_wait", "must be at least 1s")
	}
	if c.SyncInterval < 0 {
		p.AddAt("sync_interval", "must not be negative")
	}
	if c.Archive.MaxBytes != 0 && c.Archive.MaxBytes < MinArchiveBytes {
		p.AddAt("archive.max_bytes", "must be at least 1MiB")
	}
	if c.DiskReserve < 0 {
		p.AddAt("disk_reserve", "must not be negative")
	}
	if c.Archive.MaxAge.D() < c.DedupWindow.D() {
		p.AddAt("archive.max_age", "must be at least the dedup window (%s)", c.DedupWindow.D())
	}
}
