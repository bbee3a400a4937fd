package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"
	"github.com/spf13/cobra"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

type sendOpts struct {
	url, path, typ, source, id, subject, data, file, mode, contentType, token string
	exts                                                                      []string
	timeout                                                                   time.Duration
}

// envSendURL names the whole URL send posts to, as --url does.
const envSendURL = "EVENTBRIDGE_SEND_URL"

func newSend(c *conn, stdout io.Writer) *cobra.Command {
	o := &sendOpts{}
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Send one CloudEvent to an HTTP source",
		Long: `Send one CloudEvent to a bridge's http source (or any CloudEvents HTTP receiver).

Build it from flags, or read a JSON-format event with --file (- for stdin).
The event goes in binary mode (ce- headers) unless --mode structured.

It is posted to the bridge's main listener (--server, env EVENTBRIDGE_SERVER,
or the CLI config file's context, as for the API commands) at --path, the
path of the http source (default /events, as in the quickstart). --url (env
EVENTBRIDGE_SEND_URL) sets the whole URL instead and wins when set.`,
		Example: `  eventbridge send --type com.example.order.created --source /shop --data '{"total":42}'
  eventbridge send --server 127.0.0.1:9090 --path /audit --type t --source /s
  eventbridge send --file event.json --mode structured --url http://127.0.0.1:8080/events
  # held by the bridge until that time (the deliverat extension, within each rule's max_delay)
  eventbridge send --type t --source /s --ext deliverat=2026-12-24T18:00:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := o.event()
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			hint := "(is a bridge running there? see --url or " + envSendURL + ")"
			if o.url == "" {
				s, err := c.resolve(cmd)
				if err != nil {
					return usageError(err)
				}
				o.url = strings.TrimSuffix(s.Server, "/") + "/" + strings.TrimPrefix(o.path, "/")
				hint = "(is a bridge running there? see --server, " + envServer + " or the config file " + configPath() +
					"; --path for another source; --url or " + envSendURL + " for any URL)"
			}
			return withHint(o.send(cmd.Context(), e, stdout), hint)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", os.Getenv(envSendURL), "the whole URL to send to, instead of --server and --path (env "+envSendURL+")")
	f.StringVar(&o.path, "path", "/events", "the path of the http source on --server")
	f.StringVar(&o.typ, "type", "", "event type")
	f.StringVar(&o.source, "source", "", "event source")
	f.StringVar(&o.id, "id", "", "event id (default: a new UUID)")
	f.StringVar(&o.subject, "subject", "", "event subject")
	f.StringVar(&o.data, "data", "", "event data")
	f.StringVar(&o.contentType, "content-type", "application/json", "datacontenttype of --data")
	f.StringArrayVar(&o.exts, "ext", nil, "extension attribute name=value (repeatable)")
	f.StringVarP(&o.file, "file", "f", "", "a JSON-format event to send instead (- for stdin)")
	f.StringVar(&o.mode, "mode", "binary", "binary or structured")
	f.StringVar(&o.token, "token", os.Getenv("EVENTBRIDGE_SOURCE_TOKEN"), "bearer token of the source (env EVENTBRIDGE_SOURCE_TOKEN)")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "request timeout")
	return cmd
}

func (o *sendOpts) event() (*ce.Event, error) {
	if o.file != "" {
		var b []byte
		var err error
		if o.file == "-" {
			b, err = io.ReadAll(os.Stdin)
		} else {
			b, err = os.ReadFile(o.file)
		}
		if err != nil {
			return nil, err
		}
		return ebevent.DecodeJSON(b)
	}
	if o.typ == "" || o.source == "" {
		return nil, fmt.Errorf("--type and --source are required (or --file)")
	}
	e := ce.New()
	e.SetID(o.id)
	if o.id == "" {
		e.SetID(uuid.NewString())
	}
	e.SetType(o.typ)
	e.SetSource(o.source)
	e.SetTime(time.Now().UTC())
	if o.subject != "" {
		e.SetSubject(o.subject)
	}
	for _, kv := range o.exts {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--ext %q: want name=value", kv)
		}
		e.SetExtension(k, v)
	}
	if o.data != "" {
		if ebevent.IsJSONContentType(o.contentType) && !json.Valid([]byte(o.data)) {
			return nil, fmt.Errorf("--data is not valid JSON; set --content-type for other data")
		}
		e.SetDataContentType(o.contentType)
		e.DataEncoded = []byte(o.data)
	}
	if err := ebevent.Validate(&e); err != nil {
		return nil, err
	}
	return &e, nil
}

func (o *sendOpts) send(ctx context.Context, e *ce.Event, stdout io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var body []byte
	h := http.Header{}
	switch o.mode {
	case "structured":
		b, err := e.MarshalJSON()
		if err != nil {
			return err
		}
		body = b
		h.Set("Content-Type", "application/cloudevents+json; charset=utf-8")
	case "binary":
		for k, v := range ebevent.BinaryAttributes(e) {
			h.Set("ce-"+k, ebevent.PercentEncode(v))
		}
		if ct := e.DataContentType(); ct != "" {
			h.Set("Content-Type", ct)
		}
		body = e.Data()
	default:
		return &exitError{code: 2, err: fmt.Errorf("--mode must be binary or structured")}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, bytes.NewReader(body))
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	req.Header = h
	if o.token != "" {
		req.Header.Set("Authorization", "Bearer "+o.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("send to %s: %w", o.url, err)}
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return &exitError{code: 1, err: fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(rb)))}
	}
	fmt.Fprintf(stdout, "%s id=%s\n", resp.Status, e.ID())
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
