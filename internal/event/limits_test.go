package event

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

func TestLimitsCheckEvent(t *testing.T) {
	l := Limits{MaxExtensions: 3, MaxExtensionBytes: 20}
	e := ce.New()
	e.SetExtension("intext", 12345) // counted as "12345"
	if err := l.CheckEvent(&e); err != nil {
		t.Fatalf("within the limits: %v", err)
	}
	e.SetExtension("b", strings.Repeat("v", 10))
	if err := l.CheckEvent(&e); !errors.Is(err, ErrExtensionsTooLarge) {
		t.Fatalf("22 bytes: %v", err)
	}
	f := ce.New()
	for i := range 4 {
		f.SetExtension(fmt.Sprintf("x%d", i), "v")
	}
	var le *LimitError
	if err := l.CheckEvent(&f); !errors.Is(err, ErrTooManyExtensions) || !errors.As(err, &le) || le.Got != 4 || le.Entry != -1 {
		t.Fatalf("4 extensions: %v", err)
	}
	if err := (Limits{}).CheckEvent(&f); err != nil {
		t.Fatalf("no limits: %v", err)
	}
}
