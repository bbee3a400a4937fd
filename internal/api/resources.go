package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/controller/runstatus"
	"github.com/eventbridge-dev/eventbridge/internal/desired"
	"github.com/eventbridge-dev/eventbridge/internal/lifecycle"
	"github.com/eventbridge-dev/eventbridge/internal/oran"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/subscription"
)

// Resource is how the API shows a resource: the stored object, its spec
// with secrets shown as "***", and its status.
type Resource struct {
	Kind     resource.Kind     `json:"kind"`
	Name     string            `json:"name"`
	Origin   string            `json:"origin"`
	File     string            `json:"file,omitempty"`
	Revision uint64            `json:"revision"`
	Created  time.Time         `json:"created"`
	Updated  time.Time         `json:"updated"`
	Labels   map[string]string `json:"labels,omitempty"`
	Paused   bool              `json:"paused,omitempty"`
	Spec     json.RawMessage   `json:"spec"`
	Status   *ResourceStatus   `json:"status,omitempty"`
}

// ResourceStatus is what runs for a resource.
type ResourceStatus struct {
	runstatus.Status
	// Components are the running parts (the source, the target, a rule's
	// routes) with their health.
	Components map[string]component.Status `json:"components,omitempty"`
	// Counters are the resource's main metrics.
	Counters map[string]float64 `json:"counters,omitempty"`
}

// ResourceList is a page of resources.
type ResourceList struct {
	Items []*Resource `json:"items"`
	// NextPageToken, when set, fetches the next page (page_token=…).
	NextPageToken string `json:"next_page_token,omitempty"`
}

var kindsByPlural = map[string]resource.Kind{
	"sources": resource.KindSource, "targets": resource.KindTarget, "rules": resource.KindRule,
}

func (a *API) registerResources(mux *http.ServeMux) {
	for _, plural := range []string{"sources", "targets", "rules"} {
		kind := kindsByPlural[plural]
		a.handle(mux, "GET /v1/"+plural, ScopeRead, func(w http.ResponseWriter, r *http.Request) { a.list(w, r, kind) })
		a.handle(mux, "GET /v1/"+plural+"/{name}", ScopeRead, func(w http.ResponseWriter, r *http.Request) { a.get(w, r, kind) })
		a.handle(mux, "PUT /v1/"+plural+"/{name}", ScopeWrite, func(w http.ResponseWriter, r *http.Request) { a.put(w, r, kind) })
		a.handle(mux, "DELETE /v1/"+plural+"/{name}", ScopeWrite, func(w http.ResponseWriter, r *http.Request) { a.delete(w, r, kind) })
	}
	a.handle(mux, "POST /v1/rules/{action}", ScopeWrite, a.ruleAction)
	a.handle(mux, "POST /v1/sources/{action}", ScopeWrite, func(w http.ResponseWriter, r *http.Request) {
		a.pauseAction(w, r, resource.KindSource)
	})
	a.handle(mux, "POST /v1/targets/{action}", ScopeWrite, func(w http.ResponseWriter, r *http.Request) {
		a.pauseAction(w, r, resource.KindTarget)
	})
}

func (a *API) list(w http.ResponseWriter, r *http.Request, kind resource.Kind) {
	q := r.URL.Query()
	limit := 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			problem.New(problem.InvalidRequest, "limit must be between 1 and 1000").
				WithErrors(problem.FieldError{Field: "limit", Reason: "must be between 1 and 1000"}).Write(w, r)
			return
		}
		limit = n
	}
	selectors, perr := parseLabelSelectors(q["label"])
	if perr != nil {
		perr.Write(w, r)
		return
	}
	objs, err := a.deps.Store.List(r.Context(), kind)
	if err != nil {
		problem.Write(w, r, problem.Unavailable, err.Error())
		return
	}
	after := q.Get("page_token")
	out := ResourceList{Items: []*Resource{}}
	for _, o := range objs {
		if after != "" && o.Name <= after {
			continue
		}
		view := a.view(o, true)
		if !selectors.match(view.Labels) {
			continue
		}
		if len(out.Items) == limit {
			out.NextPageToken = out.Items[len(out.Items)-1].Name
			break
		}
		out.Items = append(out.Items, view)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) get(w http.ResponseWriter, r *http.Request, kind resource.Kind) {
	o, perr := a.load(r.Context(), kind, r.PathValue("name"))
	if perr != nil {
		perr.Write(w, r)
		return
	}
	w.Header().Set("ETag", etag(o.Revision))
	writeJSON(w, http.StatusOK, a.view(o, true))
}

