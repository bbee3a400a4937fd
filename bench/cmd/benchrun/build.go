package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// modulePath is the module whose bench/ this runner belongs to.
const modulePath = "github.com/eventbridge-dev/eventbridge"

// helpers are the benchmark programs the runner starts.
type helpers struct {
	sink, forwarder, loadgen string
}

// helpersIn names the programs in dir.
func helpersIn(dir string) helpers {
	return helpers{
		sink:      filepath.Join(dir, "sink"),
		forwarder: filepath.Join(dir, "forwarder"),
		loadgen:   filepath.Join(dir, "loadgen"),
	}
}

// buildHelpers compiles sink, forwarder and loadgen into dir.
func buildHelpers(ctx context.Context, root, dir string) (helpers, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator),
		"./bench/cmd/sink", "./bench/cmd/forwarder", "./bench/cmd/loadgen")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return helpers{}, fmt.Errorf("go build: %w\n%s", err, out)
	}
	return helpersIn(dir), nil
}

// checkHelpers verifies that prebuilt programs exist in dir.
func checkHelpers(dir string) (helpers, error) {
	h := helpersIn(dir)
	for _, p := range []string{h.sink, h.forwarder, h.loadgen} {
		if _, err := os.Stat(p); err != nil {
			return h, fmt.Errorf("--bin-dir: %w", err)
		}
	}
	return h, nil
}

// findModuleRoot walks up from dir to the directory whose go.mod declares
// modulePath.
func findModuleRoot(dir string) (string, error) {
	for {
		if isOurModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the " + modulePath + " module")
		}
		dir = parent
	}
}

func isOurModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`) == modulePath
		}
	}
	return false
}
