package poll_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobstest"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// waitFailed waits for the source's run to fail, and returns its error.
func waitFailed(t *testing.T, m *jobs.Manager, name string) string {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, func() bool {
		st := lastRun(t, m, name)
		return st != nil && st.Result == jobs.ResultError
	}, "the run of %s fails", name)
	return lastRun(t, m, name).Error
}

// TestGuardHoldsRedirects: a source created through the API polls an
// allowed server that redirects to a private one; the redirect is refused
// when dialled, and nothing reaches the private server.
func TestGuardHoldsRedirects(t *testing.T) {
	inner, hits := connectortest.CountingHTTPServer(t)
	outer := httptest.NewServer(http.RedirectHandler(inner.URL+"/latest/meta-data/", http.StatusFound))
	t.Cleanup(outer.Close)
	guard := netguard.AllowOnly(strings.TrimPrefix(outer.URL, "http://"))

	m, _ := jobstest.StartManager(t, jobstest.NewClock(t0), nil)
	col := newBatches()
	// block_private false changes nothing: the guard is the bridge's.
	jobstest.StartGuardedSource(t, m, "redirected", fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,"block_private":false}`, outer.URL), col, guard)
	if err := waitFailed(t, m, "redirected"); !strings.Contains(err, "loopback") || !strings.Contains(err, "not allowed") {
		t.Errorf("error %q does not say the redirect's address is not allowed", err)
	}
	if n := hits.Load(); n != 0 || col.Count() != 0 {
		t.Fatalf("%d requests reached the private server, %d events stored", n, col.Count())
	}
}

// TestGuardHoldsTokenURL: the OAuth2 token endpoint is held to the guard
// too.
func TestGuardHoldsTokenURL(t *testing.T) {
	a := newAPI(t, 2)
	tokens, hits := connectortest.CountingHTTPServer(t)
	guard := netguard.AllowOnly(strings.TrimPrefix(a.URL, "http://"))

	m, _ := jobstest.StartManager(t, jobstest.NewClock(t0), nil)
	col := newBatches()
	jobstest.StartGuardedSource(t, m, "token", fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,"items":".[]","id":".id",
		"auth":{"oauth2":{"token_url":%q,"client_id":"c","client_secret":"s"}}}`, a.URL+"/items", tokens.URL+"/token"), col, guard)
	if err := waitFailed(t, m, "token"); !strings.Contains(err, "not allowed") {
		t.Errorf("error %q does not say the token endpoint is not allowed", err)
	}
	if n := hits.Load(); n != 0 || col.Count() != 0 {
		t.Fatalf("%d requests reached the token endpoint, %d events stored", n, col.Count())
	}

	// Without the guard (the operator's own source) the same spec works.
	jobstest.StartSource(t, m, "trusted", fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,"items":".[]","id":".id",
		"auth":{"oauth2":{"token_url":%q,"client_id":"c","client_secret":"s"}}}`, a.URL+"/items", tokens.URL+"/token"), col)
	testkit.Eventually(t, 10*time.Second, func() bool { return col.Count() == 2 }, "the trusted source stores 2 items")
}