func (a *API) load(ctx context.Context, kind resource.Kind, name string) (*resource.Object, *problem.Problem) {
	o, err := a.deps.Store.Get(ctx, kind, name)
	switch {
	case errors.Is(err, desired.ErrNotFound):
		return nil, problem.New(problem.NotFound, fmt.Sprintf("no %s named %q", kind, name))
	case err != nil:
		return nil, problem.New(problem.Unavailable, err.Error())
	}
	return o, nil
}

func (a *API) put(w http.ResponseWriter, r *http.Request, kind resource.Kind) {
	name := r.PathValue("name")
	if !spec.ValidName(name) {
		problem.New(problem.InvalidRequest, fmt.Sprintf("invalid name %q: %s", name, spec.NameRule)).
			WithErrors(problem.FieldError{Field: "name", Reason: spec.NameRule}).Write(w, r)
		return
	}
	if strings.HasPrefix(name, subscription.Prefix) {
		problem.New(problem.InvalidRequest, fmt.Sprintf("names starting with %q are kept for subscriptions", subscription.Prefix)).
			WithErrors(problem.FieldError{Field: "name", Reason: "reserved prefix"}).Write(w, r)
		return
	}
	if (kind == resource.KindRule || kind == resource.KindTarget) && strings.HasPrefix(name, oran.RulePrefix) {
		problem.New(problem.InvalidRequest, fmt.Sprintf("names starting with %q are kept for O-RAN subscriptions", oran.RulePrefix)).
			WithErrors(problem.FieldError{Field: "name", Reason: "reserved prefix"}).Write(w, r)
		return
	}
	ifMatch, perr := parseIfMatch(r)
	if perr != nil {
		perr.Write(w, r)
		return
	}
	raw, line, perr := decodeSpec(r)
	if perr != nil {
		perr.Write(w, r)
		return
	}
	ctx := r.Context()
	old, err := a.deps.Store.Get(ctx, kind, name)
	if err != nil && !errors.Is(err, desired.ErrNotFound) {
		problem.Write(w, r, problem.Unavailable, err.Error())
		return
	}
	if old != nil {
		if old.Origin == resource.OriginFile {
			problem.Write(w, r, problem.Conflict, fmt.Sprintf("%s %q is defined in the config file %s and is read-only through the API; change it there", kind, name, old.File))
			return
		}
		raw = keepSecrets(raw, old.Spec)
	}
	if perr := a.validate(ctx, kind, raw, pendingSources(r, kind)...); perr != nil {
		locateErrors(perr, line).Write(w, r)
		return
	}
	if old != nil && resource.Hash(old.Spec) == resource.Hash(raw) && (ifMatch == 0 || ifMatch == old.Revision) &&
		r.Header.Get("If-None-Match") != "*" {
		// Nothing changes: keep the revision, so clients can tell.
		w.Header().Set("ETag", etag(old.Revision))
		writeJSON(w, http.StatusOK, a.view(old, true))
		return
	}
	o := &resource.Object{Kind: kind, Name: name, Origin: resource.OriginAPI, Spec: raw}
	if old != nil {
		o.Created, o.Paused = old.Created, old.Paused
	}
	createOnly := r.Header.Get("If-None-Match") == "*"
	rev, err := a.deps.Store.Put(ctx, o, ifMatch, createOnly)
	switch {
	case errors.Is(err, desired.ErrConflict) && createOnly:
		problem.Write(w, r, problem.PreconditionFailed, fmt.Sprintf("%s %q already exists (If-None-Match: *)", kind, name))
		return
	case errors.Is(err, desired.ErrConflict):
		problem.Write(w, r, problem.PreconditionFailed, fmt.Sprintf("%s %q changed since revision %d; read it again", kind, name, ifMatch))
		return
	case err != nil:
		writeFailed(err).Write(w, r)
		return
	}
	a.waitApplied(ctx, rev)
	w.Header().Set("ETag", etag(rev))
	w.Header().Set("Location", "/v1/"+kind.Plural()+"/"+name)
	status := http.StatusOK
	if old == nil {
		status = http.StatusCreated
	}
	writeJSON(w, status, a.view(o, true))
}

