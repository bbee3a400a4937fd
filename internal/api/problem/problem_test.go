package problem

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestWriteBoundsTheDocument: however many field errors and however long
// a detail a handler hands over, the answer stays small and says what it
// left out.
func TestWriteBoundsTheDocument(t *testing.T) {
	p := New(InvalidBatch, strings.Repeat("é", 100000))
	for i := 0; i < 100000; i++ {
		p.WithErrors(FieldError{Index: &i, Field: "id", Reason: "missing: a CloudEvent needs a non-empty id"})
	}
	w := httptest.NewRecorder()
	p.Write(w, httptest.NewRequest("POST", "/events", nil))
	if n := w.Body.Len(); n > 64<<10 {
		t.Fatalf("the document is %d bytes", n)
	}
	var got Problem
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Errors) != MaxErrors || got.ErrorsOmitted != 100000-MaxErrors {
		t.Errorf("%d errors, %d omitted; want %d and %d", len(got.Errors), got.ErrorsOmitted, MaxErrors, 100000-MaxErrors)
	}
	if *got.Errors[0].Index != 0 || *got.Errors[MaxErrors-1].Index != MaxErrors-1 {
		t.Error("the errors kept are not the first ones")
	}
	if len(got.Detail) > MaxDetail+8 || !strings.HasPrefix(got.Detail, "éé") {
		t.Errorf("detail of %d bytes: %.20q", len(got.Detail), got.Detail)
	}
}

// TestWriteKeepsSmallDocuments: under the limits nothing changes and no
// errors_omitted member appears.
func TestWriteKeepsSmallDocuments(t *testing.T) {
	p := New(InvalidEvent, "bad")
	for i := 0; i < MaxErrors; i++ {
		p.WithErrors(FieldError{Field: "x" + strconv.Itoa(i), Reason: "r"})
	}
	w := httptest.NewRecorder()
	p.Write(w, nil)
	if strings.Contains(w.Body.String(), "errors_omitted") {
		t.Error("errors_omitted written with nothing omitted")
	}
	var got Problem
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || len(got.Errors) != MaxErrors || got.Detail != "bad" {
		t.Errorf("%v: %+v", err, got)
	}
}
