package oran

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/desired"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// SourceName is the bridge source the events of POST /create/event are
// ingested as.
const SourceName = "oran"

// DefaultFailAfter is how many delivery failures in a row (connection
// refused, DNS error, timeout) make a client lose its subscriptions, as
// cloud-event-proxy's SetConnectionToFailAfter.
const DefaultFailAfter = 10

// ErrNoState is returned by a StateFunc when the bridge holds no event for
// the address.
var ErrNoState = errors.New("oran: no current state")

// StateFunc returns the last event whose source is address (the bridge's
// current-state store), or ErrNoState.
type StateFunc func(ctx context.Context, address string) (*ce.Event, error)

// Errors of the service.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already subscribed")
)

// Config is what the service needs.
type Config struct {
	Store  *desired.Store
	Ingest connector.Ingester
	// State answers CurrentState and gives v2's initial notification; nil:
	// no current state is known.
	State StateFunc
	// BaseURL is the scheme, host and port uriLocation is made of
	// (oran.api_host; default http://localhost:9043).
	BaseURL string
	// AllowPrivate lets endpoints be loopback, link-local or private
	// addresses (api.allow_private_addresses).
	AllowPrivate bool
	Resolver     netguard.Resolver
	// HTTP sends the handshakes; nil: a client with a 10s timeout that
	// dials through netguard unless AllowPrivate.
	HTTP *http.Client
	// FailAfter is how many delivery failures in a row remove a client's
	// subscriptions; 0 never.
	FailAfter int
	// Wait, when set, waits until the controller applied store revision
	// rev (so that a subscription delivers when its 201 is sent).
	Wait    func(ctx context.Context, rev uint64)
	Metrics *Metrics
	Log     *slog.Logger
}

