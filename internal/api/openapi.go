package api

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/goccy/go-yaml"
)

//go:embed openapi.yaml
var openapiYAML []byte

var (
	openapiOnce sync.Once
	openapiJSON []byte
)

// OpenAPI returns the API's OpenAPI 3.1 document as JSON.
func OpenAPI() []byte {
	openapiOnce.Do(func() {
		var doc any
		if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
			panic("api: openapi.yaml: " + err.Error())
		}
		b, err := json.Marshal(doc)
		if err != nil {
			panic("api: openapi.yaml: " + err.Error())
		}
		openapiJSON = b
	})
	return openapiJSON
}

func (a *API) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(OpenAPI())
}
