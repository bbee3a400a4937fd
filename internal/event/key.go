package event

import (
	"crypto/sha256"
	"encoding/base64"
)

// DedupKey returns the bus message id for the pair (source, id): two events
// with the same pair have the same key, and different pairs never collide in
// practice. The pair is length-prefixed before hashing, so no choice of
// separator can make ("a:b","c") and ("a","b:c") collide.
func DedupKey(source, id string) string {
	h := sha256.New()
	var n [8]byte
	l := uint64(len(source))
	for i := range n {
		n[i] = byte(l >> (8 * i))
	}
	h.Write(n[:])
	h.Write([]byte(source))
	h.Write([]byte(id))
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(h.Sum(sum[:0])[:18])
}
