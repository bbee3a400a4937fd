package oran

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"
)

// MaxBody bounds request bodies (a larger one is answered 400).
const MaxBody = 1 << 20

// Authorize wraps a handler with the listener's authentication; write
// tells whether the route changes anything (it needs the write scope).
type Authorize func(write bool, h http.Handler) http.Handler

// Handler serves /api/ocloudNotifications/v1/ and /v2/. authorize may be
// nil (no authentication; tests).
func (s *Service) Handler(authorize Authorize) http.Handler {
	if authorize == nil {
		authorize = func(_ bool, h http.Handler) http.Handler { return h }
	}
	mux := http.NewServeMux()
	for _, v := range []string{V1, V2} {
		base := BasePath(v)
		route := func(pattern string, write bool, h func(http.ResponseWriter, *http.Request, string)) {
			method, path, _ := strings.Cut(pattern, " ")
			mux.Handle(method+" "+base+path, authorize(write, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, v) })))
		}
		route("POST subscriptions", true, s.createSub)
		route("GET subscriptions", false, s.list(KindSubscription))
		route("DELETE subscriptions", true, s.deleteAll(KindSubscription))
		route("GET subscriptions/{id}", false, s.get(KindSubscription))
		route("DELETE subscriptions/{id}", true, s.deleteOne(KindSubscription))
		route("PUT subscriptions/status/{id}", true, s.statusPing)
		route("POST publishers", true, s.createPub)
		route("GET publishers", false, s.list(KindPublisher))
		route("DELETE publishers", true, s.deleteAll(KindPublisher))
		route("GET publishers/{id}", false, s.get(KindPublisher))
		route("DELETE publishers/{id}", true, s.deleteOne(KindPublisher))
		route("POST create/event", true, s.createEvent)
		route("POST log", true, s.logEvent)
		route("POST dummy", true, func(w http.ResponseWriter, _ *http.Request, _ string) { w.WriteHeader(http.StatusNoContent) })
		// Probes send no token: /health is open, like the bridge's /healthz.
		mux.HandleFunc("GET "+base+"health", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, "OK")
		})
	}
	currentState := map[string]http.Handler{}
	for _, v := range []string{V1, V2} {
		currentState[v] = authorize(false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.currentState(w, r, v) }))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// GET /{resourceAddress}/CurrentState: the address has slashes of
		// its own, so it is no ServeMux pattern.
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/CurrentState") {
			for _, v := range []string{V1, V2} {
				if strings.HasPrefix(r.URL.Path, BasePath(v)) {
					currentState[v].ServeHTTP(w, r)
					return
				}
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// writeJSON answers code with v as JSON.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// writeError is respondWithError: 400 {"error": msg}.
func writeError(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
}

// writeMessage is respondWithMessage: code {"status": msg}.
func writeMessage(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"status": msg})
}

// writeStatus is v2's respondWithStatusCode: the code, an empty body.
func writeStatus(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
}

// readJSON decodes a body of at most MaxBody bytes.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("the body is larger than %d bytes", MaxBody)
		}
		return fmt.Errorf("cannot read the body: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("the body is not valid JSON: %v", err)
	}
	return nil
}

func (s *Service) createSub(w http.ResponseWriter, r *http.Request, v string) {
	var p PubSub
	if err := readJSON(w, r, &p); err != nil {
		s.cfg.Metrics.count(KindSubscription, "failed to create", 1)
		if v == V1 {
			writeError(w, err.Error())
		} else {
			s.cfg.Log.Info("O-RAN subscription refused", "err", err)
			writeStatus(w, http.StatusBadRequest)
		}
		return
	}
	p.Kind = KindSubscription
	created, err := s.Create(r.Context(), &p, v)
	if err != nil {
		s.cfg.Metrics.count(KindSubscription, "failed to create", 1)
		s.cfg.Log.Info("O-RAN subscription refused", "api", v, "resource", p.Resource, "endpoint", p.EndpointURI, "err", err)
		if v == V1 {
			writeError(w, err.Error())
			return
		}
		switch {
		case errors.Is(err, ErrExists):
			writeStatus(w, http.StatusConflict)
		case errors.Is(err, ErrInvalid), errors.Is(err, ErrHandshake):
			writeStatus(w, http.StatusBadRequest)
		default: // no current state, or the store failed
			writeStatus(w, http.StatusNotFound)
		}
		return
	}
	writeJSON(w, http.StatusCreated, created)
}

