package mqtt

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

// The topic validation patterns of OCM (generic/types).
const (
	EventsTopicPattern          = `^(\$share/[a-z0-9-]+/)?([a-z]+)/([a-z0-9-]+|\+)/([a-z]+)/([a-z0-9-]+|\+)/(sourceevents|agentevents)$`
	SourceEventsTopicPattern    = `^(\$share/[a-z0-9-]+/)?([a-z]+)/([a-z0-9-]+|\+)/([a-z]+)/([a-z0-9-]+|\+)/sourceevents$`
	AgentEventsTopicPattern     = `^(\$share/[a-z0-9-]+/)?([a-z]+)/([a-z0-9-]+|\+)/([a-z]+)/([a-z0-9-]+|\+)/agentevents$`
	SourceBroadcastTopicPattern = `^(\$share/[a-z0-9-]+/)?([a-z]+)/([a-z0-9-]+|\+)/sourcebroadcast$`
	AgentBroadcastTopicPattern  = `^(\$share/[a-z0-9-]+/)?([a-z]+)/([a-z0-9-]+|\+)/agentbroadcast$`
)

var (
	eventsTopicRE          = regexp.MustCompile(EventsTopicPattern)
	sourceEventsTopicRE    = regexp.MustCompile(SourceEventsTopicPattern)
	agentEventsTopicRE     = regexp.MustCompile(AgentEventsTopicPattern)
	sourceBroadcastTopicRE = regexp.MustCompile(SourceBroadcastTopicPattern)
	agentBroadcastTopicRE  = regexp.MustCompile(AgentBroadcastTopicPattern)
)

// Topics is the OCM topic layout:
//
//	sourceEvents:    sources/maestro/consumers/+/sourceevents
//	agentEvents:     $share/statussubscribers/sources/maestro/consumers/+/agentevents
//	sourceBroadcast: sources/+/sourcebroadcast   # optional
//	agentBroadcast:  clusters/+/agentbroadcast   # optional
//
// A `$share/<group>/` prefix makes a shared subscription (load-balanced
// consumers); it is dropped from the topics a client publishes to.
type Topics struct {
	// SourceEvents: sources publish specs and status resync requests here
	// (one topic per cluster); agents subscribe.
	SourceEvents string `json:"sourceEvents" yaml:"sourceEvents"`
	// AgentEvents: agents publish statuses and spec resync requests here;
	// sources subscribe.
	AgentEvents string `json:"agentEvents" yaml:"agentEvents"`
	// SourceBroadcast: a source's status resync request to all clusters.
	SourceBroadcast string `json:"sourceBroadcast,omitempty" yaml:"sourceBroadcast,omitempty"`
	// AgentBroadcast: an agent's spec resync request to all sources.
	AgentBroadcast string `json:"agentBroadcast,omitempty" yaml:"agentBroadcast,omitempty"`
}

// Validate checks the topics against OCM's patterns; sourceEvents and
// agentEvents are required, the broadcast topics optional.
func (t *Topics) Validate() error {
	if t == nil {
		return errors.New("topics: the topics must be set")
	}
	var errs []error
	if !sourceEventsTopicRE.MatchString(t.SourceEvents) {
		errs = append(errs, fmt.Errorf("topics.sourceEvents: invalid source events topic %q, it should match `%s`", t.SourceEvents, SourceEventsTopicPattern))
	}
	if !agentEventsTopicRE.MatchString(t.AgentEvents) {
		errs = append(errs, fmt.Errorf("topics.agentEvents: invalid agent events topic %q, it should match `%s`", t.AgentEvents, AgentEventsTopicPattern))
	}
	if t.SourceBroadcast != "" && !sourceBroadcastTopicRE.MatchString(t.SourceBroadcast) {
		errs = append(errs, fmt.Errorf("topics.sourceBroadcast: invalid source broadcast topic %q, it should match `%s`", t.SourceBroadcast, SourceBroadcastTopicPattern))
	}
	if t.AgentBroadcast != "" && !agentBroadcastTopicRE.MatchString(t.AgentBroadcast) {
		errs = append(errs, fmt.Errorf("topics.agentBroadcast: invalid agent broadcast topic %q, it should match `%s`", t.AgentBroadcast, AgentBroadcastTopicPattern))
	}
	return errors.Join(errs...)
}

// SourceFromEventsTopic returns the source token of an events topic: the
// second level, or the fourth after `$share/<group>/` (possibly "+").
func SourceFromEventsTopic(topic string) (string, error) {
	if !eventsTopicRE.MatchString(topic) {
		return "", fmt.Errorf("failed to get source from topic: %q", topic)
	}
	parts := strings.Split(topic, "/")
	if strings.HasPrefix(topic, "$share/") {
		return parts[3], nil
	}
	return parts[1], nil
}

