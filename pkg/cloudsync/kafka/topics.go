package kafka

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// The topic layout is the protocol's MQTT layout with "." for "/", one
// topic per source, cluster and direction (Kafka topic names hold only
// [a-zA-Z0-9._-], so wildcards become regular-expression subscriptions):
//
//	<prefix>.sources.<sourceID>.clusters.<cluster>.sourceevents   specs, status resync requests for one cluster
//	<prefix>.sources.<sourceID>.clusters.<cluster>.agentevents    statuses, spec resync requests for one source
//	<prefix>.sources.<sourceID>.sourcebroadcast                   status resync requests to every cluster
//	<prefix>.clusters.<cluster>.agentbroadcast                    spec resync requests to every source
//
// A topic per cluster (rather than one topic per direction keyed by
// cluster) keeps an agent from reading other clusters' specs, lets broker
// ACLs give each cluster its own topics (prefixed ACLs on
// "<prefix>.sources.<src>.clusters.<cluster>."), and keeps one slow
// cluster's backlog out of the others' reads. The price is one topic per
// source and cluster pair, which Kafka handles well into the thousands.

// DefaultPrefix is the first topic name part(s) when Options.Prefix is
// empty.
const DefaultPrefix = "cloudsync"

// maxTopicLen is Kafka's limit on topic names.
const maxTopicLen = 249

// ErrEmptyToken is returned for an id (source, cluster) that is empty where
// a topic name needs it.
var ErrEmptyToken = errors.New("empty id: a topic name part cannot be empty")

// EscapeToken makes an id one topic name part: ASCII letters, digits and
// '-' stay, every other byte ('.', '_', '/', non-ASCII) becomes _XX
// (upper-case hex). The mapping is one-to-one, and since '_' never stands
// for itself, no two layout topics collide in Kafka's metric names (where
// '.' and '_' are the same).
func EscapeToken(id string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

var prefixRE = regexp.MustCompile(`^[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$`)

func validPrefix(p string) error {
	if !prefixRE.MatchString(p) {
		return fmt.Errorf("prefix %q: want dot-separated parts of letters, digits and '-'", p)
	}
	return nil
}

type layout struct{ prefix string }

func (l layout) sourceEvents(source, cluster string) string {
	return l.prefix + ".sources." + source + ".clusters." + cluster + ".sourceevents"
}

func (l layout) agentEvents(source, cluster string) string {
	return l.prefix + ".sources." + source + ".clusters." + cluster + ".agentevents"
}

func (l layout) sourceBroadcast(source string) string {
	return l.prefix + ".sources." + source + ".sourcebroadcast"
}

func (l layout) agentBroadcast(cluster string) string {
	return l.prefix + ".clusters." + cluster + ".agentbroadcast"
}

// anyToken matches one escaped id in a subscription pattern.
const anyToken = `[a-zA-Z0-9_-]+`

// pattern turns a topic built with anyToken parts into an anchored
// regular expression: escaped ids and the prefix hold no metacharacter
// but the layout's dots, which are quoted.
func pattern(topic string) string {
	return "^" + strings.ReplaceAll(topic, ".", `\.`) + "$"
}
