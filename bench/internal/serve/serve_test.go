package serve

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestPprofBesideCatchAllPost(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	MountPprof(mux) // must not panic on a pattern conflict
	rr := httptest.NewRecorder()
	mux.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil))
	if rr.Code != http.StatusOK {
		t.Fatalf("GET /debug/pprof/ = %d", rr.Code)
	}
	rr = httptest.NewRecorder()
	mux.ServeHTTP(rr, httptest.NewRequest(http.MethodPost, "/", nil))
	if rr.Code != http.StatusAccepted {
		t.Fatalf("POST / = %d", rr.Code)
	}
}
