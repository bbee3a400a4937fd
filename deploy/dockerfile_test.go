package deploy

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY, ...
	args string
}

func parseDockerfile(data string) []instruction {
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(data, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || trimmed == "" && cur.Len() == 0 {
			continue
		}
		if body, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// stage is one FROM ... of a multi-stage build.
type stage struct {
	image, name string
	ins         []instruction
}

func dockerStages(ins []instruction) (args map[string]string, stages []stage) {
	args = map[string]string{}
	for _, in := range ins {
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--platform") })
			st := stage{image: expandArgs(f[0], args)}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
		case len(stages) == 0 && in.cmd == "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			args[k] = v
		case len(stages) > 0:
			stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
		}
	}
	return args, stages
}

var dockerArgRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

func expandArgs(s string, args map[string]string) string {
	return dockerArgRef.ReplaceAllStringFunc(s, func(m string) string {
		return args[dockerArgRef.FindStringSubmatch(m)[1]]
	})
}

// ldflagsX maps each -X variable to the build variable that sets it:
// "github.com/.../version.Version" -> "VERSION".
var ldflagsXRef = regexp.MustCompile(`-X\s+(\S+?)=\$[({]?([A-Z_]+)[)}]?`)

func ldflagsX(s string) map[string]string {
	out := map[string]string{}
	for _, m := range ldflagsXRef.FindAllStringSubmatch(s, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func jsonArray(s string) ([]string, bool) {
	var out []string
	return out, json.Unmarshal([]byte(s), &out) == nil
}

// checkDockerfile checks the image against the binary, the Makefile and
// the config it ships. files maps a path of the build context to its
// content (for the config the image copies).
func checkDockerfile(t *testing.T, dockerfile, makefile, gomod string, files map[string][]byte) problems {
	t.Helper()
	var p problems
	global, stages := dockerStages(parseDockerfile(dockerfile))
	if len(stages) < 2 {
		p.add("want a multi-stage build, got %d stages", len(stages))
		return p
	}

	// The builder: the go.mod toolchain, and the Makefile's build.
	build := stages[0]
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(gomod)
	if goVersion == nil {
		p.add("go.mod has no go directive")
	} else if build.image != "golang:"+goVersion[1] {
		p.add("builder image %q, want golang:%s (go.mod)", build.image, goVersion[1])
	}
	var goBuild string
	var buildArgs []string
	for _, in := range build.ins {
		if in.cmd == "ARG" {
			k, _, _ := strings.Cut(in.args, "=")
			buildArgs = append(buildArgs, k)
		}
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			goBuild = in.args
		}
	}
	makeBuild := regexp.MustCompile(`(?m)^LDFLAGS := (.*)$`).FindStringSubmatch(makefile)
	switch {
	case goBuild == "":
		p.add("the builder has no go build")
	case makeBuild == nil:
		p.add("the Makefile has no LDFLAGS")
	default:
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-ldflags", "-s -w", "./cmd/eventbridge"} {
			if !strings.Contains(goBuild, want) {
				p.add("go build lacks %s (Makefile build target)", want)
			}
		}
		pkg := regexp.MustCompile(`(?m)^PKG := (\S+)`).FindStringSubmatch(makefile)
		want := ldflagsX(strings.ReplaceAll(makeBuild[1], "$(PKG)", pkg[1]))
		got := ldflagsX(goBuild)
		if len(want) == 0 || !mapsEqual(got, want) {
			p.add("go build -X flags %v, the Makefile's are %v", got, want)
		}
		for _, v := range want {
			if !slices.Contains(buildArgs, v) {
				p.add("the builder declares no ARG %s", v)
			}
		}
	}

	// The final image.
	final := stages[len(stages)-1]
	if !strings.Contains(final.image, "distroless/static") && final.image != "scratch" {
		p.add("final image %q (default BASE_IMAGE %q), want distroless static or scratch", final.image, global["BASE_IMAGE"])
	}
	var user, volume, expose string
	var entry, cmd []string
	copies := map[string]string{} // destination -> source
	for _, in := range final.ins {
		switch in.cmd {
		case "USER":
			user = in.args
		case "VOLUME":
			volume = in.args
			if a, ok := jsonArray(in.args); ok && len(a) == 1 {
				volume = a[0]
			}
		case "EXPOSE":
			expose = strings.TrimSuffix(in.args, "/tcp")
		case "ENTRYPOINT":
			entry, _ = jsonArray(in.args)
		case "CMD":
			cmd, _ = jsonArray(in.args)
		case "COPY":
			f := slices.DeleteFunc(strings.Fields(in.args), func(s string) bool { return strings.HasPrefix(s, "--") })
			if len(f) == 2 {
				copies[f[1]] = f[0]
			}
		case "HEALTHCHECK":
			p.add("HEALTHCHECK: the distroless image has no shell or curl to run it; probes come from the orchestrator")
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); uid != strconv.Itoa(imageUID) {
		p.add("USER %q, want %d", user, imageUID)
	}
	if len(entry) != 1 || path.Base(entry[0]) != "eventbridge" || copies[entry[0]] == "" {
		p.add("ENTRYPOINT %q must be the binary the final stage copies in (exec form)", entry)
	}
	sa, err := parseServe(cmd)
	if err != nil {
		p.add("CMD %q: %v", cmd, err)
		return p
	}
	src := copies[sa.Config]
	data, ok := files[src]
	if src == "" || !ok {
		p.add("CMD --config %s: the image copies no config there", sa.Config)
		return p
	}
	cfg, err := parseConfig(t, data, map[string]string{"EVENTBRIDGE_ADMIN_TOKEN": testToken}, sa)
	if err != nil {
		p.add("%s: %v", src, err)
		return p
	}
	if cfg.Bus.URL == "" && path.Clean(cfg.Bus.DataDir) != volume {
		p.add("%s: bus.data_dir %s, but the VOLUME is %q", src, cfg.Bus.DataDir, volume)
	}
	port, reachable, err := listenPort(cfg.API.Listen)
	if err != nil || port != expose || !reachable {
		p.add("%s: api.listen %s, but EXPOSE %s (and it must not be loopback)", src, cfg.API.Listen, expose)
	}
	return p
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// dockerignored reports whether a path of the build context is left out,
// with .dockerignore's matching (a pattern excludes a path or its parents;
// exceptions with ! are not used here).
func dockerignored(patterns []string, p string) bool {
	for _, pat := range patterns {
		pat = strings.TrimPrefix(path.Clean(pat), "/")
		for d := p; d != "." && d != "/"; d = path.Dir(d) {
			if ok, _ := path.Match(pat, d); ok {
				return true
			}
		}
	}
	return false
}

func TestDockerfileAgreesWithTheBinary(t *testing.T) {
	files := map[string][]byte{"deploy/eventbridge.yaml": readFile(t, "eventbridge.yaml")}
	checkDockerfile(t, string(readFile(t, "../Dockerfile")), string(readFile(t, "../Makefile")), string(readFile(t, "../go.mod")), files).
		report(t, "Dockerfile")
}

func TestDockerignore(t *testing.T) {
	var patterns []string
	for _, l := range strings.Split(string(readFile(t, "../.dockerignore")), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			if strings.HasPrefix(l, "!") {
				t.Fatalf("exception %q: dockerignored does not handle them", l)
			}
			patterns = append(patterns, l)
		}
	}
	for _, p := range []string{".git/config", "bin/eventbridge", "data/jetstream", "eventbridge"} {
		if !dockerignored(patterns, p) {
			t.Errorf(".dockerignore sends %s to the build", p)
		}
	}
	// What the build needs: the module, the sources, what COPY names.
	need := []string{"go.mod", "go.sum", "cmd/eventbridge/main.go", "internal/api/openapi.yaml", "internal/version/version.go"}
	for _, in := range parseDockerfile(string(readFile(t, "../Dockerfile"))) {
		if f := strings.Fields(in.args); in.cmd == "COPY" && !strings.HasPrefix(f[0], "--from") && f[0] != "." {
			need = append(need, f[:len(f)-1]...)
		}
	}
	for _, p := range need {
		if _, err := os.Stat(filepath.Join("..", p)); err != nil || dockerignored(patterns, p) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", p)
		}
	}
}
