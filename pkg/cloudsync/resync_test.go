package cloudsync_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

func res(id string, v int64) *cloudsync.Resource {
	return &cloudsync.Resource{ID: id, Version: v, Spec: json.RawMessage(`{}`)}
}

func deleting(r *cloudsync.Resource) *cloudsync.Resource {
	now := time.Now()
	r.Deleting = &now
	return r
}

func ids(rs []*cloudsync.Resource) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// The source's answer to a spec resync request, rule by rule (spec §3.A).
func TestPlanSpecResync(t *testing.T) {
	rv := func(pairs ...any) cloudsync.ResourceVersionList {
		var l cloudsync.ResourceVersionList
		for i := 0; i < len(pairs); i += 2 {
			l.Versions = append(l.Versions, cloudsync.ResourceVersion{ResourceID: pairs[i].(string), ResourceVersion: int64(pairs[i+1].(int))})
		}
		return l
	}
	cases := []struct {
		name     string
		source   []*cloudsync.Resource
		agent    cloudsync.ResourceVersionList
		wantSend []string
		wantGone []cloudsync.ResourceVersion
	}{
		{name: "newer on the source is sent", source: []*cloudsync.Resource{res("a", 3)}, agent: rv("a", 2), wantSend: []string{"a"}},
		{name: "same version is not sent", source: []*cloudsync.Resource{res("a", 3)}, agent: rv("a", 3), wantSend: []string{}},
		{name: "older on the source is not sent", source: []*cloudsync.Resource{res("a", 2)}, agent: rv("a", 3), wantSend: []string{}},
		{name: "version 0 is always sent", source: []*cloudsync.Resource{res("a", 0)}, agent: rv("a", 5), wantSend: []string{"a"}},
		{name: "an id the agent lacks counts as 0", source: []*cloudsync.Resource{res("a", 1), res("b", 1)}, agent: rv("a", 1), wantSend: []string{"b"}},
		{name: "a deleting object is sent whatever its version", source: []*cloudsync.Resource{deleting(res("a", 1))}, agent: rv("a", 9), wantSend: []string{"a"}},
		{name: "ids the source no longer has are gone", source: []*cloudsync.Resource{res("a", 1)}, agent: rv("a", 1, "x", 4, "y", 0),
			wantSend: []string{}, wantGone: []cloudsync.ResourceVersion{{ResourceID: "x", ResourceVersion: 4}, {ResourceID: "y", ResourceVersion: 0}}},
		{name: "a source without objects sends nothing", source: nil, agent: rv("x", 4), wantSend: []string{}},
		{name: "an empty request gets everything", source: []*cloudsync.Resource{res("a", 1), res("b", 2)}, agent: rv(), wantSend: []string{"a", "b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			send, gone := cloudsync.PlanSpecResync(c.source, c.agent)
			if got := ids(send); !reflect.DeepEqual(got, c.wantSend) {
				t.Errorf("send = %v, want %v", got, c.wantSend)
			}
			if !reflect.DeepEqual(gone, c.wantGone) {
				t.Errorf("gone = %v, want %v", gone, c.wantGone)
			}
		})
	}
}

// The agent's answer to a status resync request (spec §3.B).
func TestPlanStatusResync(t *testing.T) {
	withStatus := func(id, status string) *cloudsync.Resource {
		r := res(id, 1)
		r.Status = json.RawMessage(status)
		return r
	}
	hash := func(s string) string {
		h, err := cloudsync.HashStatus(json.RawMessage(s))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	agent := []*cloudsync.Resource{withStatus("a", `{"ok":true}`), withStatus("b", `{"ok":false}`), withStatus("c", `{"n":1}`)}
	cases := []struct {
		name   string
		hashes []cloudsync.ResourceStatusHash
		want   []string
	}{
		{name: "an empty list gets all", hashes: nil, want: []string{"a", "b", "c"}},
		{name: "only listed ids whose hash differs", hashes: []cloudsync.ResourceStatusHash{
			{ResourceID: "a", StatusHash: hash(`{"ok":true}`)}, // same
			{ResourceID: "b", StatusHash: hash(`{"ok":true}`)}, // differs
		}, want: []string{"b"}},
		{name: "unlisted objects are skipped", hashes: []cloudsync.ResourceStatusHash{{ResourceID: "zzz", StatusHash: "x"}}, want: []string{}},
		{name: "all differ", hashes: []cloudsync.ResourceStatusHash{{ResourceID: "a"}, {ResourceID: "b"}, {ResourceID: "c"}}, want: []string{"a", "b", "c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := cloudsync.PlanStatusResync(agent, cloudsync.ResourceStatusHashList{Hashes: c.hashes}, cloudsync.HashResourceStatus)
			if g := ids(got); !reflect.DeepEqual(g, c.want) {
				t.Errorf("send = %v, want %v", g, c.want)
			}
		})
	}
	t.Run("an object whose hash fails is skipped", func(t *testing.T) {
		failing := func(r *cloudsync.Resource) (string, error) {
			if r.ID == "a" {
				return "", errors.New("boom")
			}
			return "new", nil
		}
		got := cloudsync.PlanStatusResync(agent, cloudsync.ResourceStatusHashList{Hashes: []cloudsync.ResourceStatusHash{{ResourceID: "a"}, {ResourceID: "b"}}}, failing)
		if g := ids(got); !reflect.DeepEqual(g, []string{"b"}) {
			t.Errorf("send = %v, want [b]", g)
		}
	})
}

func TestSpecAction(t *testing.T) {
	held := []*cloudsync.Resource{res("a", 2), res("z", 0)}
	cases := []struct {
		obj  *cloudsync.Resource
		want cloudsync.ResourceAction
	}{
		{res("new", 1), cloudsync.Added},
		{res("a", 3), cloudsync.Modified},
		{res("a", 2), ""},
		{res("a", 1), ""},
		{res("z", 0), cloudsync.Modified}, // both 0: the broker keeps order
		{deleting(res("a", 2)), cloudsync.Deleted},
	}
	for _, c := range cases {
		if got := cloudsync.SpecAction(held, c.obj); got != c.want {
			t.Errorf("SpecAction(%s v%d deleting=%v) = %q, want %q", c.obj.ID, c.obj.Version, c.obj.Deleting != nil, got, c.want)
		}
	}
}

// The default hash is SHA-256 hex of the JSON of the status, as OCM's.
func TestHashStatus(t *testing.T) {
	got, err := cloudsync.HashStatus(map[string]any{"b": 1, "a": "x"})
	if err != nil {
		t.Fatal(err)
	}
	// sha256 of {"a":"x","b":1}
	const want = "cdab067e9f3beb32d1252cfd63e492592fecbf591b0d08cadb24bb17f3864246"
	if got != want {
		t.Fatalf("HashStatus = %s, want %s", got, want)
	}
	r := &cloudsync.Resource{Status: json.RawMessage(`{"a":"x","b":1}`)}
	h2, _ := cloudsync.HashResourceStatus(r)
	if h2 != got {
		t.Errorf("HashResourceStatus = %s, HashStatus of the same JSON = %s", h2, got)
	}
}
