package bus

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDeadLettersStore(t *testing.T) {
	b := openTestBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	write := func(rule, target, key string) {
		t.Helper()
		d := &DeadLetter{Delivery: sampleDelivery(), Reason: "exhausted"}
		d.Rule, d.Target, d.Key, d.MsgID = rule, target, key, key+".d"
		if _, err := b.js.PublishMsg(ctx, d.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	write("r1", "a", "k1")
	write("r2", "a", "k2")
	write("r1", "b", "k3")
	dl := b.DeadLetters()

	var keys []string
	for seq := uint64(0); ; {
		l, err := dl.Next(ctx, "r1", "", seq)
		if errors.Is(err, ErrNoLetter) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		keys, seq = append(keys, l.Key), l.Seq+1
	}
	if len(keys) != 2 || keys[0] != "k1" || keys[1] != "k3" {
		t.Fatalf("letters of r1: %v", keys)
	}
	if l, err := dl.Next(ctx, "r1", "b", 0); err != nil || l.Key != "k3" || l.Seq != 3 || l.Reason != "exhausted" {
		t.Fatalf("next of r1/b: %+v, %v", l, err)
	}
	if _, err := dl.Get(ctx, "r2", 1); !errors.Is(err, ErrNoLetter) {
		t.Fatalf("letter 1 read as r2's: %v", err)
	}
	counts, err := dl.Counts(ctx, "")
	if err != nil || counts[DLQSubject("r1", "a")] != 1 || counts[DLQSubject("r1", "b")] != 1 || counts[DLQSubject("r2", "a")] != 1 {
		t.Fatalf("counts %v, %v", counts, err)
	}

	l, err := dl.Get(ctx, "r1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := dl.Redrive(ctx, l); err != nil {
		t.Fatal(err)
	}
	if _, err := dl.Get(ctx, "r1", 1); !errors.Is(err, ErrNoLetter) {
		t.Fatalf("redriven letter still there: %v", err)
	}
	m := lastMsg(t, b, StreamRetry)
	r := DecodeRetry(m.Header, m.Data)
	if m.Subject != RetrySubject("r1", "a") || r.Key != "rd1.k1" || r.Attempts != 0 || r.NotBefore.IsZero() {
		t.Fatalf("redriven to %s as %+v", m.Subject, r)
	}

	n, err := dl.Purge(ctx, "r1", "")
	if err != nil || n != 1 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if last, err := dl.LastSeq(ctx); err != nil || last != 3 {
		t.Fatalf("last seq %d, %v", last, err)
	}
	if _, err := dl.Next(ctx, "r2", "", 0); err != nil {
		t.Fatalf("r2's letter purged with r1's: %v", err)
	}
}