// stripShare drops a `$share/<group>/` prefix: one publishes to the topic
// itself.
func stripShare(topic string) string {
	if rest, ok := strings.CutPrefix(topic, "$share/"); ok {
		if _, after, found := strings.Cut(rest, "/"); found {
			return after
		}
	}
	return topic
}

func replaceLast(s, old, repl string) string {
	i := strings.LastIndex(s, old)
	if i < 0 {
		return s
	}
	return s[:i] + repl + s[i+len(old):]
}

// SourceSubscriptions returns the topic filters a source subscribes to:
// agentEvents and agentBroadcast (if set). The source token of agentEvents
// must be sourceID (or "+").
func SourceSubscriptions(t Topics, sourceID string) ([]string, error) {
	src, err := SourceFromEventsTopic(t.AgentEvents)
	if err != nil {
		return nil, err
	}
	if src != sourceID && src != "+" {
		return nil, fmt.Errorf("the source %q of the agent events topic %q does not match the source id %q", src, t.AgentEvents, sourceID)
	}
	subs := []string{t.AgentEvents}
	if t.AgentBroadcast != "" {
		subs = append(subs, t.AgentBroadcast)
	}
	return subs, nil
}

// AgentSubscriptions returns the topic filters an agent of clusterName
// subscribes to: sourceEvents with its last "+" replaced by the cluster,
// and sourceBroadcast (if set).
func AgentSubscriptions(t Topics, clusterName string) []string {
	subs := []string{replaceLast(t.SourceEvents, "+", clusterName)}
	if t.SourceBroadcast != "" {
		subs = append(subs, t.SourceBroadcast)
	}
	return subs
}

// SourcePublishTopic returns the topic a source publishes evt to: a
// resync request with clustername "" goes to sourceBroadcast with its "+"
// replaced by sourceID (an error if unset); anything else to sourceEvents
// with its first "+" replaced by the event's clustername.
func SourcePublishTopic(t Topics, sourceID string, evt *cloudevents.Event) (string, error) {
	et, err := cloudsync.ParseEventType(evt.Type())
	if err != nil {
		return "", fmt.Errorf("unsupported event type %q: %w", evt.Type(), err)
	}
	if _, ok := evt.Extensions()[cloudsync.ExtClusterName]; !ok {
		return "", fmt.Errorf("event %s has no %s extension", evt.ID(), cloudsync.ExtClusterName)
	}
	cluster := cloudsync.ExtString(evt, cloudsync.ExtClusterName)
	if et.Action == cloudsync.ResyncRequest && cluster == cloudsync.ClusterAll {
		if t.SourceBroadcast == "" {
			return "", errors.New("the source broadcast topic not set")
		}
		return stripShare(strings.Replace(t.SourceBroadcast, "+", sourceID, 1)), nil
	}
	return stripShare(strings.Replace(t.SourceEvents, "+", cluster, 1)), nil
}

// AgentPublishTopic returns the topic an agent of clusterName publishes
// evt to: a resync request with originalsource "" goes to agentBroadcast
// with its "+" replaced by the cluster (agentEvents with its last "+"
// replaced by the cluster when agentBroadcast is unset); anything else to
// agentEvents with its last "+" replaced by the cluster and then any
// remaining "+" by the source token of agentEvents (by the event's
// originalsource when that token is "+").
func AgentPublishTopic(t Topics, clusterName string, evt *cloudevents.Event) (string, error) {
	et, err := cloudsync.ParseEventType(evt.Type())
	if err != nil {
		return "", fmt.Errorf("unsupported event type %q: %w", evt.Type(), err)
	}
	if _, ok := evt.Extensions()[cloudsync.ExtOriginalSource]; !ok {
		return "", fmt.Errorf("event %s has no %s extension", evt.ID(), cloudsync.ExtOriginalSource)
	}
	if et.Action == cloudsync.ResyncRequest && cloudsync.ExtString(evt, cloudsync.ExtOriginalSource) == cloudsync.SourceAll {
		if t.AgentBroadcast == "" {
			return stripShare(replaceLast(t.AgentEvents, "+", clusterName)), nil
		}
		return stripShare(strings.Replace(t.AgentBroadcast, "+", clusterName, 1)), nil
	}
	src, err := SourceFromEventsTopic(t.AgentEvents)
	if err != nil {
		return "", err
	}
	if src == "+" {
		// OCM leaves the wildcard (and the publish fails); the event's
		// owner is the better guess.
		if o := cloudsync.ExtString(evt, cloudsync.ExtOriginalSource); o != "" {
			src = o
		}
	}
	topic := replaceLast(t.AgentEvents, "+", clusterName)
	topic = replaceLast(topic, "+", src)
	return stripShare(topic), nil
}
