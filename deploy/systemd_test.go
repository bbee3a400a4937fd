package deploy

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// unit is a systemd unit file: section -> key -> values (a key may repeat).
type unit map[string]map[string][]string

func parseUnit(data string) unit {
	u := unit{}
	section := ""
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, _ := strings.Cut(line, "=")
			u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

func (u unit) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

var systemdSpan = regexp.MustCompile(`^(\d+)\s*(ms|s|sec|m|min|h|hr)?$`)

// parseSpan reads the systemd time spans this unit uses ("45s", "5min", "90").
func parseSpan(s string) (time.Duration, error) {
	m := systemdSpan.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("time span %q", s)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"": time.Second, "s": time.Second, "sec": time.Second, "ms": time.Millisecond,
		"m": time.Minute, "min": time.Minute, "h": time.Hour, "hr": time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

// checkUnit checks the unit against the binary and the config it runs
// (configData: the file the install steps put at the --config path).
func checkUnit(t *testing.T, data string, configData []byte) problems {
	t.Helper()
	var p problems
	u := parseUnit(data)
	s := "Service"
	for key, want := range map[string]string{
		"Type": "simple", "User": "eventbridge", "Restart": "on-failure", "KillSignal": "SIGTERM",
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"CapabilityBoundingSet": "",
	} {
		if vs := u[s][key]; len(vs) == 0 || vs[len(vs)-1] != want {
			p.add("%s=%v, want %q", key, vs, want)
		}
	}
	exec := strings.Fields(u.get(s, "ExecStart"))
	if len(exec) == 0 || path.Base(exec[0]) != "eventbridge" || !path.IsAbs(exec[0]) {
		p.add("ExecStart %q does not run eventbridge by absolute path", exec)
		return p
	}
	sa, err := parseServe(exec[1:])
	if err != nil {
		p.add("ExecStart: %v", err)
		return p
	}
	state := u.get(s, "StateDirectory")
	if state == "" || sa.DataDir != "/var/lib/"+state {
		p.add("ExecStart --data-dir %q, but StateDirectory=%s is /var/lib/%s", sa.DataDir, state, state)
	}
	if !strings.Contains(" "+strings.Join(u[s]["ReadWritePaths"], " ")+" ", " "+sa.DataDir+" ") {
		p.add("ReadWritePaths %v lacks the data directory %s (ProtectSystem=strict)", u[s]["ReadWritePaths"], sa.DataDir)
	}
	if sa.Config != "/etc/eventbridge/eventbridge.yaml" {
		p.add("ExecStart --config %s, the install steps put the config at /etc/eventbridge/eventbridge.yaml", sa.Config)
	}
	cfg, err := parseConfig(t, configData, map[string]string{"EVENTBRIDGE_ADMIN_TOKEN": testToken}, sa)
	if err != nil {
		p.add("config: %v", err)
		return p
	}
	if cfg.Bus.DataDir != sa.DataDir {
		p.add("the bridge would use bus.data_dir %s, not %s", cfg.Bus.DataDir, sa.DataDir)
	}
	stop, err := parseSpan(u.get(s, "TimeoutStopSec"))
	if err != nil || stop <= cfg.ShutdownTimeout.D() {
		p.add("TimeoutStopSec=%s is not above shutdown_timeout %s: systemd would SIGKILL the graceful stop", u.get(s, "TimeoutStopSec"), cfg.ShutdownTimeout.D())
	}
	return p
}

func TestSystemdUnitAgreesWithTheBinary(t *testing.T) {
	checkUnit(t, string(readFile(t, "systemd/eventbridge.service")), readFile(t, "eventbridge.yaml")).report(t, "systemd/eventbridge.service")
	readme := string(readFile(t, "systemd/README.md"))
	for _, want := range []string{"deploy/eventbridge.yaml /etc/eventbridge/eventbridge.yaml", "deploy/systemd/eventbridge.service", "useradd", "eventbridge.env"} {
		if !strings.Contains(readme, want) {
			t.Errorf("systemd/README.md: the install steps lack %q", want)
		}
	}
}