func (s *Service) createPub(w http.ResponseWriter, r *http.Request, v string) {
	var p PubSub
	if err := readJSON(w, r, &p); err != nil {
		s.cfg.Metrics.count(KindPublisher, "failed to create", 1)
		writeError(w, err.Error())
		return
	}
	p.Kind = KindPublisher
	created, err := s.Create(r.Context(), &p, v)
	if err != nil {
		s.cfg.Metrics.count(KindPublisher, "failed to create", 1)
		writeError(w, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, created)
}

func (s *Service) list(kind string) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, v string) {
		list, err := s.List(r.Context(), kind)
		if err != nil {
			writeError(w, err.Error())
			return
		}
		s.cfg.Metrics.setActive(kind, len(list))
		var out []PubSub // nil: v2 writes null when there are none
		if v == V1 {
			out = []PubSub{} // v1 writes its store file: []
		}
		for _, p := range list {
			p.Version = v
			out = append(out, *p)
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func (s *Service) get(kind string) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, v string) {
		p, err := s.Get(r.Context(), kind, r.PathValue("id"))
		switch {
		case err == nil:
			p.Version = v
			writeJSON(w, http.StatusOK, p)
		case v == V2 && kind == KindSubscription:
			writeStatus(w, http.StatusNotFound)
		case errors.Is(err, ErrNotFound):
			writeError(w, kind+" not found")
		default:
			writeError(w, err.Error())
		}
	}
}

func (s *Service) deleteOne(kind string) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, v string) {
		err := s.Delete(r.Context(), kind, r.PathValue("id"))
		if err != nil && !errors.Is(err, ErrNotFound) {
			s.cfg.Metrics.count(kind, "failed to delete", 1)
		}
		switch {
		case v == V2 && kind == KindSubscription && err == nil:
			writeStatus(w, http.StatusNoContent)
		case v == V2 && kind == KindSubscription:
			writeStatus(w, http.StatusNotFound)
		case err == nil:
			writeMessage(w, http.StatusOK, "OK")
		case errors.Is(err, ErrNotFound):
			writeError(w, kind+" not found")
		default:
			writeError(w, err.Error())
		}
	}
}

func (s *Service) deleteAll(kind string) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, v string) {
		err := s.DeleteAll(r.Context(), kind)
		if err != nil {
			s.cfg.Metrics.count(kind, "failed to delete", 1)
		}
		switch {
		case v == V2 && kind == KindSubscription && err == nil:
			writeStatus(w, http.StatusNoContent)
		case v == V2 && kind == KindSubscription:
			writeStatus(w, http.StatusBadRequest)
		case err != nil:
			writeError(w, err.Error())
		default:
			writeMessage(w, http.StatusOK, "deleted all "+kind+"s")
		}
	}
}

// statusPing emits a status_check event for the subscription's resource
// (source <resource>/status) onto the bus, as cloud-event-proxy does.
func (s *Service) statusPing(w http.ResponseWriter, r *http.Request, _ string) {
	p, err := s.Get(r.Context(), KindSubscription, r.PathValue("id"))
	if err != nil {
		s.cfg.Metrics.StatusPing.WithLabelValues("fail").Inc()
		if errors.Is(err, ErrNotFound) {
			writeError(w, "subscription not found")
		} else {
			writeError(w, err.Error())
		}
		return
	}
	ev := ce.New(ce.CloudEventsVersionV1)
	ev.SetID(uuid.NewString())
	ev.SetType("status_check")
	ev.SetSource(p.Resource + "/status")
	ev.SetSubject(p.ID)
	if err := s.ingest(r.Context(), &ev); err != nil {
		s.cfg.Metrics.StatusPing.WithLabelValues("fail").Inc()
		writeError(w, err.Error())
		return
	}
	s.cfg.Metrics.StatusPing.WithLabelValues("success").Inc()
	writeMessage(w, http.StatusAccepted, "ping sent")
}

