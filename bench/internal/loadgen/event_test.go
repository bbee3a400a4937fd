package loadgen

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestBodyIsAbout300BytesOfJSON(t *testing.T) {
	if n := len(Body); n < 250 || n > 350 {
		t.Errorf("body is %d bytes, want about 300", n)
	}
	if !json.Valid(Body) {
		t.Errorf("body is not valid JSON")
	}
}

func TestSendBinaryModeEvent(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	tg := NewTarget(srv.URL, 1, 5*time.Second)
	intended := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	status, err := tg.Send(context.Background(), Job{Seq: 42, Intended: intended})
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("Send = %d, %v", status, err)
	}
	want := map[string]string{
		"Ce-Specversion": "1.0",
		"Ce-Id":          tg.IDPrefix + "42",
		"Ce-Source":      DefaultSource,
		"Ce-Type":        DefaultType,
		"Ce-Time":        "2026-01-02T03:04:05.0000006Z",
		"Content-Type":   "application/json",
	}
	for k, v := range want {
		if g := got.Header.Get(k); g != v {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
	if got.Method != http.MethodPost || string(body) != string(Body) {
		t.Errorf("method %s body %q", got.Method, body)
	}
}
