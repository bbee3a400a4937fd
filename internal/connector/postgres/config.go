package postgres

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// ClientConfig is how source and target reach the database.
type ClientConfig struct {
	// URL is a connection string: postgres://user:password@host:5432/db
	// (or key=value form). Required.
	URL spec.Secret `json:"url"`
	// TLS, when set, replaces the URL's sslmode.
	TLS connector.TLS `json:"tls,omitempty"`
}

func (c *ClientConfig) validate(p spec.Problems) {
	if c.URL == "" {
		p.AddAt("url", "required: a connection string, postgres://user@host:5432/db")
	} else if _, err := pgx.ParseConfig(c.URL.Value()); err != nil {
		p.AddAt("url", "%v", redact(err, c.URL.Value()))
	}
	c.TLS.Validate(p.At("tls"))
}

// redact keeps a connection string's password out of an error message.
func redact(err error, url string) error {
	cfg, perr := pgx.ParseConfig(url)
	if perr != nil || cfg.Password == "" {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), cfg.Password, "***"))
}

// connConfig is the connection's config; a non-nil guard holds every
// connection (fallback hosts too) to the address dialled, and refuses
// unix sockets.
func (c *ClientConfig) connConfig(guard *netguard.Guard) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(c.URL.Value())
	if err != nil {
		return nil, redact(err, c.URL.Value())
	}
	guardDial(cfg, guard)
	if err := c.applyTLS(cfg); err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	return cfg, nil
}

func (c *ClientConfig) poolConfig(maxConns int32, guard *netguard.Guard) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(c.URL.Value())
	if err != nil {
		return nil, redact(err, c.URL.Value())
	}
	guardDial(cfg.ConnConfig, guard)
	if err := c.applyTLS(cfg.ConnConfig); err != nil {
		return nil, err
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	cfg.MaxConns = maxConns
	cfg.HealthCheckPeriod = 5 * time.Second
	return cfg, nil
}

func guardDial(cfg *pgx.ConnConfig, guard *netguard.Guard) {
	if guard != nil {
		// pgconn does TLS itself, after dialling.
		cfg.DialFunc = guard.Dialer(&net.Dialer{KeepAlive: 5 * time.Minute}).DialContext
	}
}

func (c *ClientConfig) applyTLS(cfg *pgx.ConnConfig) error {
	tc, err := c.TLS.Build()
	if err != nil || tc == nil {
		return err
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	cfg.TLSConfig = tc
	cfg.Fallbacks = nil
	return nil
}

// Columns name the columns of an events table. "-" marks a column the
// table does not have (the attribute then comes from the attributes
// column, if at all).
type Columns struct {
	ID              string `json:"id,omitempty"`
	Source          string `json:"source,omitempty"`
	Type            string `json:"type,omitempty"`
	Time            string `json:"time,omitempty"`
	Subject         string `json:"subject,omitempty"`
	Attributes      string `json:"attributes,omitempty"`
	Data            string `json:"data,omitempty"`
	DataContentType string `json:"datacontenttype,omitempty"`
}

func (c *Columns) defaults() {
	for _, f := range []struct {
		p   *string
		def string
	}{{&c.ID, "id"}, {&c.Source, "source"}, {&c.Type, "type"}, {&c.Time, "time"}, {&c.Subject, "subject"},
		{&c.Attributes, "attributes"}, {&c.Data, "data"}, {&c.DataContentType, "datacontenttype"}} {
		if *f.p == "" {
			*f.p = f.def
		}
	}
}

// list returns the columns in a fixed order, with their config names.
func (c *Columns) list() [][2]string {
	return [][2]string{{"id", c.ID}, {"source", c.Source}, {"type", c.Type}, {"time", c.Time}, {"subject", c.Subject},
		{"attributes", c.Attributes}, {"data", c.Data}, {"datacontenttype", c.DataContentType}}
}

// ident quotes a possibly schema-qualified name ("audit.events").
func ident(name string) string { return pgx.Identifier(strings.Split(name, ".")).Sanitize() }

// validName checks a table or column name: one or two dot-separated parts
// of at most 63 bytes, no NUL.
func validName(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 63 || strings.ContainsRune(p, 0) {
			return false
		}
	}
	return true
}

var _ connector.Config = (*SourceConfig)(nil)

// OutboundAddresses implements connector.Outbound: the hosts of the
// connection string (URL or key=value form), fallbacks included.
func (c *ClientConfig) OutboundAddresses() []connector.Address {
	pc, err := pgx.ParseConfig(c.URL.Value())
	if err != nil {
		return nil // refused by validate
	}
	out := []connector.Address{{Field: "url", Value: pc.Host}}
	for _, f := range pc.Fallbacks {
		out = append(out, connector.Address{Field: "url", Value: f.Host})
	}
	return out
}

// validateTableOrChannel checks that a source or target names exactly one
// of a table and a channel, and a valid one.
func validateTableOrChannel(p spec.Problems, table, channel string) {
	switch {
	case table == "" && channel == "":
		p.Add("one of table and channel is required")
	case table != "" && channel != "":
		p.AddAt("channel", "table and channel exclude each other")
	}
	if table != "" && !validName(table) {
		p.AddAt("table", "%q is not a table name ([schema.]name, each at most 63 bytes)", table)
	}
	if channel != "" && (!validName(channel) || strings.Contains(channel, ".")) {
		p.AddAt("channel", "%q is not a channel name (at most 63 bytes, no dot)", channel)
	}
}
