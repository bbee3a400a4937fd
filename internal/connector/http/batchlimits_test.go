package http

import (
	"runtime"
	"strings"
	"testing"
)

// bytesAllocated is how many bytes f allocates.
func bytesAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// repeatedArray is a JSON array of n copies of entry.
func repeatedArray(entry string, n int) string {
	return "[" + strings.Repeat(entry+",", n-1) + entry + "]"
}

// TestBatchAnswerIsSmall: a small batch of many entries, invalid or over
// max_batch_events, gets a small answer, and costs memory in proportion
// to its size (the entries are counted before any is decoded).
func TestBatchAnswerIsSmall(t *testing.T) {
	cases := []struct {
		name   string
		body   string
		edit   func(*SourceConfig)
		status int
		code   string
	}{
		// 200 KB: 100,000 empty objects.
		{"100,000 empty objects", repeatedArray("{}", 100000), nil, 413, "too-large"},
		// 10 MB: 5,000,000 numbers.
		{"5,000,000 numbers", repeatedArray("1", 5000000), nil, 413, "too-large"},
		// Let every entry in: each is refused, and the document lists
		// 100 of the 80,000 errors.
		{"20,000 empty objects, all decoded", repeatedArray("{}", 20000), func(c *SourceConfig) { c.MaxBatchEvents = 20000 }, 400, "invalid-batch"},
		{"20,000 numbers, all read", repeatedArray("1", 20000), func(c *SourceConfig) { c.MaxBatchEvents = 20000 }, 400, "invalid-batch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, rec := newTestSource(t, c.edit)
			req := post(c.body, "Content-Type", MediaBatch)
			var status int
			var answer []byte
			alloc := bytesAllocated(func() {
				w := serve(src, req)
				status, answer = w.Code, w.Body.Bytes()
			})
			t.Logf("%d-byte batch: %d-byte answer, %d bytes allocated", len(c.body), len(answer), alloc)
			if status != c.status {
				t.Fatalf("status %d, want %d", status, c.status)
			}
			if len(answer) > 64<<10 {
				t.Errorf("answer of %d bytes to a batch of %d", len(answer), len(c.body))
			}
			if !strings.Contains(string(answer), `"code":"`+c.code+`"`) {
				t.Errorf("answer %.300s", answer)
			}
			// Reading the body takes up to about 3 times its size (ReadAll
			// grows its buffer); decoding the entries one by one must not
			// take many times more.
			if limit := uint64(12*len(c.body)) + 64<<20; alloc > limit && c.status == 413 {
				t.Errorf("%d bytes allocated for a %d-byte batch refused at once", alloc, len(c.body))
			}
			if rec.calls() != 0 {
				t.Error("something was ingested")
			}
		})
	}
}

// TestBatchRefusedAtTheFirstEntryOverTheLimit: entries past
// max_batch_events are not even read, so their syntax does not matter.
func TestBatchRefusedAtTheFirstEntryOverTheLimit(t *testing.T) {
	src, rec := newTestSource(t, func(c *SourceConfig) { c.MaxBatchEvents = 2 })
	body := "[" + structuredEvent("1", 1) + "," + structuredEvent("2", 1) + "," + structuredEvent("3", 1) + ", this is not JSON"
	p := readProblem(t, serve(src, post(body, "Content-Type", MediaBatch)), 413)
	if !strings.Contains(p.Detail, "max_batch_events") || !strings.Contains(p.Detail, "may hold 2 events") {
		t.Errorf("detail %q", p.Detail)
	}
	if rec.calls() != 0 {
		t.Error("something was ingested")
	}
}

// TestBatchSyntax: what the scan of the array refuses.
func TestBatchSyntax(t *testing.T) {
	for _, body := range []string{`{}`, `"x"`, `[{}`, `[] []`, `[{},]`, `[1 2]`} {
		src, _ := newTestSource(t, nil)
		p := readProblem(t, serve(src, post(body, "Content-Type", MediaBatch)), 400)
		if p.Code != "invalid-batch" {
			t.Errorf("%s: code %q", body, p.Code)
		}
	}
	src, rec := newTestSource(t, nil)
	wantAccepted(t, serve(src, post(" [ "+structuredEvent("1", 1)+" ] \n", "Content-Type", MediaBatch)), rec, 1)
}
