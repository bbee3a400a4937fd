// Package problem writes errors as application/problem+json (RFC 9457).
// Every problem the bridge returns comes from the catalog below, so a
// client can rely on its type and code.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// ContentType is the media type of problem documents.
const ContentType = "application/problem+json"

// docBase prefixes each problem type: the docs page that explains it.
const docBase = "https://github.com/eventbridge-dev/eventbridge/blob/main/docs/problems.md#"

// Kind is an entry of the catalog.
type Kind struct {
	Code   string
	Status int
	Title  string
}

// The catalog.
var (
	InvalidEvent         = Kind{"invalid-event", http.StatusBadRequest, "The event is not a valid CloudEvent"}
	InvalidBatch         = Kind{"invalid-batch", http.StatusBadRequest, "Some events of the batch are invalid; none was accepted"}
	InvalidRequest       = Kind{"invalid-request", http.StatusBadRequest, "The request is not valid"}
	InvalidResource      = Kind{"invalid-resource", http.StatusBadRequest, "The resource is not valid"}
	Unauthorized         = Kind{"unauthorized", http.StatusUnauthorized, "Authentication is required"}
	Forbidden            = Kind{"forbidden", http.StatusForbidden, "The credentials do not allow this"}
	NotFound             = Kind{"not-found", http.StatusNotFound, "Not found"}
	MethodNotAllowed     = Kind{"method-not-allowed", http.StatusMethodNotAllowed, "Method not allowed"}
	Conflict             = Kind{"conflict", http.StatusConflict, "The request conflicts with the current state"}
	PreconditionFailed   = Kind{"precondition-failed", http.StatusPreconditionFailed, "The resource changed since it was read"}
	TooLarge             = Kind{"too-large", http.StatusRequestEntityTooLarge, "The request body is over the size limit"}
	TooManyExtensions    = Kind{"too-many-extensions", http.StatusBadRequest, "The event has too many extensions, or too large ones"}
	HeadersTooLarge      = Kind{"headers-too-large", http.StatusRequestHeaderFieldsTooLarge, "The event's attribute headers are over a limit"}
	UnsupportedMediaType = Kind{"unsupported-media-type", http.StatusUnsupportedMediaType, "The content type cannot be read"}
	TooManyRequests      = Kind{"too-many-requests", http.StatusTooManyRequests, "Too many requests"}
	Unavailable          = Kind{"unavailable", http.StatusServiceUnavailable, "The bridge cannot store events right now"}
	StorageFull          = Kind{"storage-full", http.StatusInsufficientStorage, "The bridge has no storage left for events"}
	Busy                 = Kind{"busy", http.StatusServiceUnavailable, "The source serves as many requests as it may"}
	RequestTimeout       = Kind{"request-timeout", http.StatusRequestTimeout, "The request body was not received in time"}
	Internal             = Kind{"internal", http.StatusInternalServerError, "Internal error"}
)

// FieldError is one problem with one field of the request.
type FieldError struct {
	// Index is the entry of a batch the error is about, when it is one.
	Index *int `json:"index,omitempty"`
	// Field names the attribute or JSON path ("id", "rules.x.filter").
	Field  string `json:"field"`
	Reason string `json:"reason"`
	Line   int    `json:"line,omitempty"`
}

// Problem is an RFC 9457 problem document with our extensions.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Code     string       `json:"code"`
	Errors   []FieldError `json:"errors,omitempty"`
	// ErrorsOmitted counts the errors Write left out: a document lists
	// at most MaxErrors.
	ErrorsOmitted int `json:"errors_omitted,omitempty"`
	// RetryAfter, in seconds, is also sent as the Retry-After header.
	RetryAfter int `json:"-"`
}

// MaxErrors is the most field errors a problem document lists, and
// MaxDetail the most bytes of its detail: a small request (a batch of
// 100,000 empty objects) must not get an answer of many megabytes.
const (
	MaxErrors = 100
	MaxDetail = 2048
)

// New returns a problem of kind k with a detail text.
func New(k Kind, detail string) *Problem {
	return &Problem{Type: docBase + k.Code, Title: k.Title, Status: k.Status, Code: k.Code, Detail: detail}
}

// WithErrors adds field errors.
func (p *Problem) WithErrors(errs ...FieldError) *Problem {
	p.Errors = append(p.Errors, errs...)
	return p
}

// Error implements error, so handlers can return problems.
func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Title + ": " + p.Detail
	}
	return p.Title
}

// Write sends p as the response.
func (p *Problem) Write(w http.ResponseWriter, r *http.Request) {
	if p.Instance == "" && r != nil {
		p.Instance = r.URL.Path
	}
	p.truncate()
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// Write sends a problem of kind k.
func Write(w http.ResponseWriter, r *http.Request, k Kind, detail string) {
	New(k, detail).Write(w, r)
}

// truncate bounds the document: the first MaxErrors errors with a count
// of the others, and a detail cut at MaxDetail bytes (on a rune boundary).
func (p *Problem) truncate() {
	if n := len(p.Errors); n > MaxErrors {
		p.ErrorsOmitted += n - MaxErrors
		p.Errors = p.Errors[:MaxErrors:MaxErrors]
	}
	if len(p.Detail) > MaxDetail {
		cut := MaxDetail
		for cut > 0 && !utf8.RuneStart(p.Detail[cut]) {
			cut--
		}
		p.Detail = p.Detail[:cut] + " …"
	}
}
