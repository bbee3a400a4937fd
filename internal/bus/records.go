package bus

import (
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Delivery is what the bus keeps of one delivery of an event to one route
// (a rule and one of its targets) between attempts: the common part of a
// RetryRecord and a DeadLetter. It is carried in headers (Eb-*) beside the
// event, whose JSON form is the message body. This file is the only place
// that writes or reads those headers.
type Delivery struct {
	Rule, Target string
	// Key is the event's dedup key (Eb-Key).
	Key string
	// Attempts is the number of attempts made so far.
	Attempts int
	// FirstTry is the time of the first attempt (zero: none yet).
	FirstTry time.Time
	// Ingested is the time the event was first stored (zero: unknown).
	Ingested time.Time
	// LastStatus is the protocol status of the last attempt (0: none).
	LastStatus int
	// LastError is the error text of the last attempt. Encode replaces line
	// breaks and shortens it to 1 KiB, to fit in a header.
	LastError string
	// MsgID, when set, is the message id JetStream dedups writes by.
	MsgID string
	// Event is the event in the CloudEvents JSON format (see DecodeEvent).
	Event []byte
}

// RetryRecord is a delivery waiting in RETRY for its next attempt.
type RetryRecord struct {
	Delivery
	// NotBefore is when the next attempt is due (zero: at once).
	NotBefore time.Time
	// Order, when its Seq is set, is the event's ordering mark: its route
	// delivers the events of one key in WORK order (see RetryOrderMarks).
	Order OrderMark
}

// DeadLetter is a delivery that failed for good, kept in the DLQ.
type DeadLetter struct {
	Delivery
	// Reason says why it is dead (see the delivery package's Reason*).
	Reason string
	// TTL, when positive, is how long the letter is kept (the DLQ
	// stream's max age applies to the others). It is not read back.
	TTL time.Duration
}

// Encode builds the RETRY message of r, on its route's RETRY subject.
func (r *RetryRecord) Encode() *nats.Msg {
	m := r.Delivery.encode(RetrySubject(r.Rule, r.Target))
	if !r.NotBefore.IsZero() {
		m.Header.Set(HdrNotBefore, r.NotBefore.UTC().Format(time.RFC3339Nano))
	}
	if r.Order.Seq != 0 {
		m.Header.Set(HdrOrderKey, r.Order.Key)
		m.Header.Set(HdrOrderSeq, strconv.FormatUint(r.Order.Seq, 10))
	}
	return m
}

// DecodeRetry reads a RETRY message written by RetryRecord.Encode. Headers
// that are missing or unreadable are left zero.
func DecodeRetry(h nats.Header, data []byte) *RetryRecord {
	r := &RetryRecord{Delivery: decodeDelivery(h, data)}
	r.NotBefore = parseTime(h.Get(HdrNotBefore))
	if seq, _ := strconv.ParseUint(h.Get(HdrOrderSeq), 10, 64); seq != 0 {
		r.Order = OrderMark{Key: h.Get(HdrOrderKey), Seq: seq}
	}
	return r
}

// Encode builds the DLQ message of d, on its route's DLQ subject.
func (d *DeadLetter) Encode() *nats.Msg {
	m := d.Delivery.encode(DLQSubject(d.Rule, d.Target))
	m.Header.Set(HdrReason, d.Reason)
	if d.TTL > 0 {
		m.Header.Set(jetstream.MsgTTLHeader, d.TTL.String())
	}
	return m
}

// DecodeDeadLetter reads a DLQ message written by DeadLetter.Encode.
// Headers that are missing or unreadable are left zero.
func DecodeDeadLetter(h nats.Header, data []byte) *DeadLetter {
	return &DeadLetter{Delivery: decodeDelivery(h, data), Reason: h.Get(HdrReason)}
}

// Retry returns the RETRY record that sends d again: same route, event and
// ingest time, no attempts made, due at now, with a key of its own so that
// the writes of the new delivery are not taken for duplicates of the first
// ones. seq is the letter's sequence in the DLQ.
func (d *DeadLetter) Retry(seq uint64, now time.Time) *RetryRecord {
	id := strconv.FormatUint(seq, 10)
	return &RetryRecord{
		Delivery: Delivery{
			Rule: d.Rule, Target: d.Target, Ingested: d.Ingested, Event: d.Event,
			Key: "rd" + id + "." + d.Key, MsgID: "redrive." + id,
		},
		NotBefore: now,
	}
}

func (d *Delivery) encode(subject string) *nats.Msg {
	m := &nats.Msg{Subject: subject, Data: d.Event, Header: make(nats.Header, 10)}
	m.Header.Set(HdrContentType, ContentTypeEvent)
	m.Header.Set(HdrRule, d.Rule)
	m.Header.Set(HdrTarget, d.Target)
	if d.Key != "" {
		m.Header.Set(HdrKey, d.Key)
	}
	m.Header.Set(HdrAttempts, strconv.Itoa(d.Attempts))
	if !d.FirstTry.IsZero() {
		m.Header.Set(HdrFirstTry, d.FirstTry.UTC().Format(time.RFC3339Nano))
	}
	if !d.Ingested.IsZero() {
		m.Header.Set(HdrIngested, d.Ingested.UTC().Format(time.RFC3339Nano))
	}
	if d.LastStatus != 0 {
		m.Header.Set(HdrLastStatus, strconv.Itoa(d.LastStatus))
	}
	if d.LastError != "" {
		m.Header.Set(HdrLastError, headerSafe(d.LastError))
	}
	if d.MsgID != "" {
		m.Header.Set(jetstream.MsgIDHeader, d.MsgID)
	}
	return m
}

func decodeDelivery(h nats.Header, data []byte) Delivery {
	d := Delivery{
		Rule: h.Get(HdrRule), Target: h.Get(HdrTarget), Key: h.Get(HdrKey),
		LastError: h.Get(HdrLastError), MsgID: h.Get(jetstream.MsgIDHeader), Event: data,
		FirstTry: parseTime(h.Get(HdrFirstTry)), Ingested: parseTime(h.Get(HdrIngested)),
	}
	d.Attempts, _ = strconv.Atoi(h.Get(HdrAttempts))
	d.LastStatus, _ = strconv.Atoi(h.Get(HdrLastStatus))
	return d
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// headerSafe makes an error text fit in a NATS header value.
func headerSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\r' || c == '\n' {
			b[i] = ' '
		}
	}
	if len(b) > 1024 {
		b = append(b[:1021], "..."...)
	}
	return string(b)
}
