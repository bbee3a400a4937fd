package connector

import (
	"encoding/json"
	"mime"
	"strings"
)

// LooksStructured reports whether a message body is a JSON object with a
// specversion member: a structured-mode event sent without its content
// type.
func LooksStructured(body []byte) bool {
	var probe struct {
		SpecVersion json.RawMessage `json:"specversion"`
	}
	return json.Unmarshal(body, &probe) == nil && probe.SpecVersion != nil
}

// MediaType returns the lower-case media type of a content type, without
// parameters.
func MediaType(ct string) string {
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
