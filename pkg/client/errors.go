package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Codes of the problems the API answers (the "code" member; see
// docs/problems.md).
const (
	CodeInvalidEvent         = "invalid-event"
	CodeInvalidRequest       = "invalid-request"
	CodeInvalidResource      = "invalid-resource"
	CodeUnauthorized         = "unauthorized"
	CodeForbidden            = "forbidden"
	CodeNotFound             = "not-found"
	CodeMethodNotAllowed     = "method-not-allowed"
	CodeConflict             = "conflict"
	CodePreconditionFailed   = "precondition-failed"
	CodeTooLarge             = "too-large"
	CodeTooManyExtensions    = "too-many-extensions"
	CodeHeadersTooLarge      = "headers-too-large"
	CodeUnsupportedMediaType = "unsupported-media-type"
	CodeTooManyRequests      = "too-many-requests"
	CodeUnavailable          = "unavailable"
	CodeBusy                 = "busy"
	CodeRequestTimeout       = "request-timeout"
	CodeInternal             = "internal"
)

// Sentinel errors.
var (
	// ErrOperationFailed is wrapped by Wait's error when the operation
	// ended in state "failed".
	ErrOperationFailed = errors.New("operation failed")
	// ErrOperationCancelled is wrapped by Wait's error when the operation
	// was cancelled.
	ErrOperationCancelled = errors.New("operation cancelled")
	// ErrStreamEnded is returned by Stream when the server closed the
	// stream.
	ErrStreamEnded = errors.New("event stream ended")
)

// Error is an error answer of the API: its problem document (RFC 9457).
// An answer that is not a problem document (a proxy's error page) gives an
// Error with Status, Title (the status text) and the start of the body as
// Detail.
type Error struct {
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Type is a URL naming the kind of problem.
	Type string `json:"type,omitempty"`
	// Title is the kind of problem in words.
	Title string `json:"title,omitempty"`
	// Detail is about this occurrence.
	Detail string `json:"detail,omitempty"`
	// Instance is the request path.
	Instance string `json:"instance,omitempty"`
	// Code is a stable token for the kind of problem (the Code… constants).
	Code string `json:"code,omitempty"`
	// Errors are the problems with single fields of the request.
	Errors []FieldError `json:"errors,omitempty"`
	// ErrorsOmitted counts the field errors the server left out of Errors,
	// which holds at most the first 100.
	ErrorsOmitted int `json:"errors_omitted,omitempty"`
	// RetryAfter is the Retry-After header's delay, when one was sent.
	RetryAfter time.Duration `json:"-"`
}

// FieldError is a problem with one field of a request.
type FieldError struct {
	// Field names the field: "spec.url", "rule", "If-Match".
	Field string `json:"field"`
	// Reason says what is wrong with it.
	Reason string `json:"reason"`
	// Index is the entry of a batch the error is about, when it is one.
	Index *int `json:"index,omitempty"`
	// Line is a line of a config file, when the server knows one.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
}

// Error returns the title and detail, and each field error after them.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Title)
	if b.Len() == 0 {
		b.WriteString(http.StatusText(e.Status))
	}
	if d := e.uniqueDetail(); d != "" {
		b.WriteString(": " + d)
	}
	for _, f := range e.Errors {
		b.WriteString("; " + f.String())
	}
	return b.String()
}

// uniqueDetail returns the detail, less its lines that only repeat a field
// error (the API's validation detail lists every problem once more).
func (e *Error) uniqueDetail() string {
	if len(e.Errors) == 0 {
		return e.Detail
	}
	known := map[string]bool{}
	for _, f := range e.Errors {
		known[f.Field+": "+f.Reason] = true
	}
	var keep []string
	for _, line := range strings.Split(e.Detail, "\n") {
		if line = strings.TrimSpace(line); line != "" && !known[line] {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// Lines returns the error for people: the title and detail on the first
// line, then each field error on a line of its own.
func (e *Error) Lines() []string {
	first := e.Title
	if first == "" {
		first = http.StatusText(e.Status)
	}
	lines := []string{first}
	if d := e.uniqueDetail(); d != "" {
		parts := strings.Split(d, "\n")
		lines[0] += ": " + parts[0]
		lines = append(lines, parts[1:]...)
	}
	for _, f := range e.Errors {
		lines = append(lines, f.String())
	}
	return lines
}

// String returns "field: reason" (with the batch index when there is one).
func (f FieldError) String() string {
	s := f.Field + ": " + f.Reason
	if f.Index != nil {
		s = fmt.Sprintf("[%d] %s", *f.Index, s)
	}
	return s
}

// errorFrom reads an error answer.
func errorFrom(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	e := &Error{}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if (mt == "application/problem+json" || mt == "application/json") && json.Unmarshal(body, e) == nil && (e.Title != "" || e.Code != "") {
		e.Status = resp.StatusCode
	} else {
		e = &Error{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
		if d := strings.TrimSpace(string(body)); d != "" {
			if len(d) > 300 {
				d = d[:300] + "…"
			}
			e.Detail = d
		}
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
	}
	return e
}

// StatusCode returns the HTTP status of an API error in err's chain, or 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// IsConflict reports whether err is a 409 answer: a resource from the
// config file, one still used by a rule, a rule not running here.
func IsConflict(err error) bool { return StatusCode(err) == http.StatusConflict }

// IsPreconditionFailed reports whether err is a 412 answer: the resource
// changed since the revision given in If-Match.
func IsPreconditionFailed(err error) bool { return StatusCode(err) == http.StatusPreconditionFailed }

// IsUnauthorized reports whether err is a 401 answer (no or unknown token).
func IsUnauthorized(err error) bool { return StatusCode(err) == http.StatusUnauthorized }

// IsForbidden reports whether err is a 403 answer (the token's scope is
// too small, or a non-loopback client of a bridge without tokens).
func IsForbidden(err error) bool { return StatusCode(err) == http.StatusForbidden }

// IsInvalid reports whether err is a 400 answer (an invalid request or
// resource; see the field errors).
func IsInvalid(err error) bool { return StatusCode(err) == http.StatusBadRequest }
