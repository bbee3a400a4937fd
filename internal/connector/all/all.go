// Package all compiles in every connector: import it for its side effects.
package all

import (
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/amqp"     // amqp (0-9-1) source and target
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/amqp1"    // amqp1 (AMQP 1.0) source and target
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/cron"     // cron source
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/grpc"     // grpc source and target
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/http"     // http source and target
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/kafka"    // kafka source and target
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/log"      // log target
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/mqtt"     // mqtt source and target
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/nats"     // nats and jetstream sources and targets
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/poll"     // poll source
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/postgres" // postgres source and target
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/redis"    // redis source and target

	_ "github.com/eventbridge-dev/eventbridge/internal/connector/webhook/eventbridge" // eventbridge (API destination) source
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/webhook/eventgrid"   // azure-eventgrid source
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/webhook/generic"     // webhook source (generic HMAC, bearer, basic)
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/webhook/github"      // github source
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/webhook/gitlab"      // gitlab source
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/webhook/pubsub"      // gcp-pubsub source
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/webhook/sns"         // aws-sns source
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/webhook/stripe"      // stripe source
)
