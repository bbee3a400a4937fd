package e2e

import (
	"net/http"
	"testing"
)

// serve --listen moves the main listener off the config's api.listen.
func TestServeListenOverridesConfig(t *testing.T) {
	cfgAddr, flagAddr := freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, cfgAddr, "sources:\n  web: {type: http, path: /events}\n")
	p := start(t, cfg, flagAddr, "--listen", flagAddr)
	resp, err := http.Get("http://" + flagAddr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz on --listen %s: %v\nlog:\n%s", flagAddr, err, p.log())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz on --listen: %s", resp.Status)
	}
	if resp, err := http.Get("http://" + cfgAddr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("api.listen %s still answers though --listen %s was given", cfgAddr, flagAddr)
	}
}
