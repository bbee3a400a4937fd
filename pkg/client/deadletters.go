package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// DeadLetter is a delivery that failed for good, with its event.
type DeadLetter struct {
	// ID is its sequence in the dead-letter queue.
	ID     uint64 `json:"id"`
	Rule   string `json:"rule"`
	Target string `json:"target"`
	// Reason is why it failed for good: "permanent" (the target refused
	// it), "max_attempts", "max_age", "transform", ...
	Reason     string `json:"reason"`
	Attempts   int    `json:"attempts"`
	LastStatus int    `json:"last_status,omitempty"`
	Error      string `json:"error,omitempty"`
	// FirstTry is the first delivery attempt.
	FirstTry *time.Time `json:"first_try,omitempty"`
	// Time is when it was dead-lettered.
	Time time.Time `json:"time"`
	// Event is the CloudEvent in its JSON form.
	Event map[string]any `json:"event"`
}

// DeadLetterList is a page of dead letters.
type DeadLetterList struct {
	Items []*DeadLetter `json:"items"`
	// NextPageToken, when set, is the PageToken of the next page.
	NextPageToken string `json:"next_page_token,omitempty"`
}

// DeadLetterQuery selects dead letters of a rule; empty fields select all.
type DeadLetterQuery struct {
	Target string
	// Type and Source are event attributes that must match exactly.
	Type, Source string
	Reason       string
	// Limit is the page size (1-1000; 0: the server's default, 100).
	Limit     int
	PageToken string
}

func (q *DeadLetterQuery) values() url.Values {
	v := url.Values{}
	if q == nil {
		return v
	}
	setNonEmpty(v, "target", q.Target)
	setNonEmpty(v, "type", q.Type)
	setNonEmpty(v, "source", q.Source)
	setNonEmpty(v, "reason", q.Reason)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	setNonEmpty(v, "page_token", q.PageToken)
	return v
}

// DeadLetterFilter selects the dead letters to redrive or purge; empty
// fields select all.
type DeadLetterFilter struct {
	Target string `json:"target,omitempty"`
	// Type and Source are event attributes that must match exactly.
	Type   string `json:"type,omitempty"`
	Source string `json:"source,omitempty"`
	Reason string `json:"reason,omitempty"`
	// IDs selects these letters only.
	IDs []uint64 `json:"ids,omitempty"`
}

// DeadLetters returns one page of a rule's dead letters, oldest first.
func (c *Client) DeadLetters(ctx context.Context, rule string, q *DeadLetterQuery) (*DeadLetterList, error) {
	var out DeadLetterList
	if _, _, err := c.do(ctx, request{method: http.MethodGet, path: deadLettersPath(rule), query: q.values()}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllDeadLetters iterates over every dead letter of a rule that q selects,
// fetching page after page. It stops at the first error, which it yields.
func (c *Client) AllDeadLetters(ctx context.Context, rule string, q *DeadLetterQuery) iter.Seq2[*DeadLetter, error] {
	o := DeadLetterQuery{}
	if q != nil {
		o = *q
	}
	return pages(func(token string) ([]*DeadLetter, string, error) {
		o.PageToken = token
		l, err := c.DeadLetters(ctx, rule, &o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.NextPageToken, nil
	}, o.PageToken)
}

// DeadLetter returns one dead letter of a rule.
func (c *Client) DeadLetter(ctx context.Context, rule string, id uint64) (*DeadLetter, error) {
	var out DeadLetter
	path := deadLettersPath(rule) + "/" + strconv.FormatUint(id, 10)
	if _, _, err := c.do(ctx, request{method: http.MethodGet, path: path}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Redrive starts sending a rule's dead letters that f selects (nil: all)
// to their targets again, and returns the operation; Wait for its end.
func (c *Client) Redrive(ctx context.Context, rule string, f *DeadLetterFilter) (*Operation, error) {
	r := request{method: http.MethodPost, path: deadLettersPath(rule) + ":redrive"}
	if f != nil {
		r.body = f
	}
	return c.startOp(ctx, r)
}

// RedriveOne starts sending one dead letter to its target again.
func (c *Client) RedriveOne(ctx context.Context, rule string, id uint64) (*Operation, error) {
	return c.startOp(ctx, request{method: http.MethodPost, path: deadLettersPath(rule) + "/" + strconv.FormatUint(id, 10) + ":redrive"})
}

// Purge removes a rule's dead letters that f selects (nil: all) and
// returns how many it removed. It needs the admin scope.
func (c *Client) Purge(ctx context.Context, rule string, f *DeadLetterFilter) (int, error) {
	r := request{method: http.MethodPost, path: deadLettersPath(rule) + ":purge"}
	if f != nil {
		r.body = f
	}
	var out struct {
		Purged int `json:"purged"`
	}
	if _, _, err := c.do(ctx, r, &out); err != nil {
		return 0, err
	}
	return out.Purged, nil
}

// Redrives lists the redrives the bridge remembers (they live in the
// memory of the process that runs them).
func (c *Client) Redrives(ctx context.Context) ([]*Operation, error) {
	return c.listOps(ctx, OpRedrive)
}

// GetRedrive returns a redrive.
func (c *Client) GetRedrive(ctx context.Context, id string) (*Operation, error) {
	return c.GetOperation(ctx, OpRedrive, id)
}

func deadLettersPath(rule string) string { return resourcePath(KindRule, rule) + "/deadletters" }

func setNonEmpty(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}
