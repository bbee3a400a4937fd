package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/desired"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/subscription"
)

// The CloudEvents Subscriptions API (subscriptions/spec.md; status codes
// from its OpenAPI binding): a subscription is a rule with one target.

func (a *API) registerSubscriptions(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/subscriptions", ScopeRead, a.listSubscriptions)
	a.handle(mux, "POST /v1/subscriptions", ScopeWrite, a.createSubscription)
	a.handle(mux, "OPTIONS /v1/subscriptions", ScopeRead, allow("GET, POST, OPTIONS"))
	a.handle(mux, "GET /v1/subscriptions/{id}", ScopeRead, a.getSubscription)
	a.handle(mux, "PUT /v1/subscriptions/{id}", ScopeWrite, a.updateSubscription)
	a.handle(mux, "DELETE /v1/subscriptions/{id}", ScopeWrite, a.deleteSubscription)
	a.handle(mux, "OPTIONS /v1/subscriptions/{id}", ScopeRead, allow("GET, PUT, DELETE, OPTIONS"))
}

func allow(methods string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", methods)
		w.WriteHeader(http.StatusOK)
	}
}

func (a *API) subOptions() subscription.Options {
	return subscription.Options{AllowPrivate: a.deps.Guard == nil, Resolver: a.deps.Resolver}
}

func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	objs, err := a.deps.Store.List(r.Context(), resource.KindSubscription)
	if err != nil {
		problem.Write(w, r, problem.Unavailable, err.Error())
		return
	}
	out := make([]subscription.Subscription, 0, len(objs))
	for _, o := range objs {
		if s, err := decodeSub(o); err == nil {
			out = append(out, subscription.Redacted(*s))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func decodeSub(o *resource.Object) (*subscription.Subscription, error) {
	var s subscription.Subscription
	if err := json.Unmarshal(o.Spec, &s); err != nil {
		return nil, err
	}
	s.ID = o.Name
	return &s, nil
}

// readSub reads a subscription: JSON, or YAML when the request says so
// (the console's editor); line then gives a field's line for the
// validation errors (nil for JSON).
func (a *API) readSub(r *http.Request) (s *subscription.Subscription, line func(string) int, p *problem.Problem) {
	s = &subscription.Subscription{}
	if !isYAML(r) {
		if p := decode(r, s); p != nil {
			return nil, nil, p
		}
		return s, nil, nil
	}
	raw, line, p := decodeSpec(r)
	if p != nil {
		return nil, nil, p
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return nil, nil, problem.New(problem.InvalidRequest, "body: "+err.Error())
	}
	return s, line, nil
}

func (a *API) createSubscription(w http.ResponseWriter, r *http.Request) {
	s, line, p := a.readSub(r)
	if p != nil {
		p.Write(w, r)
		return
	}
	s.ID = uuid.NewString() // an id in the request is ignored, as the spec says
	if p := a.storeSub(r.Context(), s, 0, true); p != nil {
		locateErrors(p, line).Write(w, r)
		return
	}
	w.Header().Set("Location", "/v1/subscriptions/"+s.ID)
	writeJSON(w, http.StatusCreated, subscription.Redacted(*s))
}

func (a *API) storeSub(ctx context.Context, s *subscription.Subscription, ifMatch uint64, create bool) *problem.Problem {
	if err := subscription.Validate(ctx, s, a.subOptions()); err != nil {
		return invalidResource(err)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return problem.New(problem.Internal, err.Error())
	}
	o := &resource.Object{Kind: resource.KindSubscription, Name: s.ID, Origin: resource.OriginAPI, Spec: raw}
	rev, err := a.deps.Store.Put(ctx, o, ifMatch, create)
	switch {
	case errors.Is(err, desired.ErrConflict):
		return problem.New(problem.Conflict, fmt.Sprintf("subscription %s changed meanwhile", s.ID))
	case err != nil:
		return writeFailed(err)
	}
	a.waitApplied(ctx, rev)
	return nil
}

func (a *API) getSubscription(w http.ResponseWriter, r *http.Request) {
	o, p := a.load(r.Context(), resource.KindSubscription, r.PathValue("id"))
	if p != nil {
		p.Write(w, r)
		return
	}
	s, err := decodeSub(o)
	if err != nil {
		problem.Write(w, r, problem.Internal, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, subscription.Redacted(*s))
}

func (a *API) updateSubscription(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	o, p := a.load(r.Context(), resource.KindSubscription, id)
	if p != nil {
		p.Write(w, r)
		return
	}
	s, line, p := a.readSub(r)
	if p != nil {
		p.Write(w, r)
		return
	}
	if s.ID != "" && s.ID != id {
		problem.New(problem.InvalidRequest, fmt.Sprintf("id %q in the body does not match %q in the path", s.ID, id)).
			WithErrors(problem.FieldError{Field: "id", Reason: "must match the path"}).Write(w, r)
		return
	}
	s.ID = id
	if old, err := decodeSub(o); err == nil {
		keepCredential(s, old)
	}
	if p := a.storeSub(r.Context(), s, o.Revision, false); p != nil {
		locateErrors(p, line).Write(w, r)
		return
	}
	writeJSON(w, http.StatusOK, subscription.Redacted(*s))
}

// keepCredential keeps the stored secrets when an update sends the same
// credential without them (secrets are write-only, so a client that read
// the subscription does not have them).
func keepCredential(s, old *subscription.Subscription) {
	n, o := s.SinkCredential, old.SinkCredential
	if n == nil || o == nil || n.CredentialType != o.CredentialType {
		return
	}
	if n.Secret == "" {
		n.Secret = o.Secret
	}
	if n.AccessToken == "" {
		n.AccessToken = o.AccessToken
	}
	if n.RefreshToken == "" {
		n.RefreshToken = o.RefreshToken
	}
}

func (a *API) deleteSubscription(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	o, p := a.load(r.Context(), resource.KindSubscription, id)
	if p != nil {
		p.Write(w, r)
		return
	}
	if err := a.deps.Store.Delete(r.Context(), resource.KindSubscription, id, 0); err != nil && !errors.Is(err, desired.ErrNotFound) {
		writeFailed(err).Write(w, r)
		return
	}
	s, _ := decodeSub(o)
	writeJSON(w, http.StatusOK, subscription.Redacted(*s))
}
