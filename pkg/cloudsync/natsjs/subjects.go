package natsjs

import (
	"errors"
	"fmt"
	"strings"
)

// The subject layout mirrors the MQTT topic layout of the protocol, with
// "." for "/" and "*" for "+":
//
//	<prefix>.sources.<sourceID>.clusters.<cluster>.sourceevents   specs, status resync requests for one cluster
//	<prefix>.sources.<sourceID>.clusters.<cluster>.agentevents    statuses, spec resync requests for one source
//	<prefix>.sources.<sourceID>.sourcebroadcast                   status resync requests to every cluster
//	<prefix>.clusters.<cluster>.agentbroadcast                    spec resync requests to every source
//
// A source subscribes to
// <prefix>.sources.<sourceID>.clusters.*.agentevents and
// <prefix>.clusters.*.agentbroadcast; an agent to
// <prefix>.sources.*.clusters.<cluster>.sourceevents and
// <prefix>.sources.*.sourcebroadcast ("*" is its source when it has one).

// DefaultPrefix is the first subject token(s) when Options.Prefix is empty.
const DefaultPrefix = "cloudsync"

// ErrEmptyToken is returned for an id (source, cluster) that is empty where
// a subject needs it.
var ErrEmptyToken = errors.New("empty id: a subject token cannot be empty")

// EscapeToken makes an id (a source ID, a cluster name) one subject token:
// ASCII letters, digits, '-' and '_' stay, every other byte (".", "*",
// ">", whitespace, "%", non-ASCII) becomes %XX (upper-case hex). The
// mapping is one-to-one, so two ids never share a subject.
func EscapeToken(id string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// validPrefix checks a prefix: one or more dot-separated tokens without
// wildcards or whitespace.
func validPrefix(p string) error {
	for _, tok := range strings.Split(p, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
			return fmt.Errorf("prefix %q: want dot-separated tokens without wildcards or whitespace", p)
		}
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

// all is the subject filter of everything under the prefix (a JetStream
// stream's subjects).
func (l layout) all() string { return l.prefix + ".>" }
