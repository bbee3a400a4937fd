package stdwebhooks_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/pkg/stdwebhooks"
)

// A receiver of eventbridge's signed webhooks: the handler reads the body
// (bounded), verifies it with the secrets it knows, and refuses what does
// not verify.
func ExampleVerifier() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	v, err := stdwebhooks.NewVerifier([]string{secret})
	if err != nil {
		panic(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		if err := v.Verify(r.Header, body); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Println("accepted", r.Header.Get(stdwebhooks.HeaderID))
	})

	// What the bridge sends, made here by a Signer.
	s, _ := stdwebhooks.NewSigner(secret)
	body := `{"specversion":"1.0","id":"1","source":"/x","type":"t"}`
	req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
	s.SetHeaders(req.Header, "evt_1", time.Now(), []byte(body))
	h.ServeHTTP(httptest.NewRecorder(), req)

	forged := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
	s.SetHeaders(forged.Header, "evt_1", time.Now(), []byte(`{"other":"body"}`))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, forged)
	fmt.Println(rec.Code)
	// Output:
	// accepted evt_1
	// 401
}
