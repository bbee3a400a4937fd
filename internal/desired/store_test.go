package desired_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/desired"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

func open(t *testing.T) *desired.Store {
	t.Helper()
	s, err := desired.Open(bustest.Context(t), bustest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func obj(kind resource.Kind, name, spec string) *resource.Object {
	return &resource.Object{Kind: kind, Name: name, Origin: "api", Spec: json.RawMessage(spec)}
}

func TestPutGetListDelete(t *testing.T) {
	s := open(t)
	ctx := bustest.Context(t)

	if _, err := s.Get(ctx, resource.KindTarget, "t1"); !errors.Is(err, desired.ErrNotFound) {
		t.Fatalf("get of a missing resource: %v, want ErrNotFound", err)
	}
	for _, o := range []*resource.Object{
		obj(resource.KindTarget, "t2", `{"type":"log"}`),
		obj(resource.KindRule, "r1", `{}`),
		obj(resource.KindTarget, "t1", `{"type":"log"}`),
	} {
		if _, err := s.Put(ctx, o, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(ctx, resource.KindTarget, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "t1" || got.Revision == 0 || got.Created.IsZero() || string(got.Spec) != `{"type":"log"}` {
		t.Fatalf("get: %+v", got)
	}
	created := got.Created

	// A replacement keeps Created.
	rev, err := s.Put(ctx, obj(resource.KindTarget, "t1", `{"type":"log","n":2}`), 0, false)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx, resource.KindTarget, "t1")
	if got.Revision != rev || !got.Created.Equal(created) || got.Updated.Before(created) {
		t.Fatalf("after replace: %+v (created %s)", got, created)
	}

	all, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range all {
		keys = append(keys, o.Key())
	}
	if want := []string{"rule.r1", "target.t1", "target.t2"}; !slices.Equal(keys, want) {
		t.Fatalf("list %v, want %s", keys, want)
	}
	targets, err := s.List(ctx, resource.KindTarget)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 2 || targets[0].Name != "t1" || targets[0].Revision != rev {
		t.Fatalf("list of targets: %+v", targets)
	}

	if err := s.Delete(ctx, resource.KindTarget, "t1", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, resource.KindTarget, "t1"); !errors.Is(err, desired.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := s.Delete(ctx, resource.KindTarget, "t1", 0); !errors.Is(err, desired.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	if all, _ := s.List(ctx, ""); len(all) != 2 {
		t.Fatalf("list after delete: %d resources", len(all))
	}
}

func TestConflicts(t *testing.T) {
	s := open(t)
	ctx := bustest.Context(t)
	rev, err := s.Put(ctx, obj(resource.KindRule, "r", `{}`), 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, obj(resource.KindRule, "r", `{}`), 0, true); !errors.Is(err, desired.ErrConflict) {
		t.Fatalf("create-only of an existing resource: %v, want ErrConflict", err)
	}
	rev2, err := s.Put(ctx, obj(resource.KindRule, "r", `{"a":1}`), rev, false)
	if err != nil {
		t.Fatalf("put if-match the last revision: %v", err)
	}
	if _, err := s.Put(ctx, obj(resource.KindRule, "r", `{"a":2}`), rev, false); !errors.Is(err, desired.ErrConflict) {
		t.Fatalf("put if-match a stale revision: %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, resource.KindRule, "r", rev); !errors.Is(err, desired.ErrConflict) {
		t.Fatalf("delete if-match a stale revision: %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, resource.KindRule, "r", rev2); err != nil {
		t.Fatalf("delete if-match the last revision: %v", err)
	}
	// Created again after a delete.
	if _, err := s.Put(ctx, obj(resource.KindRule, "r", `{}`), 0, true); err != nil {
		t.Fatalf("create-only after delete: %v", err)
	}
}

func TestWatchChanges(t *testing.T) {
	s := open(t)
	ctx := bustest.Context(t)
	if _, err := s.Put(ctx, obj(resource.KindRule, "before", `{}`), 0, false); err != nil {
		t.Fatal(err)
	}
	w, err := s.WatchChanges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Stop() }()
	rev, err := s.Put(ctx, obj(resource.KindRule, "after", `{}`), 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, resource.KindRule, "before", 0); err != nil {
		t.Fatal(err)
	}
	want := []string{"rule.after", "rule.before"}
	for i, key := range want {
		select {
		case e, ok := <-w.Updates():
			if !ok || e == nil {
				t.Fatalf("watch sent %v (open %v), want %s", e, ok, key)
			}
			if e.Key != key || (i == 0 && e.Revision != rev) {
				t.Fatalf("watch sent %s at %d, want %s", e.Key, e.Revision, key)
			}
		case <-time.After(bustest.Wait):
			t.Fatalf("no change seen for %s", key)
		}
	}
}
