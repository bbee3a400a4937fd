package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit/bridgetest"
)

// result is what a command line printed and its exit code.
type result struct {
	out, err string
	code     int
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.out + "stderr:\n" + r.err
}

// isolate keeps the tests from the user's environment and config file.
func isolate(t *testing.T) {
	t.Helper()
	for _, k := range []string{envServer, envToken, envContext, envCAFile, envCertFile, envKeyFile} {
		t.Setenv(k, "")
	}
	t.Setenv(envConfig, filepath.Join(t.TempDir(), "none.yaml"))
}

// cli runs a command line as Execute does, with the bridge at server.
func cli(t *testing.T, server string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return cliCtx(ctx, server, args...)
}

func cliCtx(ctx context.Context, server string, args ...string) result {
	var out, errb syncBuffer
	root := NewRoot(&out, &errb)
	if server != "" {
		args = append([]string{"--server", server}, args...)
	}
	root.SetArgs(args)
	root.SetIn(strings.NewReader(""))
	code := report(&errb, root.ExecuteContext(ctx))
	return result{out: out.String(), err: errb.String(), code: code}
}

// startBridge runs a bridge and isolates the test; it returns the URL.
func startBridge(t *testing.T, yamlText string) string {
	t.Helper()
	isolate(t)
	_, url := bridgetest.Start(t, yamlText)
	return url
}

// writeFile writes a file in a temp dir and returns its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// wantLines checks that each of want appears in text, in order.
func wantInOrder(t *testing.T, what, text string, want ...string) {
	t.Helper()
	rest := text
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("%s: want %q (in this order) in:\n%s", what, w, text)
			return
		}
		rest = rest[i+len(w):]
	}
}