func (s *Service) ingest(ctx context.Context, ev *ce.Event) error {
	if s.cfg.Ingest == nil {
		return errors.New("the bridge takes no events")
	}
	return s.cfg.Ingest.Ingest(ctx, SourceName, []*ce.Event{ev})
}

// createEvent maps a cloud native event, whose id is a publisher's, to a
// CloudEvent and puts it on the bus (source "oran"). It answers 202 once
// the bus holds it.
func (s *Service) createEvent(w http.ResponseWriter, r *http.Request, v string) {
	var e Event
	if err := readJSON(w, r, &e); err != nil {
		writeError(w, err.Error())
		return
	}
	pub, err := s.Get(r.Context(), KindPublisher, e.ID)
	if err != nil {
		writeError(w, fmt.Sprintf("no publisher data for id %s found to publish event for", e.ID))
		return
	}
	if err := e.Validate(); err != nil {
		s.cfg.Metrics.EventsPublished.WithLabelValues(pub.Resource, "fail").Inc()
		writeError(w, err.Error())
		return
	}
	ev, err := ToCloudEvent(&e, pub, v)
	if err == nil {
		err = s.ingest(r.Context(), ev)
	}
	if err != nil {
		s.cfg.Metrics.EventsPublished.WithLabelValues(pub.Resource, "fail").Inc()
		writeError(w, err.Error())
		return
	}
	s.cfg.Metrics.EventsPublished.WithLabelValues(pub.Resource, "success").Inc()
	writeMessage(w, http.StatusAccepted, "Event sent")
}

func (s *Service) logEvent(w http.ResponseWriter, r *http.Request, _ string) {
	var e Event
	if err := readJSON(w, r, &e); err != nil {
		writeError(w, err.Error())
		return
	}
	s.cfg.Log.Info("O-RAN event logged", "id", e.ID, "type", e.Type, "source", e.Source, "time", e.Time)
	writeStatus(w, http.StatusAccepted)
}

// currentState answers GET /{resourceAddress}/CurrentState with the last
// event of the first subscription (v1: or publisher) whose resource
// contains the address.
func (s *Service) currentState(w http.ResponseWriter, r *http.Request, v string) {
	addr := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, BasePath(v)), "/CurrentState")
	addr = "/" + strings.Trim(addr, "/")
	p, err := s.findResource(r.Context(), addr, v == V1)
	if err != nil || p == nil {
		if v == V1 {
			writeError(w, "subscription not found")
		} else {
			writeStatus(w, http.StatusNotFound)
		}
		return
	}
	ev, err := s.current(r.Context(), p.Resource)
	if err != nil {
		if v == V1 {
			writeError(w, "event not found")
		} else {
			writeStatus(w, http.StatusNotFound)
		}
		return
	}
	if v == V1 {
		cne, err := FromCloudEvent(ev, V1)
		if err != nil {
			writeError(w, "event not found")
			return
		}
		writeJSON(w, http.StatusOK, cne)
		return
	}
	body, err := Notification(ev, "")
	if err != nil {
		writeStatus(w, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// findResource returns the first subscription (then, with pubs, the first
// publisher) whose resource is or contains addr.
func (s *Service) findResource(ctx context.Context, addr string, pubs bool) (*PubSub, error) {
	kinds := []string{KindSubscription}
	if pubs {
		kinds = append(kinds, KindPublisher)
	}
	for _, k := range kinds {
		list, err := s.List(ctx, k)
		if err != nil {
			return nil, err
		}
		for _, p := range list {
			if p.Resource == addr {
				return p, nil
			}
		}
		for _, p := range list {
			if strings.Contains(p.Resource, addr) {
				return p, nil
			}
		}
	}
	return nil, nil
}
