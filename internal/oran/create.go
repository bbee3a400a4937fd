package oran

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/google/uuid"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/subscription"
)

// Errors of Create, mapped to status codes by the handlers.
var (
	ErrInvalid   = errors.New("invalid")                                   // 400
	ErrHandshake = errors.New("the endpoint did not accept the handshake") // 400
	ErrNoCurrent = errors.New("no current state for the resource")         // 404 in v2
)

// CheckEndpoint checks an endpointUri the way the Subscriptions API checks
// sinks: an absolute http(s) URL without userinfo, whose host is public
// unless private addresses are allowed.
func (s *Service) CheckEndpoint(ctx context.Context, endpoint string) error {
	u, err := url.Parse(endpoint)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return fmt.Errorf("%w: endpointUri must be an absolute URL", ErrInvalid)
	case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "amqp" && u.Scheme != "amqps":
		return fmt.Errorf("%w: endpointUri must be an http://, https://, amqp:// or amqps:// URL", ErrInvalid)
	case isAMQP(endpoint) && subscription.AMQPAddress(u, "") == "":
		return fmt.Errorf("%w: an amqp:// endpointUri needs an address: amqp://host:port/address", ErrInvalid)
	case u.User != nil:
		return fmt.Errorf("%w: endpointUri must not carry credentials", ErrInvalid)
	}
	if !s.cfg.AllowPrivate {
		if err := netguard.CheckHost(ctx, s.cfg.Resolver, u.Hostname()); err != nil {
			return fmt.Errorf("%w: endpointUri: %v (endpoints may not reach loopback, link-local or private addresses unless api.allow_private_addresses is set)", ErrInvalid, err)
		}
	}
	return nil
}

// Create makes a subscription or publisher through the API of version:
// it checks p, does the handshake with its endpoint and stores it with a
// new id and its uriLocation. v1 POSTs an empty body to endpointUri; v2
// (subscriptions) POSTs the resource's current state as the initial
// notification. Both require 204. A v2 subscription whose endpoint already
// subscribes to the resource is ErrExists; a v1 one returns the existing
// subscription.
func (s *Service) Create(ctx context.Context, p *PubSub, version string) (*PubSub, error) {
	p.Version = version
	p.ID, p.URILocation = "", ""
	if p.Resource == "" {
		return nil, fmt.Errorf("%w: the resource address is required", ErrInvalid)
	}
	if p.Kind == KindSubscription && p.EndpointURI == "" {
		return nil, fmt.Errorf("%w: endpointUri is required", ErrInvalid)
	}
	if p.EndpointURI != "" {
		if err := s.CheckEndpoint(ctx, p.EndpointURI); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Kind == KindSubscription {
		same, err := s.findSame(ctx, p)
		if err != nil {
			return nil, err
		}
		if same != nil {
			if version == V1 {
				return same, nil
			}
			return nil, ErrExists
		}
	}
	var body []byte
	if version == V2 && p.Kind == KindSubscription {
		ev, err := s.current(ctx, p.Resource)
		if err != nil {
			return nil, err
		}
		if body, err = Notification(ev, uuid.NewString()); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoCurrent, err)
		}
	}
	// The handshake is HTTP's: an AMQP endpoint has none to answer 204.
	if p.EndpointURI != "" && !isAMQP(p.EndpointURI) {
		if err := s.handshake(ctx, p.EndpointURI, body); err != nil {
			return nil, err
		}
	}
	p.ID = uuid.NewString()
	p.URILocation = s.uriLocation(version, p.Kind, p.ID)
	if err := s.put(ctx, p); err != nil {
		return nil, err
	}
	s.cfg.Metrics.count(p.Kind, "active", 1)
	s.cfg.Log.Info("O-RAN "+p.Kind+" created", "id", p.ID, "resource", p.Resource, "endpoint", p.EndpointURI, "api", version)
	return p, nil
}