// validate decodes a spec as the controller will, and checks the names it
// refers to (a rule may name the pending sources before they exist).
func (a *API) validate(ctx context.Context, kind resource.Kind, raw json.RawMessage, pending ...string) *problem.Problem {
	var err error
	switch kind {
	case resource.KindSource, resource.KindTarget:
		var cfg connector.Config
		if cfg, err = resource.DecodeConnectorRefs(kind, raw, "spec", a.refs()); err == nil {
			err = a.checkAddresses(cfg)
		}
	case resource.KindRule:
		p := spec.NewProblems("")
		if _, derr := resource.DecodeRuleRefs(raw, "spec", a.refs()); derr != nil {
			var ve *spec.ValidationError
			if !errors.As(derr, &ve) {
				return invalidResource(derr)
			}
			p.Append(ve.Problems...)
		}
		var refs struct {
			Targets []string `json:"targets"`
			Sources []string `json:"sources"`
		}
		_ = json.Unmarshal(raw, &refs)
		a.checkRefs(ctx, p.At("spec.targets"), resource.KindTarget, refs.Targets)
		a.checkRefs(ctx, p.At("spec.sources"), resource.KindSource, refs.Sources, pending...)
		err = p.Err()
	}
	if err != nil {
		return invalidResource(err)
	}
	return nil
}

// refs is the reference policy of resources sent through the API: no
// ${env:…} or ${file:…}, only the named secrets of the config file.
func (a *API) refs() spec.Refs { return spec.Refs{Secrets: a.deps.Secrets} }

// checkAddresses refuses the forbidden addresses written out in a
// connector's spec, so the caller learns which field is wrong. Names are
// checked when the connector dials them (connector.Deps.Guard).
func (a *API) checkAddresses(cfg connector.Config) error {
	out, ok := cfg.(connector.Outbound)
	if !ok || a.deps.Guard == nil {
		return nil
	}
	p := spec.NewProblems("spec")
	for _, addr := range out.OutboundAddresses() {
		if err := a.deps.Guard.CheckLiteral(addr.Value); err != nil {
			p.AddAt(addr.Field, "%v (resources created through the API may not reach loopback, link-local, private or other non-public addresses unless api.allow_private_addresses is set)", err)
		}
	}
	return p.Err()
}

func (a *API) checkRefs(ctx context.Context, p spec.Problems, kind resource.Kind, names []string, pending ...string) {
	for i, n := range names {
		if kind == resource.KindSource && n == lifecycle.SourceName {
			continue // the bridge's own lifecycle events
		}
		if slices.Contains(pending, n) {
			continue // applied right after this rule
		}
		if _, err := a.deps.Store.Get(ctx, kind, n); err != nil {
			p.Index(i).Add("no %s named %q", kind, n)
		}
	}
}

