package event

import "testing"

// FromBinary refuses attribute values that are not UTF-8: the JSON format
// would replace their bytes, changing the event (its id, say) on the way
// into the bus.
func TestFromBinaryRefusesInvalidUTF8(t *testing.T) {
	attrs := map[string]string{"specversion": "1.0", "id": "\x80", "source": "/s", "type": "t", "ext": "ok"}
	_, err := FromBinary(attrs, "", nil)
	if f := Fields(err); len(f) != 1 || f[0].Field != "id" {
		t.Fatalf("got %v", err)
	}
	if _, err := FromBinary(map[string]string{"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}, "text/plain; x=\xff", nil); err == nil {
		t.Fatal("content type with invalid UTF-8 accepted")
	}
}
