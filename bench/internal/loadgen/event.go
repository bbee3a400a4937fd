package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/httpclient"
)

// Body is the JSON payload of every event, about 300 bytes: a plausible
// order with nested objects, so parsers and filters see realistic data.
var Body = []byte(`{"orderId":"ord-20260121-000417","customer":{"id":"cust-4821",` +
	`"name":"Ada Lovelace","email":"ada@example.com","tier":"gold"},` +
	`"items":[{"sku":"SKU-1001","qty":2,"price":19.99},{"sku":"SKU-2002","qty":1,"price":5.49}],` +
	`"total":45.47,"currency":"EUR","channel":"web","region":"eu-west-1",` +
	`"note":"gift wrap"}`)

// Default event attributes. The type matches the benchmark rule's
// prefix filter "com.example.".
const (
	DefaultSource = "/bench/loadgen"
	DefaultType   = "com.example.order.created"
)

// Target sends binary-mode CloudEvents (HTTP binding) to one URL.
type Target struct {
	URL    string
	Client *http.Client
	Source string
	Type   string
	// IDPrefix makes ids unique across runs: an event's ce-id is
	// IDPrefix followed by the job's sequence number.
	IDPrefix string
}

// NewTarget returns a Target for url with the default attributes, a random
// id prefix and a client sized for conns concurrent requests.
func NewTarget(url string, conns int, timeout time.Duration) *Target {
	return &Target{
		URL:      url,
		Client:   httpclient.New(conns, timeout),
		Source:   DefaultSource,
		Type:     DefaultType,
		IDPrefix: RandomPrefix(),
	}
}

// RandomPrefix returns 16 random hex digits and a dash.
func RandomPrefix() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails, per crypto/rand
	return hex.EncodeToString(b[:]) + "-"
}

// Static header values, shared read-only by every request.
var (
	specVersion = []string{"1.0"}
	contentJSON = []string{"application/json"}
)

// Send posts job j as one event whose ce-time is j's intended time, and
// reads the whole response so the connection is reused. It is a SendFunc.
func (t *Target) Send(ctx context.Context, j Job) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(Body))
	if err != nil {
		return 0, err
	}
	req.Header = http.Header{
		"Ce-Specversion": specVersion,
		"Ce-Id":          {t.IDPrefix + strconv.FormatUint(j.Seq, 10)},
		"Ce-Source":      {t.Source},
		"Ce-Type":        {t.Type},
		"Ce-Time":        {j.Intended.UTC().Format(time.RFC3339Nano)},
		"Content-Type":   contentJSON,
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}
