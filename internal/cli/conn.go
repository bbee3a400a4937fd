package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/eventbridge-dev/eventbridge/internal/version"
	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

// defaultServer is the bridge the API commands talk to when nothing says
// otherwise: api.listen's default.
const defaultServer = "http://127.0.0.1:8080"

// Environment variables of the API commands.
const (
	envServer   = "EVENTBRIDGE_SERVER"
	envToken    = "EVENTBRIDGE_TOKEN"
	envContext  = "EVENTBRIDGE_CONTEXT"
	envCAFile   = "EVENTBRIDGE_CA_FILE"
	envCertFile = "EVENTBRIDGE_CERT_FILE"
	envKeyFile  = "EVENTBRIDGE_KEY_FILE"
	// envConfig names the CLI's config file instead of
	// ~/.config/eventbridge/config.yaml.
	envConfig = "EVENTBRIDGE_CLIENT_CONFIG"
)

// connSettings say how to reach a bridge.
type connSettings struct {
	Server   string `yaml:"server"`
	Token    string `yaml:"token"`
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// cliConfig is ~/.config/eventbridge/config.yaml: settings at the top
// level, and named contexts that override them.
//
//	server: https://bridge.example:8080
//	token: ...
//	current_context: prod
//	contexts:
//	  prod: {server: https://prod.example:8080, token: ..., ca_file: /etc/eb/ca.pem}
type cliConfig struct {
	Top            connSettings            `yaml:",inline"`
	CurrentContext string                  `yaml:"current_context"`
	Contexts       map[string]connSettings `yaml:"contexts"`
}

// conn holds the global connection flags and builds clients from them,
// the environment and the config file (in that order of precedence).
type conn struct {
	flags   connSettings
	context string
	timeout time.Duration
}

func (c *conn) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.flags.Server, "server", defaultServer, "the bridge's URL (env "+envServer+")")
	fs.StringVar(&c.flags.Token, "token", "", "API bearer token (env "+envToken+")")
	fs.StringVar(&c.context, "context", "", "a named context of the config file (env "+envContext+")")
	fs.StringVar(&c.flags.CAFile, "ca-file", "", "PEM CA certificates to trust for https (env "+envCAFile+")")
	fs.StringVar(&c.flags.CertFile, "cert-file", "", "client certificate for mutual TLS (env "+envCertFile+")")
	fs.StringVar(&c.flags.KeyFile, "key-file", "", "client certificate's key (env "+envKeyFile+")")
	fs.DurationVar(&c.timeout, "request-timeout", 30*time.Second, "timeout of each API request")
}

// configPath is where the CLI's config file is.
func configPath() string {
	if p := os.Getenv(envConfig); p != "" {
		return p
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "eventbridge", "config.yaml")
}

// resolve returns the settings: each from its flag when given, else the
// environment, else the config file's context, else its top level.
func (c *conn) resolve(cmd *cobra.Command) (connSettings, error) {
	var file connSettings
	path := configPath()
	ctxName := c.context
	if !flagChanged(cmd, "context") {
		ctxName = os.Getenv(envContext)
	}
	if path != "" {
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if ctxName != "" {
				return connSettings{}, fmt.Errorf("context %q: no config file %s", ctxName, path)
			}
		case err != nil:
			return connSettings{}, err
		default:
			var cfg cliConfig
			if err := yaml.UnmarshalWithOptions(b, &cfg, yaml.DisallowUnknownField()); err != nil {
				return connSettings{}, fmt.Errorf("%s: %s", path, yaml.FormatError(err, false, true))
			}
			file = cfg.Top
			if ctxName == "" {
				ctxName = cfg.CurrentContext
			}
			if ctxName != "" {
				named, ok := cfg.Contexts[ctxName]
				if !ok {
					return connSettings{}, fmt.Errorf("%s: no context %q", path, ctxName)
				}
				file = overlay(file, named)
			}
		}
	}
	s := file
	s = overlay(s, connSettings{
		Server: os.Getenv(envServer), Token: os.Getenv(envToken),
		CAFile: os.Getenv(envCAFile), CertFile: os.Getenv(envCertFile), KeyFile: os.Getenv(envKeyFile),
	})
	for name, dst := range map[string]*string{"server": &s.Server, "token": &s.Token, "ca-file": &s.CAFile, "cert-file": &s.CertFile, "key-file": &s.KeyFile} {
		if flagChanged(cmd, name) {
			*dst = cmd.Flag(name).Value.String()
		}
	}
	if s.Server == "" {
		s.Server = defaultServer
	}
	if !strings.Contains(s.Server, "://") {
		s.Server = "http://" + s.Server
	}
	return s, nil
}

// overlay returns base with the non-empty fields of top.
func overlay(base, top connSettings) connSettings {
	pick := func(a, b string) string {
		if b != "" {
			return b
		}
		return a
	}
	return connSettings{
		Server: pick(base.Server, top.Server), Token: pick(base.Token, top.Token),
		CAFile: pick(base.CAFile, top.CAFile), CertFile: pick(base.CertFile, top.CertFile), KeyFile: pick(base.KeyFile, top.KeyFile),
	}
}

func flagChanged(cmd *cobra.Command, name string) bool {
	f := cmd.Flag(name)
	return f != nil && f.Changed
}

// client returns a client of the bridge; its errors are usage errors.
func (c *conn) client(cmd *cobra.Command) (*client.Client, error) {
	s, err := c.resolve(cmd)
	if err != nil {
		return nil, usageError(err)
	}
	opts := []client.Option{client.WithUserAgent("eventbridge-cli/" + version.Version), client.WithTimeout(c.timeout)}
	if s.Token != "" {
		opts = append(opts, client.WithToken(s.Token))
	}
	if s.CAFile != "" || s.CertFile != "" || s.KeyFile != "" {
		opts = append(opts, client.WithTLS(s.CAFile, s.CertFile, s.KeyFile))
	}
	cl, err := client.New(s.Server, opts...)
	if err != nil {
		return nil, usageError(err)
	}
	return cl, nil
}
