package controller

import "github.com/nats-io/nats.go/jetstream"

var errConsumerNotFound = jetstream.ErrConsumerNotFound

func purgeSubject(subject string) jetstream.StreamPurgeOpt {
	return jetstream.WithPurgeSubject(subject)
}