func (a *API) delete(w http.ResponseWriter, r *http.Request, kind resource.Kind) {
	name := r.PathValue("name")
	ifMatch, perr := parseIfMatch(r)
	if perr != nil {
		perr.Write(w, r)
		return
	}
	o, perr := a.load(r.Context(), kind, name)
	if perr != nil {
		perr.Write(w, r)
		return
	}
	if o.Origin == resource.OriginFile {
		problem.Write(w, r, problem.Conflict, fmt.Sprintf("%s %q is defined in the config file %s and is read-only through the API; remove it there", kind, name, o.File))
		return
	}
	if users := a.usedBy(r.Context(), kind, name); len(users) > 0 {
		problem.Write(w, r, problem.Conflict, fmt.Sprintf("%s %q is used by rule(s) %s; change or delete them first", kind, name, strings.Join(users, ", ")))
		return
	}
	err := a.deps.Store.Delete(r.Context(), kind, name, ifMatch)
	switch {
	case errors.Is(err, desired.ErrConflict):
		problem.Write(w, r, problem.PreconditionFailed, fmt.Sprintf("%s %q changed since revision %d", kind, name, ifMatch))
		return
	case errors.Is(err, desired.ErrNotFound):
		problem.Write(w, r, problem.NotFound, fmt.Sprintf("no %s named %q", kind, name))
		return
	case err != nil:
		writeFailed(err).Write(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// usedBy lists the rules that name a target or source.
func (a *API) usedBy(ctx context.Context, kind resource.Kind, name string) []string {
	if kind == resource.KindRule {
		return nil
	}
	rules, err := a.deps.Store.List(ctx, resource.KindRule)
	if err != nil {
		return nil
	}
	var out []string
	for _, o := range rules {
		var refs struct {
			Targets []string `json:"targets"`
			Sources []string `json:"sources"`
		}
		_ = json.Unmarshal(o.Spec, &refs)
		list := refs.Targets
		if kind == resource.KindSource {
			list = refs.Sources
		}
		for _, n := range list {
			if n == name {
				out = append(out, o.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ruleAction serves POST /v1/rules/{name}:pause and :resume.
func (a *API) ruleAction(w http.ResponseWriter, r *http.Request) {
	a.pauseAction(w, r, resource.KindRule)
}

// pauseAction serves POST /v1/{rules,sources,targets}/{name}:pause and
// :resume. The paused flag is stored with the resource (it survives a
// restart, and a config file's resource keeps it).
func (a *API) pauseAction(w http.ResponseWriter, r *http.Request, kind resource.Kind) {
	name, action, ok := strings.Cut(r.PathValue("action"), ":")
	if !ok || (action != "pause" && action != "resume") {
		problem.Write(w, r, problem.NotFound, "use POST /v1/"+kind.Plural()+"/{name}:pause or :resume")
		return
	}
	o, perr := a.load(r.Context(), kind, name)
	if perr != nil {
		perr.Write(w, r)
		return
	}
	o.Paused = action == "pause"
	rev, err := a.deps.Store.Put(r.Context(), o, o.Revision, false)
	if errors.Is(err, desired.ErrConflict) {
		problem.Write(w, r, problem.PreconditionFailed, fmt.Sprintf("the %s changed meanwhile; try again", kind))
		return
	} else if err != nil {
		writeFailed(err).Write(w, r)
		return
	}
	a.waitApplied(r.Context(), rev)
	writeJSON(w, http.StatusOK, a.view(o, true))
}

// waitApplied waits (briefly) until the local controller has applied a
// revision, so that the response shows the new status.
func (a *API) waitApplied(ctx context.Context, rev uint64) {
	if a.deps.Controller == nil {
		return
	}
	// The store's watch kicks the controller too; kicking it here spares
	// the local write the watch's latency.
	a.deps.Controller.Kick()
	deadline := time.Now().Add(3 * time.Second)
	for a.deps.Controller.AppliedRevision() < rev && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

func etag(rev uint64) string { return `"` + strconv.FormatUint(rev, 10) + `"` }

func parseIfMatch(r *http.Request) (uint64, *problem.Problem) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return 0, nil
	}
	v = strings.TrimPrefix(v, "W/")
	n, err := strconv.ParseUint(strings.Trim(v, `"`), 10, 64)
	if err != nil || n == 0 {
		return 0, problem.New(problem.InvalidRequest, "If-Match must be an ETag from a GET (a quoted revision number)").
			WithErrors(problem.FieldError{Field: "If-Match", Reason: "not a revision"})
	}
	return n, nil
}

// view builds the API's picture of an object.
func (a *API) view(o *resource.Object, withStatus bool) *Resource {
	v := &Resource{Kind: o.Kind, Name: o.Name, Origin: o.Origin, File: o.File, Revision: o.Revision,
		Created: o.Created, Updated: o.Updated, Paused: o.Paused}
	v.Spec, v.Labels = redactedSpec(o)
	if withStatus && a.deps.Controller != nil {
		st := &ResourceStatus{Components: map[string]component.Status{}}
		if s, ok := a.deps.Controller.Status(o.Kind, o.Name); ok {
			st.Status = s
		} else {
			st.State = "pending"
		}
		if a.deps.Health != nil {
			rep := a.deps.Health.Report()
			for name, cs := range rep.Components {
				if componentOf(name, o.Kind, o.Name) {
					st.Components[name] = cs
				}
			}
		}
		// A resource runs only as well as its components: a source that
		// cannot bind is failed, not running.
		st.Status = runstatus.WithComponents(st.Status, st.Components)
		if a.deps.Counters != nil {
			st.Counters = a.deps.Counters(o.Kind, o.Name)
		}
		v.Status = st
	}
	return v
}

func componentOf(component string, kind resource.Kind, name string) bool {
	switch kind {
	case resource.KindRule:
		return strings.HasPrefix(component, "route/"+name+"/")
	default:
		return component == string(kind)+"/"+name
	}
}

// redactedSpec returns the spec with secret values shown as "***" (secret
// references stay visible), and the labels.
func redactedSpec(o *resource.Object) (json.RawMessage, map[string]string) {
	var labels struct {
		Labels map[string]string `json:"labels"`
	}
	_ = json.Unmarshal(o.Spec, &labels)
	var typed any
	switch o.Kind {
	case resource.KindSource, resource.KindTarget:
		var head struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(o.Spec, &head)
		var cfg connector.Config
		if t, ok := connector.LookupSource(head.Type); ok && o.Kind == resource.KindSource {
			cfg = t.NewConfig()
		} else if t, ok := connector.LookupTarget(head.Type); ok && o.Kind == resource.KindTarget {
			cfg = t.NewConfig()
		}
		if cfg == nil {
			return json.RawMessage(`{}`), labels.Labels
		}
		typed = cfg
	default:
		return o.Spec, labels.Labels
	}
	if err := json.Unmarshal(o.Spec, typed); err != nil {
		return json.RawMessage(`{}`), labels.Labels
	}
	spec.Redact(typed)
	b, err := json.Marshal(typed)
	if err != nil {
		return json.RawMessage(`{}`), labels.Labels
	}
	return b, labels.Labels
}

// keepSecrets replaces "***" values in a new spec by the stored values at
// the same place, so that a spec read from the API can be sent back.
func keepSecrets(newRaw, oldRaw json.RawMessage) json.RawMessage {
	var nv, ov any
	if json.Unmarshal(newRaw, &nv) != nil || json.Unmarshal(oldRaw, &ov) != nil {
		return newRaw
	}
	changed := false
	var walk func(n, o any) any
	walk = func(n, o any) any {
		switch x := n.(type) {
		case string:
			if x == spec.Redacted {
				if os, ok := o.(string); ok {
					changed = true
					return os
				}
			}
		case map[string]any:
			om, _ := o.(map[string]any)
			for k, v := range x {
				x[k] = walk(v, om[k])
			}
		case []any:
			oa, _ := o.([]any)
			for i, v := range x {
				var ov any
				if i < len(oa) {
					ov = oa[i]
				}
				x[i] = walk(v, ov)
			}
		}
		return n
	}
	nv = walk(nv, ov)
	if !changed {
		return newRaw
	}
	b, err := json.Marshal(nv)
	if err != nil {
		return newRaw
	}
	return b
}