// Service implements the O-RAN API's operations over the bridge's desired.
type Service struct {
	cfg Config

	mu       sync.Mutex // serializes creations (the 409 rule)
	fmu      sync.Mutex
	fails    map[string]int    // client id -> delivery failures in a row
	clients  map[string]string // subscription id -> client id
	removing map[string]bool   // clients whose subscriptions are being deleted
	// remove deletes a client's subscriptions (removeClient; tests).
	remove func(client string)
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://localhost:9043"
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.HTTP == nil {
		cfg.HTTP = newHandshakeClient(cfg.AllowPrivate)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	s := &Service{cfg: cfg, fails: map[string]int{}, clients: map[string]string{}, removing: map[string]bool{}}
	s.remove = s.removeClient
	return s
}

// List returns every subscription (kind KindSubscription) or publisher.
func (s *Service) List(ctx context.Context, kind string) ([]*PubSub, error) {
	objs, err := s.cfg.Store.List(ctx, kindOf(kind))
	if err != nil {
		return nil, err
	}
	out := make([]*PubSub, 0, len(objs))
	for _, o := range objs {
		p, err := FromObject(o)
		if err != nil {
			s.cfg.Log.Warn("skipping an unreadable O-RAN resource", "key", o.Key(), "err", err)
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// Get returns one subscription or publisher, or ErrNotFound.
func (s *Service) Get(ctx context.Context, kind, id string) (*PubSub, error) {
	o, err := s.cfg.Store.Get(ctx, kindOf(kind), id)
	if errors.Is(err, desired.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return FromObject(o)
}

// Delete removes one subscription or publisher, or answers ErrNotFound.
func (s *Service) Delete(ctx context.Context, kind, id string) error {
	err := s.cfg.Store.Delete(ctx, kindOf(kind), id, 0)
	if errors.Is(err, desired.ErrNotFound) {
		return ErrNotFound
	}
	if err == nil {
		s.cfg.Metrics.count(kind, "active", -1)
		s.fmu.Lock()
		delete(s.clients, id)
		s.fmu.Unlock()
	}
	return err
}

// DeleteAll removes every subscription or publisher.
func (s *Service) DeleteAll(ctx context.Context, kind string) error {
	list, err := s.List(ctx, kind)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range list {
		if err := s.Delete(ctx, kind, p.ID); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// findSame returns the subscription with p's endpoint and resource, if
// any (the 409 rule).
func (s *Service) findSame(ctx context.Context, p *PubSub) (*PubSub, error) {
	list, err := s.List(ctx, p.Kind)
	if err != nil {
		return nil, err
	}
	for _, q := range list {
		if q.EndpointURI == p.EndpointURI && q.Resource == p.Resource {
			return q, nil
		}
	}
	return nil, nil
}

// put stores p, refusing an existing id.
func (s *Service) put(ctx context.Context, p *PubSub) error {
	o, err := p.Object()
	if err != nil {
		return err
	}
	rev, err := s.cfg.Store.Put(ctx, o, 0, true)
	if errors.Is(err, desired.ErrConflict) {
		return fmt.Errorf("%s %s: %w", p.Kind, p.ID, ErrExists)
	}
	if err != nil {
		return err
	}
	if s.cfg.Wait != nil {
		s.cfg.Wait(ctx, rev)
	}
	return nil
}

// Import stores subscriptions and publishers as they are, keeping their
// ids and uriLocations, without a handshake (for moving a
// cloud-event-proxy store over). An id already stored, or a subscription
// whose endpoint already subscribes to the same resource, is skipped.
// An entry without an id gets a new one; a v2 entry without a
// uriLocation gets the bridge's. Version "" is V2. It stops at the first
// store error.
func (s *Service) Import(ctx context.Context, pubsubs []PubSub) (created, skipped int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range pubsubs {
		p := pubsubs[i]
		if p.Kind == "" {
			p.Kind = KindSubscription
		}
		if p.Version == "" {
			p.Version = V2
		}
		if p.Resource == "" {
			return created, skipped, fmt.Errorf("oran: import: %s %q has no resource address", p.Kind, p.ID)
		}
		if p.Kind == KindSubscription && p.EndpointURI == "" {
			return created, skipped, fmt.Errorf("oran: import: subscription %q has no endpointUri", p.ID)
		}
		if p.ID == "" {
			p.ID = uuid.NewString()
		}
		if p.URILocation == "" {
			p.URILocation = s.uriLocation(p.Version, p.Kind, p.ID)
		}
		if p.Kind == KindSubscription {
			same, err := s.findSame(ctx, &p)
			if err != nil {
				return created, skipped, err
			}
			if same != nil {
				skipped++
				continue
			}
		}
		switch err := s.put(ctx, &p); {
		case errors.Is(err, ErrExists):
			skipped++
		case err != nil:
			return created, skipped, err
		default:
			created++
			s.cfg.Metrics.count(p.Kind, "active", 1)
		}
	}
	return created, skipped, nil
}

// uriLocation is where the API serves a subscription or publisher.
func (s *Service) uriLocation(version, kind, id string) string {
	return s.cfg.BaseURL + BasePath(version) + kind + "s/" + id
}

// BasePath is the API's path prefix for a version, with a trailing slash.
func BasePath(version string) string {
	if version == V1 {
		return "/api/ocloudNotifications/v1/"
	}
	return "/api/ocloudNotifications/v2/"
}

// RefreshMetrics sets the active gauges from the desired.
func (s *Service) RefreshMetrics(ctx context.Context) {
	for _, k := range []string{KindSubscription, KindPublisher} {
		if list, err := s.List(ctx, k); err == nil {
			s.cfg.Metrics.setActive(k, len(list))
		}
	}
}

// Metrics returns the service's metrics.
func (s *Service) Metrics() *Metrics { return s.cfg.Metrics }

// SetBaseURL sets the base URL of uriLocation (before the API is served:
// when the listener's port was chosen by the system).
func (s *Service) SetBaseURL(u string) { s.cfg.BaseURL = strings.TrimSuffix(u, "/") }
