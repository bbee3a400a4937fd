// Package filtertest holds test data shared by the benchmarks and tests of
// the filter and its users: rule sets shaped like bench's rules scenario.
package filtertest

import (
	"fmt"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// ScalePatterns returns n EventBridge patterns shaped as bench's rules
// scenario makes them (bench/cmd/benchrun, rulesYAML): pattern 0 matches
// ScaleEvent (type prefix com.example., data.total ≥ 0); one in a hundred
// also selects its type (prefix com.example.order.) but misses on a data
// field (anything-but its region, a numeric bound above its total); the
// others use prefix, numeric, anything-but and data-field conditions on
// other types and sources.
func ScalePatterns(n int) []string {
	out := make([]string, n)
	for i := range out {
		switch {
		case i == 0:
			out[i] = `{"type": [{"prefix": "com.example."}], "data": {"total": [{"numeric": [">=", 0]}]}}`
		case i%100 == 0:
			out[i] = fmt.Sprintf(`{"type": [{"prefix": "com.example.order."}], "data": {"region": [{"anything-but": ["eu-west-1"]}], "total": [{"numeric": [">", %d]}]}}`, i)
		case i%4 == 0:
			out[i] = fmt.Sprintf(`{"type": [{"prefix": "svc%d."}], "data": {"region": [{"anything-but": ["eu-%d"]}]}}`, i, i)
		case i%4 == 1:
			out[i] = fmt.Sprintf(`{"type": ["billing.invoice.%d"], "data": {"amount": [{"numeric": [">", %d, "<=", %d]}]}}`, i, i, i*10)
		case i%4 == 2:
			out[i] = fmt.Sprintf(`{"source": [{"prefix": "urn:app:%d"}], "data": {"status": ["failed", "error-%d"]}}`, i, i)
		default:
			out[i] = fmt.Sprintf(`{"type": [{"anything-but": {"prefix": "com.example."}}], "data": {"tenant": ["t%d"], "level": [{"numeric": [">", 3]}]}}`, i)
		}
	}
	return out
}

// ScaleData is the data of the bench's load generator's events.
const ScaleData = `{"orderId":"ord-20260121-000417","customer":{"id":"cust-4821",` +
	`"name":"Ada Lovelace","email":"ada@example.com","tier":"gold"},` +
	`"items":[{"sku":"SKU-1001","qty":2,"price":19.99},{"sku":"SKU-2002","qty":1,"price":5.49}],` +
	`"total":45.47,"currency":"EUR","channel":"web","region":"eu-west-1",` +
	`"note":"gift wrap"}`

// ScaleEvent returns an event like the bench's load generator sends: it
// matches pattern 0 of ScalePatterns and no other.
func ScaleEvent(id string) *ce.Event {
	e := ce.New()
	e.SetID(id)
	e.SetSource("/bench/loadgen")
	e.SetType("com.example.order.created")
	e.SetDataContentType("application/json")
	e.DataEncoded = []byte(ScaleData) // as the HTTP source keeps a binary-mode body
	return &e
}