// handshake POSTs body (empty for v1) to endpoint as application/json and
// requires 204.
func (s *Service) handshake(ctx context.Context, endpoint string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.HTTP.Do(req)
	if err != nil {
		if errors.Is(err, netguard.ErrForbidden) {
			return fmt.Errorf("%w: endpointUri: %v", ErrInvalid, err)
		}
		return fmt.Errorf("%w: %v", ErrHandshake, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%w: it answered %d, not 204", ErrHandshake, resp.StatusCode)
	}
	return nil
}

// current returns the last event of an address, or ErrNoCurrent.
func (s *Service) current(ctx context.Context, address string) (*ce.Event, error) {
	if s.cfg.State == nil {
		return nil, ErrNoCurrent
	}
	ev, err := s.cfg.State(ctx, address)
	switch {
	case errors.Is(err, ErrNoState):
		return nil, ErrNoCurrent
	case err != nil:
		return nil, err
	case ev == nil:
		return nil, ErrNoCurrent
	}
	return ev, nil
}

// Delivered is told of every delivery attempt of the bridge's routes
// (rule, target, the Send error). It keeps the failures in a row of each
// O-RAN client (connection refused, DNS errors, timeouts, as
// cloud-event-proxy counts them) and, after FailAfter of them, deletes
// every subscription of that client.
func (s *Service) Delivered(rule, _ string, err error) {
	id, ok := IsRuleName(rule)
	if !ok || s.cfg.FailAfter <= 0 {
		return
	}
	s.fmu.Lock()
	client, known := s.clients[id]
	s.fmu.Unlock()
	if !known {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		p, gerr := s.Get(ctx, KindSubscription, id)
		cancel()
		if gerr != nil {
			return
		}
		client = p.ClientID()
		s.fmu.Lock()
		s.clients[id] = client
		s.fmu.Unlock()
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if err != nil && !connectionFailure(err) && errors.Is(err, connector.ErrNotConnected) {
		// An AMQP endpoint not connected yet (or whose link just broke):
		// no answer from the endpoint, no failure to connect either.
		return
	}
	if err == nil || !connectionFailure(err) {
		delete(s.fails, client)
		return
	}
	s.fails[client]++
	n := s.fails[client]
	if n < s.cfg.FailAfter || s.removing[client] {
		return
	}
	s.removing[client] = true
	s.cfg.Log.Warn("O-RAN client failed too many times in a row: deleting its subscriptions", "client", client, "failures", n, "err", err)
	go s.remove(client)
}

// removeClient deletes every subscription of a client.
func (s *Service) removeClient(client string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	defer func() {
		s.fmu.Lock()
		delete(s.removing, client)
		delete(s.fails, client)
		s.fmu.Unlock()
	}()
	list, err := s.List(ctx, KindSubscription)
	if err != nil {
		s.cfg.Log.Error("cannot list O-RAN subscriptions", "err", err)
		return
	}
	for _, p := range list {
		if p.ClientID() != client {
			continue
		}
		if err := s.Delete(ctx, KindSubscription, p.ID); err != nil && !errors.Is(err, ErrNotFound) {
			s.cfg.Metrics.count(KindSubscription, "failed to delete", 1)
			s.cfg.Log.Error("cannot delete an O-RAN subscription", "id", p.ID, "err", err)
			continue
		}
		s.fmu.Lock()
		delete(s.clients, p.ID)
		s.fmu.Unlock()
		s.cfg.Log.Info("O-RAN subscription deleted: its client failed too often", "id", p.ID, "endpoint", p.EndpointURI)
	}
}

// connectionFailure reports whether a delivery error is one
// cloud-event-proxy counts: a DNS error, a timeout, a refused connection.
// The amqp1 target's "not connected" wraps why its last connection
// attempt failed, so an AMQP endpoint that refuses connections counts
// too.
func connectionFailure(err error) bool {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		return true
	case errors.Is(err, syscall.ECONNREFUSED):
		return true
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return true
	}
	return false
}
